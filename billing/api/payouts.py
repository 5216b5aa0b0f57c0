"""What the platform owes a musician and what it paid out."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from billing import selectors
from billing.api.base import BillingListView, BillingView
from billing.api.serializers import MoneySerializer
from billing.models import Payout


class PayoutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payout
        fields = ["id", "amount", "currency", "status", "provider", "created_at", "released_at"]
        read_only_fields = fields


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
