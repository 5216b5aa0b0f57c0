"""Money out to musicians.

A musician's earnings reach their payable when an order's escrow is released, and stay on hold
for BILLING_PAYOUT_HOLD_DAYS (``billing.selectors.payable_on_hold``). The beat task
``billing.release_payout_holds`` runs ``payouts_run``:

1. ``payouts_create_due``: for each musician with a payout account and money past its hold,
   one payout per currency and day (``period``). It is created under a lock on the musician's
   payout account, with an idempotency key made of musician, currency and day, so concurrent
   runs make one. The ledger moves the money at once: payable -> ``external:<provider>:payouts``.
2. ``payout_attempt``: each payout due for an attempt asks its provider for the transfer. A
   clear "no" (``TransferFailed``) is retried later with a new provider idempotency key; an
   unclear answer (a timeout) with the same key, so a transfer made behind it is not made twice.
   Attempts back off (1 h, 2 h, 4 h...) up to PAYOUT_MAX_ATTEMPTS; then the payout fails, the
   money goes back to the payable, and the musician and staff are told. Payouts then wait until
   the musician saves their payout account again.
3. ``payouts_check_processing``: transfers the provider accepted but has not settled for a
   while are looked up, in case their webhook never came.

What the providers report (the answer to the call, or a webhook later) goes through
``payout_record_event``; a status only moves forward, so late or repeated events change nothing.
"""

import logging
import re
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from billing import notices, providers, selectors
from billing.errors import (
    BillingError,
    Conflict,
    Forbidden,
    IdempotencyConflict,
    Invalid,
    NotFound,
    ProviderError,
    TransferFailed,
)
from billing.models import (
    PAYOUT_OPEN_STATUSES,
    PAYOUT_STATUS_RANK,
    AccountKind,
    LedgerAccount,
    LedgerTransaction,
    Payout,
    PayoutAccount,
    PayoutStatus,
    TransactionKind,
)
from billing.services.common import currency_code, positive_amount
from billing.services.ledger import Leg, external_code, ledger_post, payable_code

logger = logging.getLogger(__name__)

PAYOUT_MAX_ATTEMPTS = 5
PAYOUT_RETRY_BASE = timedelta(hours=1)
PAYOUT_RETRY_CEILING = timedelta(hours=12)
# A transfer the provider accepted but has not settled after this long is looked up.
PAYOUT_CHECK_PROCESSING_AFTER = timedelta(hours=6)
# Bounds one run of the beat; the rest waits for the next run.
PAYOUT_BATCH = 500


# --- the payout account ---------------------------------------------------------------------


def payout_providers() -> list[str]:
    """The providers a musician can be paid through in this deployment: those set up here."""
    return [name for name in providers.NAMES if providers.usable(name)]


def payout_account_check(*, provider: str, account_id: str) -> str:
    """The account id, stripped, when `provider` pays out here and the id has its format."""
    if provider not in providers.NAMES:
        raise Invalid(f"Choose one of: {', '.join(providers.NAMES)}.", code="invalid_provider")
    if provider not in payout_providers():
        raise Invalid(
            f"Payouts through {provider} are not available here.", code="provider_unavailable"
        )
    account_id = str(account_id or "").strip()
    handler = providers.get(provider)
    if not re.fullmatch(handler.payout_account_pattern, account_id):
        raise Invalid(
            f"That is not a {provider} payout account id "
            f"(it looks like {handler.payout_account_example}).",
            code="invalid_account_id",
        )
    return account_id


def payout_account_set(*, user, provider: str, account_id: str) -> PayoutAccount:
    """Where `user`'s payouts go from now on. Saving it again also resumes payouts that a
    failed payout paused."""
    if not user.is_musician:
        raise Forbidden("Only musicians are paid out.", code="not_musician")
    account_id = payout_account_check(provider=provider, account_id=account_id)
    with transaction.atomic():
        account, created = PayoutAccount.objects.select_for_update().update_or_create(
            user=user, defaults={"provider": provider, "account_id": account_id}
        )
        # Payouts still trying to reach the old account of the same provider go to the new
        # one at the next run, under a new key (a provider refuses a key reused for another
        # body): unless their last answer was unclear, as that transfer may have been made.
        # Through another provider their money sits in another provider's ledger account:
        # they finish as they are, and new payouts take the new way.
        moved = Payout.objects.select_for_update().filter(
            musician=user, provider=provider, status=PayoutStatus.PENDING
        )
        for payout in moved.exclude(destination=account_id):
            if not _next_key_unused(payout):
                continue
            payout.destination = account_id
            payout.transfer_key = _transfer_key(payout, payout.attempts + 1)
            payout.next_attempt_at = timezone.now()
            payout.save(
                update_fields=["destination", "transfer_key", "next_attempt_at", "updated_at"]
            )
    logger.info(
        "payout account of %s %s: %s %s",
        user.pk,
        "created" if created else "saved",
        provider,
        account_id,
    )
    return account


