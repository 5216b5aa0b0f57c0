"""Disputes as the order shows them, and the evidence either side adds to an open one.
Opening and resolving one are transitions (orders.api.transitions)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from orders import services
from orders.api.base import OrdersView, visible_order_and_input
from orders.models import Dispute, DisputeEvidence


class DisputeEvidenceSerializer(serializers.ModelSerializer):
    author = serializers.UUIDField(source="author_id", read_only=True, allow_null=True)
    versions = serializers.SerializerMethodField()
    messages = serializers.SerializerMethodField()

    class Meta:
        model = DisputeEvidence
        fields = ["author", "text", "versions", "messages", "created_at"]
        read_only_fields = fields

    def get_versions(self, evidence) -> list[int]:
        return sorted(version.number for version in evidence.versions.all())

    def get_messages(self, evidence) -> list[int]:
        """Ids of the order's chat messages the statement points at."""
        return sorted(message.pk for message in evidence.messages.all())


class DisputeSerializer(serializers.ModelSerializer):
    opened_by = serializers.UUIDField(source="opened_by_id", read_only=True, allow_null=True)
    evidence = DisputeEvidenceSerializer(many=True, read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id",
            "opened_by",
            "reason",
            "status",
            "outcome",
            "refunded_amount",
            "released_amount",
            "resolution_note",
            "created_at",
            "resolved_at",
            "evidence",
        ]
        read_only_fields = fields


class EvidenceCreateSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    versions = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=20, required=False
    )
    messages = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        max_length=50,
        required=False,
    )


class DisputeEvidenceView(OrdersView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=EvidenceCreateSerializer,
        responses={201: DisputeEvidenceSerializer},
        operation_id="orders_dispute_evidence",
    )
    def post(self, request, order_id):
        """Either side adds a statement, and the versions and chat messages it points at, to
        the open dispute."""
        order, data = visible_order_and_input(request, order_id, EvidenceCreateSerializer)
        evidence = services.dispute_evidence_add(
            order=order,
            actor=request.user,
            text=data["text"],
            versions=data.get("versions", []),
            messages=data.get("messages", []),
        )
        return Response(DisputeEvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)
