"""Celery tasks: idempotent, acks_late, bounded retries with backoff, explicit names.

The beat's tasks, and the sandbox's webhook delivery (handed to the sandbox by
config/wiring.py). The tasks billing's services schedule are in billing/provider_tasks.py.
"""

import logging

from celery import shared_task

from billing import providers, services
from billing.provider_tasks import MAX_RETRIES, retry_with_backoff
from billing.providers import sandbox
from billing.services import payouts

logger = logging.getLogger(__name__)


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


@shared_task(bind=True, name="billing.sandbox_deliver_webhook", acks_late=True, ignore_result=True)
def sandbox_deliver_webhook(self, body: str) -> None:
    """The sandbox provider sending one signed webhook (signed at each attempt, like Stripe)."""
    try:
        sandbox.deliver(body)
    except sandbox.DeliveryFailed as error:
        retry_with_backoff(self, error, base=5)
        logger.error("sandbox webhook gave up after %s tries: %s", MAX_RETRIES, error)


@shared_task(name="billing.sandbox_advance", acks_late=True, ignore_result=True)
def sandbox_advance() -> int:
    """The sandbox's clock: renewals, trial reminders, ends at period end."""
    if not providers.sandbox_enabled():
        return 0
    return sandbox.advance()
