"""Billing API: plans, subscribing, my subscription, seats, student verification, payments,
payouts, webhooks and their staff tools. Thin: validate, call a service, serialize.

Services raise billing.errors; each carries its HTTP status and code, turned here into the
API's ``{"detail", "code"}`` answer.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from billing import plans, providers, selectors, services
from billing.errors import BillingError
from billing.models import (
    CheckoutSession,
    Payment,
    Payout,
    Refund,
    SeatInvitation,
    StudentVerification,
    Subscription,
    SubscriptionMember,
    VerificationStatus,
    WebhookEvent,
    WebhookStatus,
)


class BillingAPIError(exceptions.APIException):
    def __init__(self, error: BillingError):
        self.status_code = error.status
        super().__init__(detail=error.message, code=error.code)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


class BillingView(APIView):
    """Turns billing's service errors into API errors."""

    def handle_exception(self, exc):
        if isinstance(exc, BillingError):
            exc = BillingAPIError(exc)
        return super().handle_exception(exc)


class BillingListView(BillingView, generics.ListAPIView):
    pass


# --- serializers ----------------------------------------------------------------------------


class MoneySerializer(serializers.Serializer):
    amount = serializers.IntegerField(help_text="Minor units (paise, cents).")
    currency = serializers.CharField()


class EntitlementsSerializer(serializers.Serializer):
    plan = serializers.CharField()
    premium = serializers.BooleanField()
    max_bitrate_kbps = serializers.IntegerField()
    bitrate_choices = serializers.ListField(child=serializers.IntegerField())
    lossless = serializers.BooleanField()
    ads = serializers.BooleanField()
    skips_per_hour = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
    offline_downloads = serializers.BooleanField()
    source = serializers.CharField()

    def to_representation(self, instance):
        return instance.as_dict() if hasattr(instance, "as_dict") else instance


class PlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    summary = serializers.CharField()
    seats = serializers.IntegerField()
    premium = serializers.BooleanField()
    student = serializers.BooleanField()
    interval = serializers.CharField()
    price = MoneySerializer()
    trial_days = serializers.IntegerField()
    entitlements = EntitlementsSerializer()

    def to_representation(self, plan):
        currency = self.context.get("currency")
        return {
            "code": plan.code,
            "name": plan.name,
            "summary": plan.summary,
            "seats": plan.seats,
            "premium": plan.premium,
            "student": plan.student,
            "interval": plan.interval,
            "price": {"amount": plan.price(currency), "currency": plan.price_currency(currency)},
            "trial_days": settings.BILLING_TRIAL_DAYS if plan.premium else 0,
            "entitlements": plan.entitlements(source="own" if plan.premium else "free").as_dict(),
        }


class SubscriptionSerializer(serializers.ModelSerializer):
    plan_name = serializers.SerializerMethodField()

    class Meta:
        model = Subscription
        fields = [
            "id",
            "plan",
            "plan_name",
            "status",
            "provider",
            "amount",
            "currency",
            "interval",
            "trial_end",
            "current_period_start",
            "current_period_end",
            "cancel_at_period_end",
            "canceled_at",
            "ended_at",
            "started_at",
            "past_due_since",
        ]
        read_only_fields = fields

    def get_plan_name(self, subscription) -> str:
        return plans.get(subscription.plan).name


class PersonSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    display_name = serializers.CharField()
    email = serializers.EmailField()


class MemberSerializer(serializers.ModelSerializer):
    user = PersonSerializer(read_only=True)

    class Meta:
        model = SubscriptionMember
        fields = ["user", "joined_at"]
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    plan = serializers.CharField(source="subscription.plan", read_only=True)
    invited_by = serializers.CharField(source="invited_by.display_name", read_only=True)
    accept_url = serializers.SerializerMethodField()

    class Meta:
        model = SeatInvitation
        fields = ["id", "email", "status", "plan", "invited_by", "created_at", "accept_url"]
        read_only_fields = fields

    def get_accept_url(self, invitation) -> str | None:
        # The link is the owner's to share, and the invitee's own.
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if invitation.status != "pending" or user is None:
            return None
        if invitation.invited_by_id == user.pk or invitation.email.lower() == user.email.lower():
            return services.invitation_accept_url(invitation)
        return None


