"""Drafts (versions with their previews), the finals (delivery) and their downloads."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from orders import selectors, services
from orders.api.base import TRANSITION_CONFLICT, OrdersView, visible_order, visible_order_and_input
from orders.models import Delivery, RevisionRequest, Version


class VersionSerializer(serializers.ModelSerializer):
    feedback = serializers.CharField(
        read_only=True, help_text="The customer's feedback this version answers (none for v1)."
    )
    preview_url = serializers.SerializerMethodField(
        help_text="A short-lived link, issued to you, to the watermarked preview (whoever holds "
        "it may play it until it expires)."
    )
    original_url = serializers.SerializerMethodField(
        help_text="The musician's own upload: for the musician and staff only."
    )
    duration = serializers.FloatField(source="asset.duration", read_only=True)

    class Meta:
        model = Version
        fields = [
            "number",
            "status",
            "note",
            "feedback",
            "failure_reason",
            "duration",
            "preview_url",
            "original_url",
            "created_at",
            "ready_at",
        ]
        read_only_fields = fields

    def _user(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_preview_url(self, version) -> str | None:
        user = self._user()
        if user is None:
            return None
        return services.version_preview_url(version=version, user=user)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_original_url(self, version) -> str | None:
        user = self._user()
        if user is None:
            return None
        return services.version_original_url(version=version, user=user)


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = ["number", "status", "failure_reason", "created_at", "ready_at"]
        read_only_fields = fields


class RevisionRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = RevisionRequest
        fields = ["id", "feedback", "included", "status", "response_note", "created_at"]
        read_only_fields = fields


class AudioUploadSerializer(serializers.Serializer):
    audio = serializers.FileField(help_text="MP3, WAV, FLAC, M4A/AAC or Ogg; at most 50 MB.")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class VersionsView(OrdersView, generics.ListAPIView):
    """The drafts of an order (GET, paginated like every list), and the musician's upload of
    the next one (POST)."""

    permission_classes = [IsAuthenticated]
    serializer_class = VersionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Version.objects.none()
        order = visible_order(self.request, self.kwargs["order_id"])
        return selectors.versions_of(order)

    @extend_schema(operation_id="orders_versions_list")
    def get(self, request, *args, **kwargs):
        """Every version, oldest first, with a fresh signed link to each ready preview."""
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": AudioUploadSerializer},
        responses={202: VersionSerializer, 409: TRANSITION_CONFLICT},
        operation_id="orders_versions_create",
    )
    def post(self, request, order_id):
        """The musician uploads a draft: it becomes the next version, processed in the
        background; the order goes to review when its watermarked preview is ready."""
        order, data = visible_order_and_input(request, order_id, AudioUploadSerializer)
        version = services.version_upload(
            order=order, musician=request.user, upload=data["audio"], note=data.get("note", "")
        )
        body = VersionSerializer(version, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class DeliverView(OrdersView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request={"multipart/form-data": AudioUploadSerializer},
        responses={202: DeliverySerializer, 409: TRANSITION_CONFLICT},
        operation_id="orders_deliver",
    )
    def post(self, request, order_id):
        """The musician uploads the finals of an approved order. They are normalised into
        MP3, WAV and FLAC and checked; when they pass the order is delivered."""
        order, data = visible_order_and_input(request, order_id, AudioUploadSerializer)
        delivery = services.delivery_upload(
            order=order, musician=request.user, upload=data["audio"]
        )
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DownloadSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["mp3", "wav", "flac"])
    url = serializers.CharField()
    expires_at = serializers.DateTimeField()
    size = serializers.IntegerField(help_text="Bytes.")
    content_type = serializers.CharField()


class DownloadsView(OrdersView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: DownloadSerializer(many=True)}, operation_id="orders_downloads")
    def get(self, request, order_id):
        """Expiring signed links to the finals, issued anew on every call (409 until the
        balance is paid)."""
        order = visible_order(request, order_id)
        links = services.order_downloads(order=order, user=request.user)
        return Response(DownloadSerializer(links, many=True).data)
