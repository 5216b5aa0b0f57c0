"""Celery tasks that ask a payment provider for something from the worker, retried with
backoff: capturing an authorized payment, cancelling a subscription that ended here.

Billing's services schedule them after their commit. Each task runs a service of a lower
module than the one that schedules it (``captures`` for ``payments``, ``subscriptions`` for
``renewals``), so the schedulers import this module at the top and nothing here imports them
back. The beat's tasks are in billing/tasks.py.
"""

import logging
import secrets

from celery import shared_task

from billing.errors import ProviderError
from billing.services import captures, subscriptions

logger = logging.getLogger(__name__)
MAX_RETRIES = 8


def retry_countdown(retries: int, base: int = 30, ceiling: int = 3600) -> int:
    """Exponential backoff with jitter: about 30 s, 60 s, 120 s... capped at an hour."""
    delay = min(ceiling, base * (2**retries))
    half = delay // 2
    return half + secrets.randbelow(half + 1)


def retry_with_backoff(task, error: Exception, *, base: int = 30) -> None:
    """Retry ``task`` after ``retry_countdown`` (this raises Celery's Retry); returns only once
    MAX_RETRIES are spent, for the caller to log that it gave up."""
    if task.request.retries < MAX_RETRIES:
        countdown = retry_countdown(task.request.retries, base=base)
        raise task.retry(exc=error, countdown=countdown) from None


@shared_task(bind=True, name="billing.capture_payment", acks_late=True, ignore_result=True)
def capture_payment(self, payment_id: str) -> None:
    """Capture an authorized payment at the provider (Razorpay) and record it."""
    try:
        captures.payment_capture_at_provider(payment_id=payment_id)
    except ProviderError as error:
        retry_with_backoff(self, error)
        logger.error("payment %s: capture gave up: %s", payment_id, error)


@shared_task(bind=True, name="billing.cancel_at_provider", acks_late=True, ignore_result=True)
def cancel_at_provider(self, subscription_id: str) -> None:
    """Tell the provider a subscription downgraded here has ended (so it stops charging)."""
    try:
        subscriptions.subscription_cancel_at_provider(subscription_id=subscription_id)
    except ProviderError as error:
        retry_with_backoff(self, error)
        logger.error("subscription %s: provider cancel gave up: %s", subscription_id, error)
