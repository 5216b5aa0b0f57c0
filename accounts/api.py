"""Auth and profile API: register, log in/out with tokens, read and edit one's profile."""

from django.contrib.auth import logout
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from knox.models import AuthToken
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import exceptions, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import services
from accounts.models import AudioQuality, User
from accounts.net import client_ip
from accounts.selectors import avatar_path
from accounts.validators import PHONE_NUMBER_INVALID


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The upload is too large."
    default_code = "file_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class UnsupportedMedia(exceptions.APIException):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    default_detail = "This kind of file is not supported."
    default_code = "unsupported_media"


def _raise_upload_error(error: DjangoValidationError):
    message = error.messages[0]
    if error.code == "file_too_large":
        raise PayloadTooLarge(message)
    if error.code in ("invalid_image", "unsupported_image_format"):
        raise UnsupportedMedia(message, code=error.code)
    raise serializers.ValidationError({"avatar": [message]}, code=error.code)


class UserSerializer(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True)
    avatar_url = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "role", "is_staff", "avatar_url", "date_joined"]
        read_only_fields = fields

    def get_avatar_url(self, user) -> str | None:
        path = avatar_path(user)
        request = self.context.get("request")
        return request.build_absolute_uri(path) if path and request else path


class RegisterSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    display_name = serializers.CharField(max_length=80)
    role = serializers.ChoiceField(choices=["listener", "musician"], default="listener")


class LoginSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class ProfileSerializer(UserSerializer):
    # A plain FileField: the image checks (and their 413/415 answers) live in one validator.
    avatar = serializers.FileField(write_only=True, required=False, allow_null=True)
    preferred_audio_quality = serializers.ChoiceField(choices=AudioQuality.choices, required=False)
    offline_mode = serializers.BooleanField(required=False)
    # The same check as the model field the profile page's form is made from (libphonenumber,
    # international format), in the same words; stored as E.164.
    phone_number = PhoneNumberField(
        required=False, allow_blank=True, error_messages={"invalid": PHONE_NUMBER_INVALID}
    )

    class Meta(UserSerializer.Meta):
        fields = [
            *UserSerializer.Meta.fields,
            "is_musician",
            "avatar",
            "preferred_audio_quality",
            "offline_mode",
            "phone_number",
            "email_verified_at",
            "phone_verified_at",
        ]
        read_only_fields = [
            "id",
            "email",
            "role",
            "is_staff",
            "is_musician",
            "date_joined",
            "email_verified_at",
            "phone_verified_at",
        ]


_token_response = inline_serializer(
    "LoginResponse",
    fields={
        "token": serializers.CharField(),
        "expiry": serializers.DateTimeField(),
        "user": UserSerializer(),
    },
)