class StudentVerificationSerializer(serializers.ModelSerializer):
    user = PersonSerializer(read_only=True)

    class Meta:
        model = StudentVerification
        fields = [
            "id",
            "user",
            "institution",
            "student_email",
            "status",
            "note",
            "created_at",
            "reviewed_at",
            "expires_at",
        ]
        read_only_fields = fields


class CheckoutSerializer(serializers.ModelSerializer):
    checkout_url = serializers.CharField(source="url", read_only=True)
    payment = serializers.UUIDField(source="payment_id", read_only=True, allow_null=True)
    subscription = serializers.UUIDField(source="subscription_id", read_only=True, allow_null=True)

    class Meta:
        model = CheckoutSession
        fields = [
            "id",
            "kind",
            "provider",
            "plan",
            "trial_days",
            "status",
            "checkout_url",
            "client_params",
            "payment",
            "subscription",
            "created_at",
            "completed_at",
        ]
        read_only_fields = fields


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["id", "amount", "currency", "status", "reason", "created_at", "processed_at"]
        read_only_fields = fields


class PaymentSerializer(serializers.ModelSerializer):
    refunds = RefundSerializer(many=True, read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "purpose",
            "reference",
            "description",
            "amount",
            "currency",
            "amount_refunded",
            "status",
            "provider",
            "failure_reason",
            "created_at",
            "captured_at",
            "refunds",
        ]
        read_only_fields = fields


class PayoutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payout
        fields = ["id", "amount", "currency", "status", "provider", "created_at", "released_at"]
        read_only_fields = fields


class WebhookEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEvent
        fields = [
            "id",
            "provider",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "last_error",
            "occurred_at",
            "received_at",
            "processed_at",
            "next_attempt_at",
            "replayed_at",
        ]
        read_only_fields = fields


class WebhookEventDetailSerializer(WebhookEventSerializer):
    class Meta(WebhookEventSerializer.Meta):
        fields = [*WebhookEventSerializer.Meta.fields, "payload"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["owner", "member", "none"])
    plan = PlanSerializer()
    subscription = SubscriptionSerializer(allow_null=True)
    owner = PersonSerializer(allow_null=True)
    members = MemberSerializer(many=True)
    invitations = InvitationSerializer(many=True)
    invitations_for_me = InvitationSerializer(many=True)
    next_charge = inline_serializer(
        "NextCharge",
        fields={
            "amount": serializers.IntegerField(),
            "currency": serializers.CharField(),
            "at": serializers.DateTimeField(),
        },
        allow_null=True,
    )
    entitlements = EntitlementsSerializer()
    trial_eligible = serializers.BooleanField()
    student_verification = StudentVerificationSerializer(allow_null=True)


# --- plans and subscribing ------------------------------------------------------------------


class PlanListView(BillingView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("currency", str, description="e.g. INR, USD")],
        responses=PlanSerializer(many=True),
        operation_id="subscriptions_plans",
    )
    def get(self, request):
        """The plans and their prices (paginated like every list)."""
        currency = str(request.query_params.get("currency") or settings.BILLING_CURRENCY).upper()[
            :3
        ]
        paginator = api_settings.DEFAULT_PAGINATION_CLASS()
        page = paginator.paginate_queryset(list(plans.PLANS.values()), request, view=self)
        data = PlanSerializer(page, many=True, context={"currency": currency}).data
        return paginator.get_paginated_response(data)


class SubscribeSerializer(serializers.Serializer):
    plan = serializers.ChoiceField(choices=plans.PAID_PLAN_CHOICES)
    return_to = serializers.CharField(required=False, allow_blank=True, max_length=300)


class SubscribeView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=SubscribeSerializer,
        responses={
            201: CheckoutSerializer,
            403: OpenApiResponse(description="student_verification_required"),
            409: OpenApiResponse(description="already_subscribed or already_member"),
        },
        operation_id="subscriptions_subscribe",
    )
    def post(self, request):
        """Start a checkout for a premium plan; send the person to ``checkout_url``."""
        serializer = SubscribeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        checkout = services.subscription_checkout_start(
            user=request.user,
            plan=serializer.validated_data["plan"],
            return_to=serializer.validated_data.get("return_to", ""),
        )
        return Response(CheckoutSerializer(checkout).data, status=status.HTTP_201_CREATED)


