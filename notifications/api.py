"""Notifications API: the person's own notifications (paginated), read marks, preferences."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView, RetrieveAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import catalogue, selectors, services
from notifications.models import Channel, Notification


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "event", "title", "body", "link", "created_at", "read_at", "is_read"]
        read_only_fields = fields


class PreferenceChannelSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    label = serializers.CharField()
    enabled = serializers.BooleanField()
    locked = serializers.BooleanField(help_text="Critical: cannot be turned off.")
    available = serializers.BooleanField(
        help_text="False for SMS and WhatsApp until the phone number is verified."
    )


class PreferenceEventSerializer(serializers.Serializer):
    event = serializers.CharField()
    label = serializers.CharField()
    group = serializers.CharField()
    critical = serializers.BooleanField()
    channels = PreferenceChannelSerializer(many=True)


class PreferencesSerializer(serializers.Serializer):
    events = PreferenceEventSerializer(many=True)


class PreferenceChangeSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=sorted(catalogue.EVENTS))
    channel = serializers.ChoiceField(choices=Channel.choices)
    enabled = serializers.BooleanField()


class PreferencesUpdateSerializer(serializers.Serializer):
    preferences = PreferenceChangeSerializer(many=True, allow_empty=False, max_length=200)


UNREAD_PARAMETER = OpenApiParameter(
    "unread", OpenApiTypes.BOOL, description="Only the unread ones.", required=False
)
ID_PARAMETER = OpenApiParameter(
    "notification_id", OpenApiTypes.UUID, location=OpenApiParameter.PATH
)


def _own_notification(request, notification_id) -> Notification:
    try:
        return selectors.notification_get(user=request.user, notification_id=notification_id)
    except Notification.DoesNotExist:
        raise exceptions.NotFound() from None


@extend_schema_view(
    get=extend_schema(parameters=[UNREAD_PARAMETER], operation_id="notifications_list")
)
class NotificationListView(ListAPIView):
    """The caller's notifications, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = NotificationSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Notification.objects.none()
        unread_only = self.request.query_params.get("unread", "").lower() in ("1", "true", "yes")
        return selectors.notifications_for(user=self.request.user, unread_only=unread_only)


@extend_schema_view(
    get=extend_schema(parameters=[ID_PARAMETER], operation_id="notifications_retrieve")
)
class NotificationDetailView(RetrieveAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = NotificationSerializer

    def get_object(self):
        return _own_notification(self.request, self.kwargs["notification_id"])


class NotificationReadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses=NotificationSerializer,
        parameters=[ID_PARAMETER],
        operation_id="notifications_mark_read",
    )
    def post(self, request, notification_id):
        """Mark one notification read (404 if it is not the caller's)."""
        try:
            notification = services.notification_mark_read(
                user=request.user, notification_id=notification_id
            )
        except Notification.DoesNotExist:
            raise exceptions.NotFound() from None
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses=inline_serializer("MarkedRead", fields={"marked": serializers.IntegerField()}),
        operation_id="notifications_mark_all_read",
    )
    def post(self, request):
        """Mark all the caller's notifications read; answers how many were unread."""
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})


class UnreadCountView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer("UnreadCount", fields={"unread": serializers.IntegerField()}),
        operation_id="notifications_unread_count",
    )
    def get(self, request):
        return Response({"unread": selectors.unread_count(user=request.user)})


class PreferencesView(APIView):
    """Which events reach the caller on which channel. Critical account mail is locked on."""

    permission_classes = [IsAuthenticated]

    def _document(self, request):
        return Response({"events": selectors.preference_matrix(user=request.user)})

    @extend_schema(responses=PreferencesSerializer, operation_id="notifications_preferences")
    def get(self, request):
        return self._document(request)

    @extend_schema(
        request=PreferencesUpdateSerializer,
        responses=PreferencesSerializer,
        operation_id="notifications_preferences_update",
    )
    def put(self, request):
        return self._update(request)

    @extend_schema(
        request=PreferencesUpdateSerializer,
        responses=PreferencesSerializer,
        operation_id="notifications_preferences_partial_update",
    )
    def patch(self, request):
        return self._update(request)

    def _update(self, request):
        """Only the listed (event, channel) pairs change; the others keep their value."""
        serializer = PreferencesUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = [
            (item["event"], item["channel"], item["enabled"])
            for item in serializer.validated_data["preferences"]
        ]
        try:
            services.preferences_update(user=request.user, changes=changes)
        except services.PreferenceError as error:
            raise serializers.ValidationError(
                {"preferences": [serializers.ErrorDetail(error.messages[0], code=error.code)]}
            ) from None
        return self._document(request)
