"""Celery tasks: one per delivery (idempotent, acks_late, bounded retries with backoff)."""

import logging
import secrets

from celery import shared_task
from celery.exceptions import Retry
from django.conf import settings
from kombu.exceptions import OperationalError as BrokerError

from notifications import sending
from notifications.providers import TransientError

logger = logging.getLogger(__name__)


def retry_countdown(retries: int) -> int:
    """Exponential backoff with jitter: about 30 s, 60 s, 120 s... capped (settings)."""
    base = settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS
    ceiling = min(settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS, base * (2**retries))
    half = max(ceiling // 2, 0)
    return half + secrets.randbelow(half + 1) if half else ceiling


@shared_task(bind=True, name="notifications.deliver", acks_late=True, ignore_result=True)
def deliver(self, delivery_id: int) -> None:
    """Send one delivery. Transient provider errors are retried up to
    NOTIFICATIONS_MAX_RETRIES times; permanent ones fail the delivery at once. Running twice
    (a redelivered message, a duplicate queueing) sends once: the row is claimed first."""
    try:
        sending.delivery_send(delivery_id=delivery_id)
    except TransientError as error:
        max_retries = settings.NOTIFICATIONS_MAX_RETRIES
        if self.request.retries >= max_retries:
            sending.delivery_give_up(delivery_id=delivery_id, error=error)
            return
        logger.info(
            "delivery %s: transient error (try %s of %s): %s",
            delivery_id,
            self.request.retries + 1,
            max_retries + 1,
            error,
        )
        raise self.retry(
            exc=error, countdown=retry_countdown(self.request.retries), max_retries=max_retries
        ) from None


def delivery_enqueue(delivery_id: int) -> None:
    """Queue the task of one delivery. A broker that cannot take it leaves the row queued for
    ``redispatch_stale``; the caller's work is not undone for it."""
    try:
        deliver.delay(delivery_id)
    except BrokerError:
        logger.exception("could not queue delivery %s; it will be retried", delivery_id)
    except Retry:
        # Only when tasks run inline (CELERY_TASK_ALWAYS_EAGER): a retry cannot be scheduled
        # there, so the row stays queued for redispatch_stale.
        logger.warning("delivery %s will be retried later", delivery_id)


@shared_task(name="notifications.redispatch_stale", acks_late=True, ignore_result=True)
def redispatch_stale() -> int:
    """Queue again the deliveries whose task was lost (see sending.deliveries_stale_collect)."""
    ids = sending.deliveries_stale_collect()
    for delivery_id in ids:
        delivery_enqueue(delivery_id)
    return len(ids)