class MeView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MeSerializer, operation_id="subscriptions_me")
    def get(self, request):
        """The caller's plan, status, next charge, seats and entitlements."""
        overview = selectors.subscription_overview(request.user)
        return Response(MeSerializer(overview, context={"request": request}).data)


class CancelView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: SubscriptionSerializer, 409: OpenApiResponse(description="not_subscribed")},
        operation_id="subscriptions_cancel",
    )
    def post(self, request):
        """Cancel at the end of the current period (premium lasts until then)."""
        subscription = services.subscription_cancel(user=request.user)
        return Response(SubscriptionSerializer(subscription).data)


class ResumeView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses=SubscriptionSerializer, operation_id="subscriptions_resume"
    )
    def post(self, request):
        """Undo a cancellation before the period ends."""
        subscription = services.subscription_resume(user=request.user)
        return Response(SubscriptionSerializer(subscription).data)


class PortalView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses=inline_serializer("PortalLink", fields={"url": serializers.URLField()}),
        operation_id="subscriptions_portal",
    )
    def post(self, request):
        """A link to manage payment methods and invoices (Stripe's billing portal)."""
        return Response({"url": services.subscription_portal_url(user=request.user)})


# --- seats ----------------------------------------------------------------------------------


class SeatListView(BillingListView):
    permission_classes = [IsAuthenticated]
    serializer_class = MemberSerializer

    @extend_schema(operation_id="subscriptions_seats_list")
    def get(self, request, *args, **kwargs):
        """The people on the caller's plan (as owner or member)."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        own = selectors.own_live_subscription(self.request.user)
        membership = None if own else selectors.membership_for(self.request.user)
        subscription = own or (membership.subscription if membership else None)
        if subscription is None:
            return SubscriptionMember.objects.none()
        return selectors.members_of(subscription)


class InviteSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class SeatInviteView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=InviteSerializer,
        responses={
            201: InvitationSerializer,
            409: OpenApiResponse(description="seat_limit_reached, no_seats, already_invited..."),
        },
        operation_id="subscriptions_seats_invite",
    )
    def post(self, request):
        """Invite someone by email to a seat on the caller's Duo or Family plan."""
        serializer = InviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        invitation = services.seat_invite(
            owner=request.user, email=serializer.validated_data["email"]
        )
        return Response(
            InvitationSerializer(invitation, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class AcceptSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=500)


class SeatAcceptView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=AcceptSerializer,
        responses={
            200: MeSerializer,
            403: OpenApiResponse(description="invitation_for_another_email"),
        },
        operation_id="subscriptions_seats_accept",
    )
    def post(self, request):
        """Take the seat of an invitation (the token from its link)."""
        serializer = AcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.seat_accept(user=request.user, token=serializer.validated_data["token"])
        overview = selectors.subscription_overview(request.user)
        return Response(MeSerializer(overview, context={"request": request}).data)


