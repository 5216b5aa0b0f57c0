"""Celery tasks: idempotent, acks_late, explicit names."""

from celery import shared_task

from orders import services


@shared_task(name="orders.expire_offers", acks_late=True, ignore_result=True)
def expire_offers() -> int:
    """Expire unanswered offers and move their orders to the next candidate."""
    return services.offers_expire_due()


@shared_task(name="orders.rematch_waiting", acks_late=True, ignore_result=True)
def rematch_waiting() -> int:
    """Offer again the paid orders that found no musician free."""
    return services.orders_rematch()


@shared_task(name="orders.chat_digests", acks_late=True, ignore_result=True)
def chat_digests() -> int:
    """Sum up unread chat messages for the people who were offline when they arrived."""
    return services.chat_digests_send()
