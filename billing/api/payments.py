"""Checkouts, payments and refunds."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response

from billing import selectors, services
from billing.api.base import BillingListView, BillingView
from billing.api.serializers import CheckoutSerializer
from billing.models import CheckoutSession, Payment, Refund


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
