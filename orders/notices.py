"""What orders tell people, through ``notifications.services.notify``, after the commit."""

import logging
from datetime import datetime

from django.db import transaction

logger = logging.getLogger(__name__)


def order_url(order) -> str:
    return f"/orders/{order.pk}/"


def schedule(event: str, *, recipient, order, key: str, **context) -> None:
    """Send `event` about `order` to `recipient` once the current transaction commits."""
    if recipient is None:
        return
    full_context = {"order_title": order.title, "url": order_url(order), **context}
    full_key = f"order:{order.pk}:{key}"[:200]

    def send():
        from notifications.services import notify

        try:
            notify(event, recipient=recipient, context=full_context, key=full_key)
        except Exception:  # a notification never undoes what happened to the order
            logger.exception("could not notify %s about order %s", event, order.pk)

    transaction.on_commit(send)


def expires_context(expires_at: datetime) -> dict:
    return {"expires_at": expires_at, "expires": expires_at.strftime("%d %b %Y %H:%M UTC")}
