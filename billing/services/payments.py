"""Payments, refunds, escrow releases and payouts: every move of money goes through here.

The four ledger services of DESIGN.md section 5:

- ``payment_capture``: provider -> escrow of the order (or revenue, for subscriptions);
- ``escrow_release``: escrow -> the musician's payable + the platform fee;
- ``payment_refund``: escrow (or revenue) -> back to the payer, in full or in part;
- ``payout_create``: the musician's payable -> a provider transfer (Razorpay Route, on hold
  until ``payout_release``).

Each posts one ledger transaction under an idempotency key derived from what it is about
(``capture:<payment id>``, ``refund:<refund id>``...), so a webhook received twice, a replayed
event or a retried task records nothing twice. Provider events only move rows forward (see
the status ranks in billing.models), so they converge whatever order they arrive in.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billing import hooks, providers, purposes
from billing.errors import Conflict, IdempotencyConflict, Invalid, NotFound, ProviderError
from billing.models import (
    CAPTURED_STATUSES,
    PAYMENT_STATUS_RANK,
    PAYOUT_STATUS_RANK,
    REFUND_STATUS_RANK,
    CheckoutKind,
    CheckoutSession,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Payout,
    PayoutAccount,
    PayoutStatus,
    Refund,
    RefundStatus,
    TransactionKind,
)
from billing.services.ledger import PLATFORM_FEES, Leg, external_code, ledger_post, payable_code

logger = logging.getLogger(__name__)


def _currency(value) -> str:
    currency = str(value or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise Invalid(f"Not a currency code: {value!r}.", code="invalid_currency")
    return currency


def _amount(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise Invalid("Amounts are positive integers in minor units.", code="invalid_amount")
    return value


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _source_code(payment: Payment) -> str:
    """Where a payment's captured money sits: the escrow of its reference, or revenue."""
    purpose = purposes.get(payment.purpose)
    if purpose.escrow_scope:
        return purpose.escrow_code(payment.reference)
    return purpose.revenue_account


# --- starting a payment ---------------------------------------------------------------------


def payment_create(
    *,
    payer,
    amount: int,
    currency: str,
    purpose: str,
    reference: str,
    description: str = "",
    provider: str | None = None,
    idempotency_key: str | None = None,
) -> Payment:
    """A payment waiting to be made. With an idempotency key, a second call returns the first
    payment (when it is for the same thing)."""
    purposes.get(purpose)
    amount = _amount(amount)
    currency = _currency(currency)
    provider = provider or providers.payment_provider_name()
    if idempotency_key:
        existing = Payment.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            if (existing.purpose, existing.reference, existing.amount) != (
                purpose,
                str(reference),
                amount,
            ):
                raise IdempotencyConflict()
            return existing
    try:
        with transaction.atomic():
            return Payment.objects.create(
                payer=payer,
                provider=provider,
                purpose=purpose,
                reference=str(reference),
                description=description[:200],
                amount=amount,
                currency=currency,
                idempotency_key=idempotency_key or None,
            )
    except IntegrityError:
        if idempotency_key:
            return Payment.objects.get(idempotency_key=idempotency_key)
        raise


