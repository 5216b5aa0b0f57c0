"""Celery tasks: one per delivery (idempotent, acks_late, bounded retries with backoff)."""

import logging
import secrets

from celery import shared_task
from django.conf import settings

from notifications import services
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
        services.delivery_send(delivery_id=delivery_id)
    except TransientError as error:
        max_retries = settings.NOTIFICATIONS_MAX_RETRIES
        if self.request.retries >= max_retries:
            services.delivery_give_up(delivery_id=delivery_id, error=error)
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


@shared_task(name="notifications.redispatch_stale", acks_late=True, ignore_result=True)
def redispatch_stale() -> int:
    """Queue again deliveries whose task was lost (see services.deliveries_redispatch_stale)."""
    return services.deliveries_redispatch_stale()
