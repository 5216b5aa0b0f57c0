"""What the platform owes a musician, where it pays them, and what it paid out.

- ``GET|PUT|DELETE /api/billing/payout-account``: the caller's payout account;
- ``GET /api/billing/payouts/summary``: payable, on hold, available, in transit, paid out;
- ``GET /api/billing/payouts`` (``?status=``) and ``/api/billing/payouts/{id}``: each payout;
- ``GET /api/billing/balance``: the payable per currency.

The rules live in billing.services.payouts and billing.selectors; the payouts page asks the
same functions.
"""

from django.conf import settings
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from billing import providers, selectors
from billing.api.base import BillingListView, BillingView
from billing.api.serializers import MoneySerializer
from billing.errors import NotFound
from billing.models import Payout, PayoutStatus
from billing.services import payouts


class PayoutSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payout
        fields = [
            "id",
            "musician",
            "amount",
            "currency",
            "status",
            "provider",
            "destination",
            "provider_transfer_id",
            "attempts",
            "next_attempt_at",
            "failure_reason",
            "created_at",
            "paid_at",
            "failed_at",
        ]
        read_only_fields = fields


class PayoutAccountSerializer(serializers.Serializer):
    provider = serializers.CharField(
        max_length=16, help_text=f"One of {', '.join(providers.NAMES)} (as configured here)."
    )
    account_id = serializers.CharField(
        max_length=100,
        help_text="sandbox: sbx_..., Razorpay Route linked account: acc_ and 14 letters or "
        "digits, Stripe Connect account: acct_...",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    payouts_paused = serializers.SerializerMethodField(
        help_text="True after a payout failed for good, until the account is saved again."
    )

    def get_payouts_paused(self, account) -> bool:
        return selectors.payout_paused_by(account) is not None


class PayoutAccountView(BillingView):
    permission_classes = [IsAuthenticated]

    def _account(self, request):
        account = selectors.payout_account_of(request.user)
        if account is None:
            raise NotFound("You have no payout account.", code="no_payout_account")
        return account

    @extend_schema(
        responses={200: PayoutAccountSerializer, 404: OpenApiResponse(description="none yet")},
        operation_id="billing_payout_account_retrieve",
    )
    def get(self, request):
        """Where the caller's payouts go."""
        return Response(PayoutAccountSerializer(self._account(request)).data)

    @extend_schema(
        request=PayoutAccountSerializer,
        responses={
            200: PayoutAccountSerializer,
            400: OpenApiResponse(
                description="invalid_provider, provider_unavailable, invalid_account_id"
            ),
            403: OpenApiResponse(description="not_musician"),
        },
        operation_id="billing_payout_account_update",
    )
    def put(self, request):
        """Set where the caller's payouts go (musicians). Saving it again resumes payouts that
        a failed payout paused."""
        serializer = PayoutAccountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = payouts.payout_account_set(
            user=request.user,
            provider=serializer.validated_data["provider"],
            account_id=serializer.validated_data["account_id"],
        )
        return Response(PayoutAccountSerializer(account).data)

    @extend_schema(
        responses={204: None, 404: OpenApiResponse(description="no_payout_account")},
        operation_id="billing_payout_account_destroy",
    )
    def delete(self, request):
        """Remove the caller's payout account: no payouts until a new one is set."""
        payouts.payout_account_delete(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PayoutFiguresSerializer(serializers.Serializer):
    currency = serializers.CharField()
    payable = serializers.IntegerField(help_text="Owed to the musician: on_hold + available.")
    on_hold = serializers.IntegerField(help_text="Released less than the hold period ago.")
    available = serializers.IntegerField(help_text="Past its hold: the next payout takes it.")
    in_transit = serializers.IntegerField(help_text="In payouts being made.")
    paid_out = serializers.IntegerField(help_text="In paid payouts.")
    next_release_at = serializers.DateTimeField(allow_null=True)


class PayoutSummaryView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "PayoutSummary",
            fields={
                "hold_days": serializers.IntegerField(),
                "currencies": PayoutFiguresSerializer(many=True),
                "paused_by": serializers.UUIDField(
                    allow_null=True, help_text="The failed payout that pauses payouts."
                ),
            },
        ),
        operation_id="billing_payouts_summary",
    )
    def get(self, request):
        """The caller's money, per currency (minor units): payable, on hold, available,
        in transit, paid out."""
        paused_by = selectors.payout_paused_by(selectors.payout_account_of(request.user))
        return Response(
            {
                "hold_days": settings.BILLING_PAYOUT_HOLD_DAYS,
                "currencies": PayoutFiguresSerializer(
                    selectors.payout_figures(request.user), many=True
                ).data,
                "paused_by": paused_by.pk if paused_by else None,
            }
        )


class PayoutListView(BillingListView):
    permission_classes = [IsAuthenticated]
    serializer_class = PayoutSerializer

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=list(PayoutStatus.values))],
        operation_id="billing_payouts_list",
    )
    def get(self, request, *args, **kwargs):
        """The caller's payouts, newest first (staff: everyone's; ``?status=failed`` lists
        the ones to look into)."""
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Payout.objects.none()
        queryset = selectors.payouts_visible_to(self.request.user)
        wanted = self.request.query_params.get("status")
        if wanted is not None:
            if wanted not in PayoutStatus.values:
                raise exceptions.ValidationError(
                    {"status": [f"Choose one of: {', '.join(PayoutStatus.values)}."]}
                )
            queryset = queryset.filter(status=wanted)
        return queryset


class PayoutDetailView(BillingView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PayoutSerializer, operation_id="billing_payouts_retrieve")
    def get(self, request, payout_id):
        payout = selectors.payouts_visible_to(request.user).filter(pk=payout_id).first()
        if payout is None:
            raise exceptions.NotFound()
        return Response(PayoutSerializer(payout).data)


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
