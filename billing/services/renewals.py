"""Renewals: each subscription charge recorded as a payment to revenue, once; a failed charge
told to the subscriber (the status itself comes with the subscription's own snapshot); a
subscription still past due after BILLING_GRACE_PERIOD_DAYS goes back to free, and the
provider is told to stop charging it."""

from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import notices, plans, provider_tasks
from billing.models import Payment, PaymentStatus, Subscription, SubscriptionStatus
from billing.services import captures, payments
from billing.services.entitlements import entitlements_invalidate
from billing.services.seats import seats_release
from billing.services.subscriptions import subscription_for_update, subscription_people


def _invoice_payment(subscription, *, provider, invoice_id, amount, currency) -> Payment:
    payment = (
        Payment.objects.select_for_update()
        .filter(provider=provider, provider_payment_id=invoice_id)
        .first()
    )
    if payment is not None:
        return payment
    try:
        with transaction.atomic():
            return Payment.objects.create(
                payer=subscription.user,
                provider=provider,
                purpose="subscription",
                reference=str(subscription.pk),
                description=f"{plans.get(subscription.plan).name} subscription",
                amount=amount,
                currency=currency,
                provider_payment_id=invoice_id,
            )
    except IntegrityError:
        return Payment.objects.select_for_update().get(
            provider=provider, provider_payment_id=invoice_id
        )


def _invoice_subscription(provider, provider_subscription_id, *, metadata, customer_id):
    """The invoice's subscription, locked (made from the invoice's metadata when the
    subscription's own event has not come yet)."""
    return subscription_for_update(
        provider=provider,
        provider_subscription_id=provider_subscription_id,
        user_id=metadata.get("encore_user"),
        plan=metadata.get("encore_plan"),
        customer_id=customer_id,
    )


def subscription_invoice_paid(
    *,
    provider: str,
    invoice_id: str,
    provider_subscription_id: str,
    amount: int,
    currency: str,
    metadata: dict,
    customer_id: str = "",
    attempt: int = 1,
):
    """A subscription invoice was paid: the charge is recorded as revenue, once."""
    if not provider_subscription_id:
        return None
    with transaction.atomic():
        subscription = _invoice_subscription(
            provider, provider_subscription_id, metadata=metadata, customer_id=customer_id
        )
        if amount <= 0:
            return subscription  # the 0 invoice that opens a trial
        payment = _invoice_payment(
            subscription, provider=provider, invoice_id=invoice_id, amount=amount, currency=currency
        )
        captures.payment_capture(payment=payment, amount=amount, currency=currency)
        return payment


def subscription_invoice_failed(
    *,
    provider: str,
    invoice_id: str,
    provider_subscription_id: str,
    amount: int,
    currency: str,
    metadata: dict,
    customer_id: str = "",
    attempt: int = 1,
):
    """A subscription charge failed: recorded, and the subscriber is told (once per attempt).
    The status (past_due) comes with the subscription's own snapshot."""
    if not provider_subscription_id:
        return None
    with transaction.atomic():
        subscription = _invoice_subscription(
            provider, provider_subscription_id, metadata=metadata, customer_id=customer_id
        )
        if amount > 0:
            _invoice_payment(
                subscription,
                provider=provider,
                invoice_id=invoice_id,
                amount=amount,
                currency=currency,
            )
            payments.payment_record_event(
                provider=provider,
                provider_payment_id=invoice_id,
                status=PaymentStatus.FAILED,
                failure_reason="The subscription payment failed.",
            )
        notices.payment_failed(
            subscription, invoice_id=invoice_id, attempt=attempt, amount=amount, currency=currency
        )
        return subscription


def subscriptions_downgrade_past_due(*, now=None) -> int:
    """Past-due subscriptions whose grace period is over go back to free (beat task); the
    provider is then told to cancel them."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.BILLING_GRACE_PERIOD_DAYS)
    due = Subscription.objects.filter(
        status=SubscriptionStatus.PAST_DUE, past_due_since__lte=cutoff
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due[:500]):
        with transaction.atomic():
            subscription = Subscription.objects.select_for_update().get(pk=pk)
            if (
                subscription.status != SubscriptionStatus.PAST_DUE
                or subscription.past_due_since > cutoff
            ):
                continue
            people = subscription_people(subscription)
            subscription.status = SubscriptionStatus.CANCELED
            subscription.ended_at = now
            subscription.canceled_at = subscription.canceled_at or now
            subscription.ended_reason = "payment_failed"
            subscription.synced_at = max(subscription.synced_at or now, now)
            subscription.save()
            seats_release(subscription)
            entitlements_invalidate(people)
            transaction.on_commit(lambda pk=pk: provider_tasks.cancel_at_provider.delay(str(pk)))
        count += 1
    return count
