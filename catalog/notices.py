"""What the catalog tells people, through ``notifications.services.notify``: an artist whose song
or album staff hid (and why), or listed again.

Called from the moderation services inside their transaction: notify writes its delivery rows
there and sends after the commit. Each hiding is its own occurrence (keyed by when it happened),
so a song hidden, restored and hidden again is told about twice, and a retried call once.
"""

import logging

from django.urls import reverse

from notifications.services import notify

logger = logging.getLogger(__name__)


def _context(item, *, kind: str) -> dict:
    return {
        "kind": kind,
        "title": item.title,
        "url": reverse(f"catalog:{kind}", args=[item.pk]),
    }


def _send(event: str, item, *, kind: str, context: dict, key: str) -> None:
    try:
        notify(event, recipient=item.artist.user, context=context, key=key)
    except Exception:  # a notification never undoes the moderation
        logger.exception("could not record the %s notification of %s %s", event, kind, item.pk)


def hidden(item, *, kind: str) -> None:
    """`item` (a Song or an Album, just hidden) is kept from listeners: its artist learns why."""
    _send(
        "catalog.hidden",
        item,
        kind=kind,
        context={**_context(item, kind=kind), "reason": item.hidden_reason},
        key=f"catalog.hidden:{kind}:{item.pk}:{item.hidden_at.timestamp()}",
    )


def restored(item, *, kind: str) -> None:
    """`item`, hidden before, is listed again."""
    _send(
        "catalog.restored",
        item,
        kind=kind,
        context=_context(item, kind=kind),
        key=f"catalog.restored:{kind}:{item.pk}:{item.updated_at.timestamp()}",
    )