def payout_account_delete(*, user) -> None:
    """No more payouts until a new account is set (payouts under way keep their destination)."""
    deleted, _ = PayoutAccount.objects.filter(user=user).delete()
    if not deleted:
        raise NotFound("You have no payout account.", code="no_payout_account")
    logger.info("payout account of %s removed", user.pk)


# --- making payouts -------------------------------------------------------------------------


def _transfer_key(payout: Payout, generation: int) -> str:
    # Razorpay takes 4 to 36 characters: the payout's 32 hex digits and a short counter.
    return f"{payout.pk.hex}-{generation}"


def _next_key_unused(payout: Payout) -> bool:
    """Whether no transfer was asked for under the payout's current key: none was tried yet,
    or the last try was refused (a refusal moves the key on; an unclear answer keeps it)."""
    return int(payout.transfer_key.rsplit("-", 1)[1]) > payout.attempts


def _retry_delay(attempts: int) -> timedelta:
    return min(PAYOUT_RETRY_CEILING, PAYOUT_RETRY_BASE * 2 ** max(attempts - 1, 0))


def _open(
    account: PayoutAccount, *, amount: int, currency: str, idempotency_key: str, period, now
) -> Payout:
    """Create the payout and take its money from the payable (InsufficientFunds if short).
    The caller holds the lock on `account`."""
    payout = Payout(
        musician_id=account.user_id,
        provider=account.provider,
        destination=account.account_id,
        amount=amount,
        currency=currency,
        idempotency_key=idempotency_key,
        period=period,
        next_attempt_at=now,
    )
    payout.transfer_key = _transfer_key(payout, 1)
    payout.save()
    ledger_post(
        kind=TransactionKind.PAYOUT,
        idempotency_key=f"payout:{payout.pk}",
        reference=f"payout:{payout.pk}",
        legs=[
            Leg(payable_code(account.user_id), currency, -amount, owner_id=account.user_id),
            Leg(external_code(account.provider, "payouts"), currency, amount),
        ],
        memo=f"payout to {account.provider} {account.account_id}"[:200],
    )
    return payout


def payout_create(
    *, musician, amount: int, currency: str, idempotency_key: str, now=None
) -> Payout:
    """Pay `amount` of a musician's payable out to their payout account (staff tools and the
    ledger's tests; the beat uses ``payouts_create_due``). The transfer is made by
    ``payout_attempt``. The same key twice gives the same payout."""
    amount = positive_amount(amount)
    currency = currency_code(currency)
    now = now or timezone.now()
    with transaction.atomic():
        account = PayoutAccount.objects.select_for_update().filter(user=musician).first()
        existing = Payout.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if (existing.musician_id, existing.amount, existing.currency) != (
                musician.pk,
                amount,
                currency,
            ):
                raise IdempotencyConflict()
            return existing
        if account is None:
            raise Conflict("This musician has no payout account yet.", code="no_payout_account")
        return _open(
            account,
            amount=amount,
            currency=currency,
            idempotency_key=idempotency_key,
            period=None,
            now=now,
        )


def _create_due(*, ledger_account_id: int, now) -> Payout | None:
    with transaction.atomic():
        ledger_account = LedgerAccount.objects.get(pk=ledger_account_id)
        # Every payout of this musician is made under this lock: concurrent runs queue here,
        # and the second finds the first's payout.
        account = (
            PayoutAccount.objects.select_for_update().filter(user=ledger_account.owner_id).first()
        )
        if account is None:
            return None
        period = now.date()
        currency = ledger_account.currency
        key = f"payout:{account.user_id}:{currency}:{period.isoformat()}"
        if Payout.objects.filter(idempotency_key=key).exists():
            return None
        if account.provider not in payout_providers():
            logger.warning(
                "payouts of %s wait: %s is not configured", account.user_id, account.provider
            )
            return None
        if selectors.payout_paused_by(account) is not None:
            return None
        if Payout.objects.filter(
            musician_id=account.user_id, currency=currency, status=PayoutStatus.PENDING
        ).exists():
            return None  # one being retried: no second payout beside it
        ledger_account.refresh_from_db()
        held, _ = selectors.payable_on_hold(ledger_account, now=now)
        amount = ledger_account.balance - held
        if amount <= 0:
            return None
        return _open(
            account, amount=amount, currency=currency, idempotency_key=key, period=period, now=now
        )


