"""Money back to a payer: refunds asked here (posted to the ledger first, then asked of the
provider; reversed when it refuses) or made in the provider's dashboard (learnt by webhook)."""

import uuid

from django.db import transaction
from django.utils import timezone

from billing import hooks, providers
from billing.errors import Conflict, IdempotencyConflict, Invalid, ProviderError
from billing.models import (
    CAPTURED_STATUSES,
    REFUND_STATUS_RANK,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    TransactionKind,
)
from billing.services.captures import capture_locked, payment_for_update, source_account
from billing.services.common import positive_amount
from billing.services.ledger import Leg, external_code, ledger_post


def _refund_post(refund: Refund, payment: Payment) -> None:
    ledger_post(
        kind=TransactionKind.REFUND,
        idempotency_key=f"refund:{refund.pk}",
        reference=f"payment:{payment.pk}",
        legs=[
            Leg(source_account(payment), refund.currency, -refund.amount),
            Leg(external_code(payment.provider, "refunds"), refund.currency, refund.amount),
        ],
        memo=refund.reason[:200],
    )


def _refund_reverse(refund: Refund, payment: Payment) -> None:
    """A refund the provider could not make: the money is back where it was."""
    ledger_post(
        kind=TransactionKind.REFUND_REVERSAL,
        idempotency_key=f"refund_reversal:{refund.pk}",
        reference=f"payment:{payment.pk}",
        legs=[
            Leg(external_code(payment.provider, "refunds"), refund.currency, -refund.amount),
            Leg(source_account(payment), refund.currency, refund.amount),
        ],
    )


def _set_refunded(payment: Payment, delta: int) -> None:
    payment.amount_refunded += delta
    if payment.amount_refunded > payment.amount:
        raise Invalid("Refunds would exceed the payment.", code="refund_exceeds_payment")
    if payment.amount_refunded == 0:
        payment.status = PaymentStatus.CAPTURED
    elif payment.amount_refunded == payment.amount:
        payment.status = PaymentStatus.REFUNDED
    else:
        payment.status = PaymentStatus.PARTIALLY_REFUNDED
    payment.save(update_fields=["amount_refunded", "status", "updated_at"])


def payment_refund(
    *,
    payment: Payment,
    amount: int | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
    requested_by=None,
) -> Refund:
    """Give back `amount` (default: all that is left) of a captured payment.

    The refund is recorded and posted to the ledger first, under the payment's lock (so two
    refunds never give back more than was paid, nor more than the escrow holds), then the
    provider is asked; if it refuses, the refund is marked failed and reversed.
    """
    if idempotency_key:
        existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if existing.payment_id != payment.pk:
                raise IdempotencyConflict()
            return existing
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status not in CAPTURED_STATUSES:
            raise Conflict("Only a captured payment can be refunded.", code="not_captured")
        remaining = payment.amount - payment.amount_refunded
        if remaining <= 0:
            raise Conflict("This payment is already refunded in full.", code="already_refunded")
        amount = remaining if amount is None else positive_amount(amount)
        if amount > remaining:
            raise Invalid(
                f"At most {remaining} {payment.currency} can still be refunded.",
                code="refund_exceeds_payment",
            )
        refund = Refund.objects.create(
            payment=payment,
            provider=payment.provider,
            amount=amount,
            currency=payment.currency,
            reason=reason[:200],
            idempotency_key=idempotency_key or None,
            requested_by=requested_by,
        )
        _refund_post(refund, payment)
        _set_refunded(payment, amount)
        hooks.emit(payment.purpose, event="refunded", payment=payment, refund=refund)
    try:
        answer = providers.get(payment.provider).refund_create(refund=refund)
    except ProviderError as error:
        refund_fail(refund=refund, reason=str(error))
        raise
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        fields = []
        if not refund.provider_refund_id:
            refund.provider_refund_id = answer.id
            fields.append("provider_refund_id")
        if REFUND_STATUS_RANK[answer.status] > REFUND_STATUS_RANK[refund.status]:
            refund.status = answer.status
            refund.processed_at = timezone.now()
            fields += ["status", "processed_at"]
        if fields:
            refund.save(update_fields=[*fields, "updated_at"])
    return refund


def refund_fail(*, refund: Refund, reason: str = "") -> Refund:
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=refund.payment_id)
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status == RefundStatus.FAILED:
            return refund
        refund.status = RefundStatus.FAILED
        refund.reason = (refund.reason or reason)[:200]
        refund.save(update_fields=["status", "reason", "updated_at"])
        _refund_reverse(refund, payment)
        _set_refunded(payment, -refund.amount)
        hooks.emit(payment.purpose, event="refund_failed", payment=payment, refund=refund)
    return refund


def refund_record_event(
    *,
    provider: str,
    provider_refund_id: str,
    status: str,
    amount: int | None,
    currency: str | None,
    provider_payment_id: str = "",
    provider_order_id: str = "",
    encore_refund_id: str = "",
) -> Refund | None:
    """Apply what the provider says about a refund (ours, or one made in its dashboard)."""
    status = RefundStatus(status)
    with transaction.atomic():
        payment = payment_for_update(
            provider=provider,
            provider_order_id=provider_order_id,
            provider_payment_id=provider_payment_id,
        )
        if payment is None:
            return None
        refund = (
            Refund.objects.select_for_update()
            .filter(provider=provider, provider_refund_id=provider_refund_id)
            .first()
        )
        if refund is None and encore_refund_id:
            try:
                refund = (
                    Refund.objects.select_for_update()
                    .filter(pk=uuid.UUID(str(encore_refund_id)), payment=payment)
                    .first()
                )
            except ValueError:
                refund = None
        if status != RefundStatus.FAILED and payment.status not in CAPTURED_STATUSES:
            # A refund means the payment was captured, whatever order the events come in.
            capture_locked(payment, provider_payment_id=provider_payment_id)
        if refund is None:
            amount = positive_amount(int(amount or 0))
            if currency and str(currency).upper() != payment.currency:
                raise Invalid(
                    "The refund's currency is not the payment's.", code="currency_mismatch"
                )
            refund = Refund.objects.create(
                payment=payment,
                provider=provider,
                provider_refund_id=provider_refund_id,
                amount=amount,
                currency=payment.currency,
                status=status,
                reason="made at the provider",
                processed_at=timezone.now() if status == RefundStatus.PROCESSED else None,
            )
            if status != RefundStatus.FAILED:
                _refund_post(refund, payment)
                _set_refunded(payment, amount)
                hooks.emit(payment.purpose, event="refunded", payment=payment, refund=refund)
            return refund
        fields = []
        if not refund.provider_refund_id:
            refund.provider_refund_id = provider_refund_id
            fields.append("provider_refund_id")
        if REFUND_STATUS_RANK[status] > REFUND_STATUS_RANK[refund.status]:
            refund.status = status
            fields.append("status")
            if status == RefundStatus.PROCESSED:
                refund.processed_at = timezone.now()
                fields.append("processed_at")
        if fields:
            refund.save(update_fields=[*fields, "updated_at"])
        if "status" in fields and status == RefundStatus.FAILED:
            _refund_reverse(refund, payment)
            _set_refunded(payment, -refund.amount)
            hooks.emit(payment.purpose, event="refund_failed", payment=payment, refund=refund)
        return refund