class SeatLeaveView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, operation_id="subscriptions_seats_leave")
    def post(self, request):
        """Leave the plan the caller listens on."""
        services.seat_leave(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SeatRemoveView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None}, operation_id="subscriptions_seats_remove")
    def delete(self, request, user_id):
        """The owner removes a member from their plan."""
        services.seat_remove(owner=request.user, member_user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SeatRemovePostView(BillingView):
    """The same as ``DELETE /api/subscriptions/seats/{user_id}``, for clients that only POST."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses={204: None}, operation_id="subscriptions_seats_remove_post"
    )
    def post(self, request, user_id):
        """The owner removes a member from their plan."""
        services.seat_remove(owner=request.user, member_user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationListView(BillingListView):
    permission_classes = [IsAuthenticated]
    serializer_class = InvitationSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("for", str, enum=["me"], description="me: invitations to the caller")
        ],
        operation_id="subscriptions_invitations_list",
    )
    def get(self, request, *args, **kwargs):
        """Pending invitations the caller sent, or (``?for=me``) received."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        user = self.request.user
        if self.request.query_params.get("for") == "me":
            return selectors.invitations_for(user)
        own = selectors.own_live_subscription(user)
        if own is None:
            return SeatInvitation.objects.none()
        return selectors.pending_invitations_of(own).select_related("subscription", "invited_by")


class InvitationRevokeView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None, responses={204: None}, operation_id="subscriptions_invitations_revoke"
    )
    def delete(self, request, invitation_id):
        services.invitation_revoke(owner=request.user, invitation_id=invitation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the student price ----------------------------------------------------------------------


class StudentRequestSerializer(serializers.Serializer):
    institution = serializers.CharField(max_length=200)
    student_email = serializers.EmailField(max_length=254, required=False, allow_blank=True)


class StudentVerificationView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=StudentVerificationSerializer, operation_id="subscriptions_student_get"
    )
    def get(self, request):
        """The caller's latest student verification request."""
        verification = selectors.student_verification_latest(request.user)
        if verification is None:
            raise exceptions.NotFound("You have not asked for the student price.")
        return Response(StudentVerificationSerializer(verification).data)

    @extend_schema(
        request=StudentRequestSerializer,
        responses={201: StudentVerificationSerializer},
        operation_id="subscriptions_student_request",
    )
    def post(self, request):
        """Ask for the student price; staff review the request."""
        serializer = StudentRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verification = services.student_verification_request(
            user=request.user, **serializer.validated_data
        )
        return Response(
            StudentVerificationSerializer(verification).data, status=status.HTTP_201_CREATED
        )


class StudentVerificationStaffListView(BillingListView):
    permission_classes = [IsAdminUser]
    serializer_class = StudentVerificationSerializer

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=list(VerificationStatus.values))],
        operation_id="subscriptions_student_verifications_list",
    )
    def get(self, request, *args, **kwargs):
        """Staff: student verification requests (oldest first)."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        wanted = self.request.query_params.get("status")
        return selectors.student_verifications_for_staff(
            status=wanted if wanted in VerificationStatus.values else None
        )


class ReviewSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class StudentVerificationReviewView(BillingView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=ReviewSerializer,
        responses=StudentVerificationSerializer,
        operation_id="subscriptions_student_verifications_review",
    )
    def post(self, request, verification_id, action):
        """Staff: approve or reject a student verification request."""
        serializer = ReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verification = services.student_verification_review(
            verification_id=verification_id,
            reviewer=request.user,
            approve=action == "approve",
            note=serializer.validated_data.get("note", ""),
        )
        return Response(StudentVerificationSerializer(verification).data)


# --- payments, payouts ----------------------------------------------------------------------


class CheckoutDetailView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CheckoutSerializer, operation_id="billing_checkouts_retrieve")
    def get(self, request, checkout_id):
        """How a checkout the caller started stands (for the return page and apps)."""
        checkout = CheckoutSession.objects.filter(pk=checkout_id, user=request.user).first()
        if checkout is None:
            raise exceptions.NotFound()
        return Response(CheckoutSerializer(checkout).data)


class PaymentListView(BillingListView):
    permission_classes = [IsAuthenticated]
    serializer_class = PaymentSerializer

    @extend_schema(operation_id="billing_payments_list")
    def get(self, request, *args, **kwargs):
        """The caller's payments (staff: everyone's), newest first."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user
            return Payment.objects.none()
        return selectors.payments_visible_to(self.request.user).prefetch_related("refunds")


class PaymentDetailView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PaymentSerializer, operation_id="billing_payments_retrieve")
    def get(self, request, payment_id):
        payment = (
            selectors.payments_visible_to(request.user)
            .prefetch_related("refunds")
            .filter(pk=payment_id)
            .first()
        )
        if payment is None:
            raise exceptions.NotFound()
        return Response(PaymentSerializer(payment).data)


class RefundRequestSerializer(serializers.Serializer):
    amount = serializers.IntegerField(
        min_value=1, required=False, help_text="Default: all that is left."
    )
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    idempotency_key = serializers.CharField(max_length=200, required=False)


