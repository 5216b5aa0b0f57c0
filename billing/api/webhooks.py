"""Where providers post their events, and the staff's tools to inspect and replay them."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response

from billing import providers, services
from billing.api.base import BillingListView, BillingView, PayloadTooLarge
from billing.models import WebhookEvent, WebhookStatus


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