def payment_checkout_start(
    *,
    payer,
    amount: int,
    currency: str,
    purpose: str,
    reference: str,
    description: str = "",
    idempotency_key: str | None = None,
    return_to: str = "",
) -> CheckoutSession:
    """Create (or reuse) the payment and a checkout for it at the payment provider.

    Returns the CheckoutSession: ``url`` is where to send the payer (the sandbox's page, or
    the page that opens Razorpay Checkout), ``client_params`` what a mobile client passes to
    the provider's SDK instead. The outcome arrives by webhook.
    """
    payment = payment_create(
        payer=payer,
        amount=amount,
        currency=currency,
        purpose=purpose,
        reference=reference,
        description=description,
        idempotency_key=idempotency_key,
    )
    if payment.status in CAPTURED_STATUSES:
        raise Conflict("This payment has already been made.", code="already_paid")
    open_checkout = payment.checkouts.filter(status="open").exclude(url="").first()
    if open_checkout is not None and payment.provider_order_id:
        return open_checkout  # the provider order is still payable: send the payer back to it
    provider = providers.get(payment.provider)
    checkout = CheckoutSession.objects.create(
        user=payer,
        kind=CheckoutKind.PAYMENT,
        provider=provider.name,
        payment=payment,
        return_to=return_to if return_to.startswith("/") and not return_to.startswith("//") else "",
    )
    return_url = _site(reverse("billing:checkout_return", kwargs={"checkout_id": checkout.pk}))
    start = provider.payment_checkout(
        payment=payment,
        checkout=checkout,
        success_url=return_url,
        cancel_url=return_url + "?outcome=cancelled",
    )
    with transaction.atomic():
        Payment.objects.filter(pk=payment.pk, provider_order_id="").update(
            provider_order_id=start.provider_session_id
        )
        checkout.provider_session_id = start.provider_session_id
        checkout.url = start.url
        checkout.client_params = start.client_params
        checkout.save(update_fields=["provider_session_id", "url", "client_params"])
    payment.provider_order_id = payment.provider_order_id or start.provider_session_id
    return checkout


# --- provider events about payments ---------------------------------------------------------


def _payment_for_update(
    *, provider: str, provider_order_id: str = "", provider_payment_id: str = ""
):
    queryset = Payment.objects.select_for_update()
    payment = None
    if provider_order_id:
        payment = queryset.filter(provider=provider, provider_order_id=provider_order_id).first()
    if payment is None and provider_payment_id:
        payment = queryset.filter(
            provider=provider, provider_payment_id=provider_payment_id
        ).first()
    return payment


def payment_record_event(
    *,
    provider: str,
    provider_order_id: str = "",
    provider_payment_id: str = "",
    status: str,
    amount: int | None = None,
    currency: str | None = None,
    failure_reason: str = "",
) -> Payment | None:
    """Apply what the provider says about a payment. Only moves forward (a late
    "authorized" after "captured" changes nothing). None: not one of our payments."""
    status = PaymentStatus(status)
    with transaction.atomic():
        payment = _payment_for_update(
            provider=provider,
            provider_order_id=provider_order_id,
            provider_payment_id=provider_payment_id,
        )
        if payment is None:
            logger.info(
                "%s payment %s/%s is not ours", provider, provider_order_id, provider_payment_id
            )
            return None
        if status == PaymentStatus.CAPTURED:
            _capture_locked(
                payment, amount=amount, currency=currency, provider_payment_id=provider_payment_id
            )
            return payment
        if PAYMENT_STATUS_RANK[status] <= PAYMENT_STATUS_RANK[payment.status]:
            return payment
        now = timezone.now()
        if status == PaymentStatus.AUTHORIZED:
            _check_amount(payment, amount, currency)
            payment.status = PaymentStatus.AUTHORIZED
            payment.authorized_at = now
            if provider_payment_id:
                payment.provider_payment_id = provider_payment_id
            payment.save(
                update_fields=["status", "authorized_at", "provider_payment_id", "updated_at"]
            )
            if providers.get(provider).captures_manually:
                payment_id = payment.pk

                def capture_later():
                    from billing.tasks import capture_payment

                    capture_payment.delay(str(payment_id))

                transaction.on_commit(capture_later)
        elif status == PaymentStatus.FAILED:
            payment.status = PaymentStatus.FAILED
            payment.failure_reason = failure_reason[:300]
            payment.save(update_fields=["status", "failure_reason", "updated_at"])
            hooks.emit(payment.purpose, event="failed", payment=payment, reason=failure_reason)
        return payment


