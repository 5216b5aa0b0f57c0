"""Fan-out of room changes over the channel layer, after the database has committed them."""

import time

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def now_ms() -> int:
    """The server clock every room is anchored on: wall-clock milliseconds, the same in every
    process of a deployment (their hosts keep NTP time)."""
    return time.time_ns() // 1_000_000


def room_group_name(room_id) -> str:
    return f"room.{room_id}"


def room_events_send(*, room_id, events: list[dict]) -> None:
    """Send ``events`` to every open connection of the room once the transaction commits, so
    nobody hears of a change that was rolled back. Each consumer personalises ``room.state``
    (its member's own stream links) before passing it on."""

    def send():
        async_to_sync(get_channel_layer().group_send)(
            room_group_name(room_id), {"type": "room.events", "events": events}
        )

    transaction.on_commit(send)
