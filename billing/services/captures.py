"""Money in: a payment's capture recorded once, and a capture asked of a provider.

``payment_capture`` posts provider -> escrow of the payment's reference (commission
milestones) or -> revenue (subscription charges) under the ledger key ``capture:<payment id>``,
so a webhook received twice, a replayed event or a retried task records nothing twice; the
payment purpose's hook runs the first time, in the same transaction.
"""

from django.db import transaction
from django.utils import timezone

from billing import hooks, providers, purposes
from billing.errors import Invalid
from billing.models import (
    PAYMENT_STATUS_RANK,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    TransactionKind,
)
from billing.services.ledger import Leg, external_code, ledger_post


def source_account(payment: Payment) -> str:
    """Where a payment's captured money sits: the escrow of its reference, or revenue."""
    purpose = purposes.get(payment.purpose)
    if purpose.escrow_scope:
        return purpose.escrow_code(payment.reference)
    return purpose.revenue_account


def payment_for_update(
    *, provider: str, provider_order_id: str = "", provider_payment_id: str = ""
):
    """The payment a provider event is about (by its order, else its payment id), locked."""
    queryset = Payment.objects.select_for_update()
    payment = None
    if provider_order_id:
        payment = queryset.filter(provider=provider, provider_order_id=provider_order_id).first()
    if payment is None and provider_payment_id:
        payment = queryset.filter(
            provider=provider, provider_payment_id=provider_payment_id
        ).first()
    return payment


def check_amount(payment: Payment, amount, currency) -> None:
    if amount is not None and int(amount) != payment.amount:
        raise Invalid(
            f"The provider reports {amount} for a payment of {payment.amount}.",
            code="amount_mismatch",
        )
    if currency and str(currency).upper() != payment.currency:
        raise Invalid(
            f"The provider reports {currency} for a payment in {payment.currency}.",
            code="currency_mismatch",
        )


def payment_capture(
    *,
    payment: Payment,
    amount: int | None = None,
    currency: str | None = None,
    provider_payment_id: str = "",
) -> LedgerTransaction:
    """Record that the payment's money is in: provider -> escrow (or revenue). Once only:
    the ledger key is ``capture:<payment id>``; the purpose's hook runs the first time, in
    this transaction."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        return capture_locked(
            payment, amount=amount, currency=currency, provider_payment_id=provider_payment_id
        )


def capture_locked(
    payment: Payment, *, amount=None, currency=None, provider_payment_id: str = ""
) -> LedgerTransaction:
    """payment_capture for a payment this transaction has locked already (updated in place)."""
    assert transaction.get_connection().in_atomic_block, "call inside the lock's transaction"
    check_amount(payment, amount, currency)
    ledger_transaction, created = ledger_post(
        kind=TransactionKind.CAPTURE,
        idempotency_key=f"capture:{payment.pk}",
        reference=f"payment:{payment.pk}",
        legs=[
            Leg(external_code(payment.provider, "payments"), payment.currency, -payment.amount),
            Leg(source_account(payment), payment.currency, payment.amount),
        ],
        memo=f"{payment.purpose} {payment.reference}",
    )
    fields = []
    if PAYMENT_STATUS_RANK[payment.status] < PAYMENT_STATUS_RANK[PaymentStatus.CAPTURED]:
        payment.status = PaymentStatus.CAPTURED
        payment.captured_at = timezone.now()
        payment.failure_reason = ""
        fields += ["status", "captured_at", "failure_reason"]
    if provider_payment_id and payment.provider_payment_id != provider_payment_id:
        payment.provider_payment_id = provider_payment_id  # the attempt that succeeded
        fields.append("provider_payment_id")
    if fields:
        payment.save(update_fields=[*fields, "updated_at"])
    if created:
        hooks.emit(
            payment.purpose,
            event="captured",
            payment=payment,
            ledger_transaction=ledger_transaction,
        )
    return ledger_transaction


def payment_capture_at_provider(*, payment_id) -> Payment | None:
    """Ask the provider to capture an authorized payment (Razorpay), then record it."""
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None or payment.status != PaymentStatus.AUTHORIZED:
        return payment
    entity = providers.get(payment.provider).payment_capture(payment=payment)
    if entity.get("status") == "captured":
        payment_capture(
            payment=payment,
            amount=entity.get("amount"),
            currency=entity.get("currency"),
            provider_payment_id=entity.get("id") or "",
        )
    return Payment.objects.get(pk=payment.pk)
