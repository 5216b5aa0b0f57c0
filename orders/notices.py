"""What orders tell people, through ``notifications.services.notify``, after the commit."""

import logging
from datetime import datetime

from django.db import transaction

from notifications.services import notify

logger = logging.getLogger(__name__)


def order_url(order) -> str:
    return f"/orders/{order.pk}/"


def notice_key(event: str, *, order, occurrence) -> str:
    """One key per occurrence: the OrderEvent the notice is about. Things that happen again
    (a second approval after a dispute, a re-delivery, a second dispute) are new occurrences
    and reach people again; a retried caller of the same occurrence sends nothing twice."""
    return f"order:{order.pk}:{occurrence.pk}:{event}"


def schedule(event: str, *, recipient, order, occurrence, **context) -> None:
    """Send `event` about `order` to `recipient` once the current transaction commits.
    `occurrence` is the OrderEvent (the timeline step) it tells of."""
    if recipient is None:
        return
    full_context = {"order_title": order.title, "url": order_url(order), **context}
    full_key = notice_key(event, order=order, occurrence=occurrence)

    def send():
        try:
            notify(event, recipient=recipient, context=full_context, key=full_key)
        except Exception:  # a notification never undoes what happened to the order
            logger.exception("could not notify %s about order %s", event, order.pk)

    transaction.on_commit(send)


def expires_context(expires_at: datetime) -> dict:
    return {"expires_at": expires_at, "expires": expires_at.strftime("%d %b %Y %H:%M UTC")}
