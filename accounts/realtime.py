"""Pushing events to a person's open pages over the channel layer."""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def user_group_name(user_id) -> str:
    return f"user.{user_id}"


def user_event_push(*, user_id, event: dict) -> None:
    """Send `event` to every open connection of the person, once the transaction commits."""

    def send():
        layer = get_channel_layer()
        async_to_sync(layer.group_send)(
            user_group_name(user_id), {"type": "user.event", "event": event}
        )

    transaction.on_commit(send)
