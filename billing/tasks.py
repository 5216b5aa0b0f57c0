"""Celery tasks: idempotent, acks_late, bounded retries with backoff, explicit names."""

import logging
import secrets

from celery import shared_task

from billing import services
from billing.errors import ProviderError
from billing.providers import sandbox
from billing.services import payouts

logger = logging.getLogger(__name__)
MAX_RETRIES = 8


def retry_countdown(retries: int, base: int = 30, ceiling: int = 3600) -> int:
    """Exponential backoff with jitter: about 30 s, 60 s, 120 s... capped at an hour."""
    delay = min(ceiling, base * (2**retries))
    half = delay // 2
    return half + secrets.randbelow(half + 1)


@shared_task(name="billing.retry_failed_webhooks", acks_late=True, ignore_result=True)
def retry_failed_webhooks() -> int:
    """Process again the webhook events whose processing failed and whose retry is due."""
    return services.webhooks_retry_due()


@shared_task(name="billing.downgrade_past_due", acks_late=True, ignore_result=True)
def downgrade_past_due() -> int:
    """Back to free: past-due subscriptions past BILLING_GRACE_PERIOD_DAYS."""
    return services.subscriptions_downgrade_past_due()


@shared_task(name="billing.release_payout_holds", acks_late=True, ignore_result=True)
def release_payout_holds() -> dict[str, int]:
    """Pay musicians what is past its hold, retry the failed transfers that are due, look up
    transfers stuck on their way (see billing.services.payouts). Safe to run concurrently."""
    return payouts.payouts_run()


@shared_task(bind=True, name="billing.capture_payment", acks_late=True, ignore_result=True)
def capture_payment(self, payment_id: str) -> None:
    """Capture an authorized payment at the provider (Razorpay) and record it."""
    try:
        services.payment_capture_at_provider(payment_id=payment_id)
    except ProviderError as error:
        if self.request.retries >= MAX_RETRIES:
            logger.error("payment %s: capture gave up: %s", payment_id, error)
            return
        raise self.retry(exc=error, countdown=retry_countdown(self.request.retries)) from None


@shared_task(bind=True, name="billing.cancel_at_provider", acks_late=True, ignore_result=True)
def cancel_at_provider(self, subscription_id: str) -> None:
    """Tell the provider a subscription downgraded here has ended (so it stops charging)."""
    try:
        services.subscription_cancel_at_provider(subscription_id=subscription_id)
    except ProviderError as error:
        if self.request.retries >= MAX_RETRIES:
            logger.error("subscription %s: provider cancel gave up: %s", subscription_id, error)
            return
        raise self.retry(exc=error, countdown=retry_countdown(self.request.retries)) from None


@shared_task(bind=True, name="billing.sandbox_deliver_webhook", acks_late=True, ignore_result=True)
def sandbox_deliver_webhook(self, body: str) -> None:
    """The sandbox provider sending one signed webhook (signed at each attempt, like Stripe)."""
    try:
        sandbox.deliver(body)
    except sandbox.DeliveryFailed as error:
        if self.request.retries >= MAX_RETRIES:
            logger.error("sandbox webhook gave up after %s tries: %s", MAX_RETRIES, error)
            return
        raise self.retry(
            exc=error, countdown=retry_countdown(self.request.retries, base=5)
        ) from None


@shared_task(name="billing.sandbox_advance", acks_late=True, ignore_result=True)
def sandbox_advance() -> int:
    """The sandbox's clock: renewals, trial reminders, ends at period end."""
    from billing import providers

    if not providers.sandbox_enabled():
        return 0
    return sandbox.advance()