def payouts_create_due(*, now=None) -> list[Payout]:
    """One payout per musician and currency of what is past its hold (at most one a day)."""
    now = now or timezone.now()
    candidates = LedgerAccount.objects.filter(
        kind=AccountKind.PAYABLE, balance__gt=0, owner__payout_account__isnull=False
    ).values_list("pk", flat=True)[:PAYOUT_BATCH]
    created = []
    for ledger_account_id in candidates:
        try:
            payout = _create_due(ledger_account_id=ledger_account_id, now=now)
        except BillingError:
            logger.exception("could not create the payout of ledger account %s", ledger_account_id)
            continue
        if payout is not None:
            created.append(payout)
    return created


# --- transfers ------------------------------------------------------------------------------


def payout_attempt(*, payout_id, now=None) -> Payout | None:
    """Ask the provider for the transfer of a payout that is due for an attempt; None when it
    is not (already made, or another worker is on it)."""
    now = now or timezone.now()
    with transaction.atomic():
        payout = (
            Payout.objects.select_for_update()
            .filter(pk=payout_id, status=PayoutStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if payout is None:
            return None
        payout.attempts += 1
        # Claimed until then: if this worker dies during the call, the next run tries again
        # (with the same key, so a transfer made meanwhile is not made twice).
        payout.next_attempt_at = now + _retry_delay(payout.attempts)
        payout.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    try:
        transfer = providers.get(payout.provider).transfer_create(
            payout=payout, idempotency_key=payout.transfer_key
        )
    except BillingError as error:
        clear = isinstance(error, TransferFailed) or not isinstance(error, ProviderError)
        logger.warning("payout %s attempt %s failed: %s", payout.pk, payout.attempts, error)
        with transaction.atomic():
            payout = Payout.objects.select_for_update().get(pk=payout.pk)
            # Unless the provider reported on it meanwhile (a webhook): then that stands.
            if payout.status == PayoutStatus.PENDING and not payout.provider_transfer_id:
                _attempt_failed(payout, reason=error.message, new_key=clear, now=now)
        return payout
    return payout_record_event(
        provider=payout.provider,
        provider_transfer_id=transfer.id,
        status=transfer.status,
        encore_payout_id=str(payout.pk),
    )


def _attempt_failed(payout: Payout, *, reason: str, new_key: bool, now) -> None:
    """One attempt failed (`payout` locked): retry later, or fail for good after the last."""
    payout.failure_reason = reason[:300]
    payout.provider_transfer_id = ""
    if new_key:
        payout.transfer_key = _transfer_key(payout, payout.attempts + 1)
    if payout.attempts >= PAYOUT_MAX_ATTEMPTS:
        payout.status = PayoutStatus.FAILED
        payout.failed_at = now
        payout.next_attempt_at = None
        _reverse(payout)
        notices.payout_failed(payout)
    else:
        payout.status = PayoutStatus.PENDING
        payout.next_attempt_at = now + _retry_delay(payout.attempts)
    payout.save()


def _late_key(payout: Payout) -> str:
    return f"payout:{payout.pk}:late"


def _reverse(payout: Payout) -> None:
    """The money of a payout is back in the payable (it failed, or was reversed)."""
    late = LedgerTransaction.objects.filter(idempotency_key=_late_key(payout)).exists()
    ledger_post(
        kind=TransactionKind.PAYOUT_REVERSAL,
        idempotency_key=f"payout_reversal:{payout.pk}" + (":late" if late else ""),
        reference=f"payout:{payout.pk}",
        legs=[
            Leg(external_code(payout.provider, "payouts"), payout.currency, -payout.amount),
            Leg(payable_code(payout.musician_id), payout.currency, payout.amount),
        ],
    )


def _find_locked(*, provider: str, provider_transfer_id: str, encore_payout_id: str):
    payout = None
    if provider_transfer_id:
        payout = (
            Payout.objects.select_for_update()
            .filter(provider=provider, provider_transfer_id=provider_transfer_id)
            .first()
        )
    if payout is None and encore_payout_id:
        try:
            payout_id = uuid.UUID(str(encore_payout_id))
        except ValueError:
            return None
        payout = Payout.objects.select_for_update().filter(pk=payout_id, provider=provider).first()
    return payout


def payout_record_event(
    *,
    provider: str,
    provider_transfer_id: str,
    status: str,
    encore_payout_id: str = "",
    reason: str = "",
    now=None,
) -> Payout | None:
    """What a provider says about a payout's transfer (its answer to the call, or a webhook):
    ``processing``, ``paid``, ``failed`` or ``reversed``. None when no payout matches."""
    status = PayoutStatus(status)
    now = now or timezone.now()
    with transaction.atomic():
        payout = _find_locked(
            provider=provider,
            provider_transfer_id=provider_transfer_id,
            encore_payout_id=encore_payout_id,
        )
        if payout is None:
            return None
        known = payout.provider_transfer_id
        if provider_transfer_id and known and provider_transfer_id != known:
            # About an earlier attempt's transfer, which failed: the current one stands.
            logger.warning(
                "payout %s: event about old transfer %s", payout.pk, provider_transfer_id
            )
            return payout
        if status == PayoutStatus.FAILED:
            if payout.status in PAYOUT_OPEN_STATUSES:
                _attempt_failed(
                    payout,
                    reason=f"{provider_transfer_id}: {reason or 'the transfer failed'}",
                    new_key=True,
                    now=now,
                )
            return payout
        if provider_transfer_id and not known:
            payout.provider_transfer_id = provider_transfer_id
        if payout.status == PayoutStatus.FAILED and status in (
            PayoutStatus.PROCESSING,
            PayoutStatus.PAID,
        ):
            # Every answer was unclear and we gave up, yet the transfer was made: the money
            # did leave, so it leaves the payable again (InsufficientFunds if already paid
            # out again: the event then fails and stays visible to staff).
            ledger_post(
                kind=TransactionKind.PAYOUT,
                idempotency_key=_late_key(payout),
                reference=f"payout:{payout.pk}",
                legs=[
                    Leg(payable_code(payout.musician_id), payout.currency, -payout.amount),
                    Leg(external_code(payout.provider, "payouts"), payout.currency, payout.amount),
                ],
                memo="transfer reported after the payout had failed",
            )
            payout.failed_at = None
            _advance(payout, status, reason=reason, now=now)
        elif PAYOUT_STATUS_RANK[status] > PAYOUT_STATUS_RANK[PayoutStatus(payout.status)]:
            _advance(payout, status, reason=reason, now=now)
        payout.save()
        return payout


def _advance(payout: Payout, status: PayoutStatus, *, reason: str, now) -> None:
    payout.status = status
    payout.next_attempt_at = None
    if status == PayoutStatus.PAID:
        payout.paid_at = now
        payout.failure_reason = ""
        notices.payout_paid(payout)
    elif status == PayoutStatus.REVERSED:
        payout.failure_reason = (reason or "The provider reversed the transfer.")[:300]
        _reverse(payout)


def payouts_check_processing(*, now=None) -> int:
    """Look up transfers accepted long ago and still not settled (their webhook may be lost)."""
    now = now or timezone.now()
    checked = 0
    stale = Payout.objects.filter(
        status=PayoutStatus.PROCESSING, updated_at__lte=now - PAYOUT_CHECK_PROCESSING_AFTER
    ).exclude(provider_transfer_id="")[:PAYOUT_BATCH]
    for payout in stale:
        try:
            transfer = providers.get(payout.provider).transfer_fetch(payout=payout)
        except TransferFailed as error:
            payout_record_event(
                provider=payout.provider,
                provider_transfer_id=payout.provider_transfer_id,
                status=PayoutStatus.FAILED,
                reason=error.message,
                now=now,
            )
        except BillingError as error:
            logger.info("payout %s: could not look up its transfer: %s", payout.pk, error)
            continue
        else:
            payout_record_event(
                provider=payout.provider,
                provider_transfer_id=transfer.id,
                status=transfer.status,
                now=now,
            )
        checked += 1
    return checked


def payouts_run(*, now=None) -> dict[str, int]:
    """The beat: create the payouts that are due, make their transfers (and the retries that
    are due), and look up transfers stuck on their way."""
    now = now or timezone.now()
    created = payouts_create_due(now=now)
    due = Payout.objects.filter(status=PayoutStatus.PENDING, next_attempt_at__lte=now).values_list(
        "pk", flat=True
    )[:PAYOUT_BATCH]
    attempted = 0
    for payout_id in due:
        try:
            if payout_attempt(payout_id=payout_id, now=now) is not None:
                attempted += 1
        except Exception:
            # One payout's surprise must not stop the others; it is tried again next run.
            logger.exception("payout %s: the attempt broke", payout_id)
    return {
        "created": len(created),
        "attempted": attempted,
        "checked": payouts_check_processing(now=now),
    }