class PaymentRefundView(BillingView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=RefundRequestSerializer,
        responses={201: RefundSerializer, 409: OpenApiResponse(description="not_captured...")},
        operation_id="billing_payments_refund",
    )
    def post(self, request, payment_id):
        """Staff: refund a captured payment in full or in part."""
        serializer = RefundRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        payment = Payment.objects.filter(pk=payment_id).first()
        if payment is None:
            raise exceptions.NotFound()
        refund = services.payment_refund(
            payment=payment,
            amount=data.get("amount"),
            reason=data.get("reason", ""),
            idempotency_key=data.get("idempotency_key"),
            requested_by=request.user,
        )
        return Response(RefundSerializer(refund).data, status=status.HTTP_201_CREATED)


class PayoutListView(BillingListView):
    permission_classes = [IsAuthenticated]
    serializer_class = PayoutSerializer

    @extend_schema(operation_id="billing_payouts_list")
    def get(self, request, *args, **kwargs):
        """The caller's payouts (staff: everyone's)."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payout.objects.none()
        return selectors.payouts_visible_to(self.request.user)


class BalanceView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer("Balances", fields={"payable": MoneySerializer(many=True)}),
        operation_id="billing_balance",
    )
    def get(self, request):
        """What the platform owes the caller (a musician), per currency."""
        balances = selectors.payable_balances(request.user)
        return Response(
            {
                "payable": [
                    {"amount": amount, "currency": currency}
                    for currency, amount in sorted(balances.items())
                ]
            }
        )


# --- webhooks -------------------------------------------------------------------------------


class WebhookView(BillingView):
    """Where providers post their events. The signature is checked on the raw body."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    parser_classes: list = []

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        responses={
            200: inline_serializer(
                "WebhookReceipt",
                fields={
                    "id": serializers.UUIDField(),
                    "status": serializers.ChoiceField(choices=WebhookStatus.values),
                    "duplicate": serializers.BooleanField(),
                },
            ),
            400: OpenApiResponse(description="invalid_signature, stale_signature, malformed"),
            404: OpenApiResponse(description="Unknown or unconfigured provider"),
            413: OpenApiResponse(description="Body too large"),
            415: OpenApiResponse(description="Not JSON"),
        },
        operation_id="billing_webhooks_receive",
    )
    def post(self, request, provider):
        """Receive one provider event (stored once, processed in a transaction)."""
        if provider not in providers.NAMES:
            raise exceptions.NotFound("Unknown payment provider.", code="unknown_provider")
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > settings.BILLING_WEBHOOK_MAX_BYTES:
            raise PayloadTooLarge()
        if (request.content_type or "").split(";")[0].strip() != "application/json":
            raise exceptions.UnsupportedMediaType(request.content_type or "none")
        try:
            body = request.body
        except RequestDataTooBig:
            raise PayloadTooLarge() from None
        if len(body) > settings.BILLING_WEBHOOK_MAX_BYTES:
            raise PayloadTooLarge()
        event, created = services.webhook_receive(
            provider=provider, body=body, headers=request.headers
        )
        return Response({"id": event.pk, "status": event.status, "duplicate": not created})


class WebhookEventListView(BillingListView):
    permission_classes = [IsAdminUser]
    serializer_class = WebhookEventSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=list(WebhookStatus.values)),
            OpenApiParameter("provider", str, enum=list(providers.NAMES)),
        ],
        operation_id="billing_webhook_events_list",
    )
    def get(self, request, *args, **kwargs):
        """Staff: stored webhook events, newest first."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        queryset = WebhookEvent.objects.defer("payload")
        wanted = self.request.query_params.get("status")
        if wanted in WebhookStatus.values:
            queryset = queryset.filter(status=wanted)
        provider = self.request.query_params.get("provider")
        if provider in providers.NAMES:
            queryset = queryset.filter(provider=provider)
        return queryset


class WebhookEventDetailView(BillingView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        responses=WebhookEventDetailSerializer, operation_id="billing_webhook_events_retrieve"
    )
    def get(self, request, event_id):
        event = WebhookEvent.objects.filter(pk=event_id).first()
        if event is None:
            raise exceptions.NotFound()
        return Response(WebhookEventDetailSerializer(event).data)


class WebhookReplayView(BillingView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        request=None, responses=WebhookEventSerializer, operation_id="billing_webhook_events_replay"
    )
    def post(self, request, event_id):
        """Staff: process a stored event again (safe: processing is idempotent)."""
        event = services.webhook_replay(event_id=event_id, actor=request.user)
        return Response(WebhookEventSerializer(event).data)
