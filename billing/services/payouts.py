"""Money out to musicians: a payout moves a musician's payable to a provider transfer (with
Razorpay, a Route transfer held until released), once per idempotency key."""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import providers
from billing.errors import Conflict, IdempotencyConflict, ProviderError
from billing.models import (
    PAYOUT_STATUS_RANK,
    Payment,
    Payout,
    PayoutAccount,
    PayoutStatus,
    TransactionKind,
)
from billing.services.common import currency_code, positive_amount
from billing.services.ledger import Leg, external_code, ledger_post, payable_code

logger = logging.getLogger(__name__)


def payout_account_set(*, user, provider: str, account_id: str) -> PayoutAccount:
    account, _created = PayoutAccount.objects.update_or_create(
        user=user, provider=provider, defaults={"account_id": account_id.strip()}
    )
    return account


def _destination(musician, provider: str) -> str:
    account = PayoutAccount.objects.filter(user=musician, provider=provider).first()
    if account is not None:
        return account.account_id
    if provider == "sandbox":
        return f"acc_sbx_{musician.pk.hex}"
    raise Conflict(
        "This musician has no payout account with the payment provider yet.",
        code="no_payout_account",
    )


def _payout_reverse(payout: Payout) -> None:
    ledger_post(
        kind=TransactionKind.PAYOUT_REVERSAL,
        idempotency_key=f"payout_reversal:{payout.pk}",
        reference=f"payout:{payout.pk}",
        legs=[
            Leg(external_code(payout.provider, "payouts"), payout.currency, -payout.amount),
            Leg(payable_code(payout.musician_id), payout.currency, payout.amount),
        ],
    )


def payout_create(
    *,
    musician,
    amount: int,
    currency: str,
    idempotency_key: str,
    source_payment: Payment | None = None,
    on_hold: bool = True,
) -> Payout:
    """Pay a musician out of their payable. The ledger moves first (refused when the payable
    holds less); then the provider transfer is created, on hold until ``payout_release``
    (with Razorpay, a Route transfer out of `source_payment`)."""
    amount = positive_amount(amount)
    currency = currency_code(currency)
    existing = Payout.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        if (existing.musician_id, existing.amount, existing.currency) != (
            musician.pk,
            amount,
            currency,
        ):
            raise IdempotencyConflict()
        return existing
    provider_name = source_payment.provider if source_payment else providers.payment_provider_name()
    destination = _destination(musician, provider_name)
    try:
        with transaction.atomic():
            payout = Payout.objects.create(
                musician=musician,
                provider=provider_name,
                amount=amount,
                currency=currency,
                source_payment=source_payment,
                destination=destination,
                idempotency_key=idempotency_key,
            )
            ledger_post(
                kind=TransactionKind.PAYOUT,
                idempotency_key=f"payout:{payout.pk}",
                reference=f"payout:{payout.pk}",
                legs=[
                    Leg(payable_code(musician.pk), currency, -amount, owner_id=musician.pk),
                    Leg(external_code(provider_name, "payouts"), currency, amount),
                ],
            )
    except IntegrityError:
        return Payout.objects.get(idempotency_key=idempotency_key)
    try:
        transfer = providers.get(provider_name).transfer_create(payout=payout, on_hold=on_hold)
    except ProviderError as error:
        payout_record_event(
            provider=provider_name,
            provider_transfer_id="",
            status=PayoutStatus.FAILED,
            encore_payout_id=str(payout.pk),
            reason=str(error),
        )
        raise
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout.pk)
        fields = []
        if not payout.provider_transfer_id:
            payout.provider_transfer_id = transfer.id
            fields.append("provider_transfer_id")
        status = PayoutStatus(transfer.status)
        if PAYOUT_STATUS_RANK[status] > PAYOUT_STATUS_RANK[payout.status]:
            payout.status = status
            fields.append("status")
            if status == PayoutStatus.RELEASED:
                payout.released_at = timezone.now()
                fields.append("released_at")
        if fields:
            payout.save(update_fields=[*fields, "updated_at"])
    return payout


def payout_release(*, payout: Payout) -> Payout:
    """Lift the hold on a payout's transfer: the money goes on to the musician."""
    payout = Payout.objects.get(pk=payout.pk)
    if payout.status != PayoutStatus.ON_HOLD:
        return payout
    providers.get(payout.provider).transfer_release(payout=payout)
    with transaction.atomic():
        payout = Payout.objects.select_for_update().get(pk=payout.pk)
        if payout.status == PayoutStatus.ON_HOLD:
            payout.status = PayoutStatus.RELEASED
            payout.released_at = timezone.now()
            payout.save(update_fields=["status", "released_at", "updated_at"])
    return payout


def payouts_release_due(*, now=None) -> int:
    """Release the holds older than BILLING_PAYOUT_HOLD_DAYS (beat task)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.BILLING_PAYOUT_HOLD_DAYS)
    released = 0
    for payout in Payout.objects.filter(status=PayoutStatus.ON_HOLD, created_at__lte=cutoff)[:200]:
        try:
            payout_release(payout=payout)
            released += 1
        except ProviderError:
            logger.exception("could not release payout %s; will try again", payout.pk)
    return released


def payout_record_event(
    *,
    provider: str,
    provider_transfer_id: str,
    status: str,
    encore_payout_id: str = "",
    reason: str = "",
) -> Payout | None:
    status = PayoutStatus(status)
    with transaction.atomic():
        payout = None
        if provider_transfer_id:
            payout = (
                Payout.objects.select_for_update()
                .filter(provider=provider, provider_transfer_id=provider_transfer_id)
                .first()
            )
        if payout is None and encore_payout_id:
            try:
                payout = (
                    Payout.objects.select_for_update()
                    .filter(pk=uuid.UUID(encore_payout_id))
                    .first()
                )
            except ValueError:
                payout = None
        if payout is None:
            return None
        fields = []
        if provider_transfer_id and not payout.provider_transfer_id:
            payout.provider_transfer_id = provider_transfer_id
            fields.append("provider_transfer_id")
        if PAYOUT_STATUS_RANK[status] > PAYOUT_STATUS_RANK[payout.status]:
            payout.status = status
            fields.append("status")
            if status == PayoutStatus.RELEASED:
                payout.released_at = timezone.now()
                fields.append("released_at")
            if status in (PayoutStatus.FAILED, PayoutStatus.REVERSED):
                payout.failure_reason = reason[:300]
                fields.append("failure_reason")
                _payout_reverse(payout)
        if fields:
            payout.save(update_fields=[*fields, "updated_at"])
        return payout
