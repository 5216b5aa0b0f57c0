"""Paying for something once: a payment is created for a purpose and a reference, the payer
is sent to the provider's checkout, and what the provider then says about it (authorized,
captured, failed) is applied. Provider events only move a payment forward (see the status
ranks in billing.models), so they converge whatever order they arrive in.
"""

import logging

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billing import hooks, provider_tasks, providers, purposes
from billing.errors import Conflict, IdempotencyConflict, Invalid, NotFound
from billing.models import (
    CAPTURED_STATUSES,
    PAYMENT_STATUS_RANK,
    CheckoutKind,
    CheckoutSession,
    Payment,
    PaymentStatus,
)
from billing.providers import razorpay as razorpay_provider
from billing.services.captures import capture_locked, check_amount, payment_for_update
from billing.services.common import currency_code, local_path, positive_amount, site_url

logger = logging.getLogger(__name__)


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
    amount = positive_amount(amount)
    currency = currency_code(currency)
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
    # Raises PaymentsNotConfigured when no provider takes payments here: nothing is recorded.
    provider = provider or providers.payment_provider_name()
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
    # The payment stays with the provider it was created at (its order there may still be
    # paid); when that provider is not set up here any more, there is nowhere to pay it.
    provider = providers.checkout_provider(payment.provider)
    open_checkout = payment.checkouts.filter(status="open").exclude(url="").first()
    if open_checkout is not None and payment.provider_order_id:
        return open_checkout  # the provider order is still payable: send the payer back to it
    checkout = CheckoutSession.objects.create(
        user=payer,
        kind=CheckoutKind.PAYMENT,
        provider=provider.name,
        payment=payment,
        return_to=local_path(return_to),
    )
    return_url = site_url(reverse("billing:checkout_return", kwargs={"checkout_id": checkout.pk}))
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
        payment = payment_for_update(
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
            capture_locked(
                payment, amount=amount, currency=currency, provider_payment_id=provider_payment_id
            )
            return payment
        if PAYMENT_STATUS_RANK[status] <= PAYMENT_STATUS_RANK[payment.status]:
            return payment
        now = timezone.now()
        if status == PaymentStatus.AUTHORIZED:
            check_amount(payment, amount, currency)
            payment.status = PaymentStatus.AUTHORIZED
            payment.authorized_at = now
            if provider_payment_id:
                payment.provider_payment_id = provider_payment_id
            payment.save(
                update_fields=["status", "authorized_at", "provider_payment_id", "updated_at"]
            )
            if providers.get(provider).captures_manually:
                payment_id = str(payment.pk)
                transaction.on_commit(lambda: provider_tasks.capture_payment.delay(payment_id))
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


def payment_get(*, payment_id) -> Payment:
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("No such payment.")
    return payment
