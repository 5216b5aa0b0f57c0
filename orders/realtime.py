"""What orders push to the open ``ws/orders/<id>/`` connections, always after the commit: the
database is the source of truth, and a rolled-back write must never reach a page."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def order_group_name(order_id) -> str:
    return f"order.{order_id}"


def group_send_now(order_id, event: dict) -> None:
    """Send ``event`` (a server event of DESIGN section 7) to every connection of the order."""
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(
        order_group_name(order_id), {"type": "order.push", "event": event}
    )


def order_push(order_id, event: dict) -> None:
    """``group_send_now`` once the current transaction commits (at once outside one)."""
    # robust: a push that cannot be sent (Redis away) never fails the request that committed;
    # the pages catch up with `sync` when they reconnect.
    transaction.on_commit(lambda: group_send_now(order_id, event), robust=True)


def order_status_push(order) -> None:
    """Tell the order's open pages its status or stage moved (called by every transition)."""
    order_push(
        order.pk,
        {"type": "order.status", "status": order.status, "stage": order.stage or None},
    )