class RegisterView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(
        request=RegisterSerializer, responses={201: UserSerializer}, operation_id="users_register"
    )
    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            user = services.user_create(
                email=data["email"],
                password=data["password"],
                display_name=data["display_name"],
                is_musician=data["role"] == "musician",
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(
                _django_errors(error, default_field="password")
            ) from None
        return Response(UserSerializer(user, context={"request": request}).data, status=201)


def _django_errors(error: DjangoValidationError, *, default_field: str):
    """Turn a Django ValidationError into DRF errors that keep each message's code."""
    if hasattr(error, "error_dict"):
        items = error.error_dict.items()
    else:
        items = [(default_field, error.error_list)]
    return {
        field: [
            serializers.ErrorDetail(message, code=e.code or "invalid")
            for e in errors
            for message in e.messages
        ]
        for field, errors in items
    }


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=LoginSerializer,
        responses={
            200: _token_response,
            401: OpenApiResponse(description="Wrong email or password"),
            429: OpenApiResponse(description="Too many failed attempts"),
        },
        operation_id="login",
    )
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = services.login_authenticate(
                request=request,
                email=serializer.validated_data["email"],
                password=serializer.validated_data["password"],
                ip_address=client_ip(request),
            )
        except services.LoginThrottled as throttled:
            raise exceptions.Throttled(
                wait=throttled.retry_after,
                detail="Too many failed login attempts. Try again in a minute.",
            ) from None
        if user is None:
            raise exceptions.AuthenticationFailed(
                "The email or password is not right.", code="invalid_credentials"
            )
        instance, token = AuthToken.objects.create(user=user)
        return Response(
            {
                "token": token,
                "expiry": instance.expiry,
                "user": UserSerializer(user, context={"request": request}).data,
            }
        )

    def get_authenticate_header(self, request):
        return 'Token realm="api"'


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, operation_id="logout")
    def post(self, request):
        if isinstance(request.auth, AuthToken):
            services.api_token_revoke(token=request.auth)
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProfileView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses=ProfileSerializer, operation_id="profile_retrieve")
    def get(self, request):
        return Response(ProfileSerializer(request.user, context={"request": request}).data)

    @extend_schema(
        request=ProfileSerializer, responses=ProfileSerializer, operation_id="profile_update"
    )
    def put(self, request):
        return self._update(request, partial=False)

    @extend_schema(
        request=ProfileSerializer,
        responses=ProfileSerializer,
        operation_id="profile_partial_update",
    )
    def patch(self, request):
        return self._update(request, partial=True)

    def _update(self, request, *, partial: bool):
        serializer = ProfileSerializer(
            request.user, data=request.data, partial=partial, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        if "avatar" in fields and fields["avatar"] is None:
            fields["avatar"] = ""
        try:
            user = services.profile_update(user=request.user, **fields)
        except DjangoValidationError as error:
            if not hasattr(error, "error_dict"):
                _raise_upload_error(error)
            raise serializers.ValidationError(
                _django_errors(error, default_field="non_field_errors")
            ) from None
        return Response(ProfileSerializer(user, context={"request": request}).data)


# --- verification ---------------------------------------------------------------------------

_detail_response = inline_serializer(
    "VerificationSent",
    fields={"detail": serializers.CharField(), "expires_in": serializers.IntegerField()},
)


class PhoneCodeSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^\s*\d{6}\s*$", max_length=12)


def _verification_error(error: services.VerificationError, *, field: str):
    if error.code == "already_verified":
        return Conflict(error.messages[0], code=error.code)
    return serializers.ValidationError(
        {field: [serializers.ErrorDetail(error.messages[0], code=error.code)]}
    )


def _throttled(throttled: services.VerificationThrottled):
    return exceptions.Throttled(wait=throttled.retry_after, detail=str(throttled))


def _verification_sent(request, *, send, field: str, sent: str, ttl) -> Response:
    """Ask `send` for a new email link or phone code and answer 202 with where it went."""
    try:
        send(user=request.user)
    except services.VerificationError as error:
        raise _verification_error(error, field=field) from None
    except services.VerificationThrottled as throttled:
        raise _throttled(throttled) from None
    return Response(
        {
            "detail": f"We sent {sent} to {getattr(request.user, field)}.",
            "expires_in": int(ttl.total_seconds()),
        },
        status=status.HTTP_202_ACCEPTED,
    )


class EmailVerifyRequestView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            202: _detail_response,
            409: OpenApiResponse(description="Already confirmed"),
            429: OpenApiResponse(description="A link was sent less than a minute ago"),
        },
        operation_id="profile_email_verify_request",
    )
    def post(self, request):
        """Email a new link that confirms the caller's address."""
        return _verification_sent(
            request,
            send=services.email_verification_request,
            field="email",
            sent="a link",
            ttl=services.EMAIL_VERIFICATION_MAX_AGE,
        )


class PhoneVerifyRequestView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={
            202: _detail_response,
            400: OpenApiResponse(description="No phone number on the profile (no_phone)"),
            409: OpenApiResponse(description="Already verified"),
            429: OpenApiResponse(description="A code was sent less than a minute ago"),
        },
        operation_id="profile_phone_verify_request",
    )
    def post(self, request):
        """Text a 6-digit code to the phone number on the caller's profile."""
        return _verification_sent(
            request,
            send=services.phone_verification_request,
            field="phone_number",
            sent="a code",
            ttl=services.PHONE_CODE_TTL,
        )


class PhoneVerifyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PhoneCodeSerializer,
        responses={
            200: ProfileSerializer,
            400: OpenApiResponse(
                description="invalid_code, code_expired, code_used, no_code or too_many_attempts"
            ),
        },
        operation_id="profile_phone_verify",
    )
    def post(self, request):
        """Prove the caller holds their phone number with the code texted to it."""
        serializer = PhoneCodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user = services.phone_verification_confirm(
                user=request.user, code=serializer.validated_data["code"]
            )
        except services.VerificationError as error:
            raise _verification_error(error, field="code") from None
        return Response(ProfileSerializer(user, context={"request": request}).data)