def payment_confirm_client(
    *, checkout: CheckoutSession, order_id: str, payment_id: str, signature: str
) -> Payment:
    """Razorpay Checkout's callback: the payer's browser brings back (order, payment,
    signature). A valid signature marks the payment authorized; the webhook confirms it."""
    from billing.providers import razorpay as razorpay_provider

    payment = checkout.payment
    if payment is None or payment.provider_order_id != order_id:
        raise Invalid("This payment does not belong to this checkout.", code="checkout_mismatch")
    if not razorpay_provider.verify_payment_signature(
        order_id=order_id, payment_id=payment_id, signature=signature
    ):
        raise Invalid("The payment signature is not valid.", code="invalid_signature")
    return payment_record_event(
        provider=payment.provider,
        provider_order_id=order_id,
        provider_payment_id=payment_id,
        status=PaymentStatus.AUTHORIZED,
    )


def _check_amount(payment: Payment, amount, currency) -> None:
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
        return _capture_locked(
            payment, amount=amount, currency=currency, provider_payment_id=provider_payment_id
        )


def _capture_locked(
    payment: Payment, *, amount=None, currency=None, provider_payment_id: str = ""
) -> LedgerTransaction:
    """payment_capture for a payment this transaction has locked already (updated in place)."""
    assert transaction.get_connection().in_atomic_block, "call inside the lock's transaction"
    _check_amount(payment, amount, currency)
    ledger_transaction, created = ledger_post(
        kind=TransactionKind.CAPTURE,
        idempotency_key=f"capture:{payment.pk}",
        reference=f"payment:{payment.pk}",
        legs=[
            Leg(external_code(payment.provider, "payments"), payment.currency, -payment.amount),
            Leg(_source_code(payment), payment.currency, payment.amount),
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


# --- escrow release -------------------------------------------------------------------------


def escrow_release(
    *,
    reference: str,
    musician,
    amount: int,
    platform_fee: int,
    currency: str,
    idempotency_key: str,
    scope: str = "order",
) -> LedgerTransaction:
    """Move `amount` out of the escrow of ``<scope>:<reference>``: ``amount - platform_fee``
    to the musician's payable, ``platform_fee`` to platform revenue. Raises
    InsufficientFunds when the escrow holds less (it never goes negative)."""
    amount = _amount(amount)
    currency = _currency(currency)
    if not isinstance(platform_fee, int) or not 0 <= platform_fee <= amount:
        raise Invalid("The platform fee must be between 0 and the amount.", code="invalid_fee")
    legs = [Leg(purposes.escrow_code(scope, str(reference)), currency, -amount)]
    if amount - platform_fee:
        legs.append(
            Leg(payable_code(musician.pk), currency, amount - platform_fee, owner_id=musician.pk)
        )
    if platform_fee:
        legs.append(Leg(PLATFORM_FEES, currency, platform_fee))
    ledger_transaction, _created = ledger_post(
        kind=TransactionKind.RELEASE,
        idempotency_key=idempotency_key,
        reference=f"{scope}:{reference}",
        legs=legs,
        memo=f"release to {musician.pk}",
    )
    return ledger_transaction


# --- refunds --------------------------------------------------------------------------------


def _refund_post(refund: Refund, payment: Payment) -> None:
    ledger_post(
        kind=TransactionKind.REFUND,
        idempotency_key=f"refund:{refund.pk}",
        reference=f"payment:{payment.pk}",
        legs=[
            Leg(_source_code(payment), refund.currency, -refund.amount),
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
            Leg(_source_code(payment), refund.currency, refund.amount),
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
        amount = remaining if amount is None else _amount(amount)
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
        payment = _payment_for_update(
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
            _capture_locked(payment, provider_payment_id=provider_payment_id)
        if refund is None:
            amount = _amount(int(amount or 0))
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


# --- payouts --------------------------------------------------------------------------------


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
    amount = _amount(amount)
    currency = _currency(currency)
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


def payment_get(*, payment_id) -> Payment:
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("No such payment.")
    return payment
