"""Fan-out of room changes over the channel layer, after the database has committed them."""

import time
from contextvars import ContextVar

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

# Set while a consumer runs a service in the database thread (room_service_call): committed
# events are collected there and sent by the consumer, from the event loop.
_collected: ContextVar[list | None] = ContextVar("room_events_collected", default=None)


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
        collected = _collected.get()
        if collected is not None:
            collected.append((room_id, events))
            return
        async_to_sync(get_channel_layer().group_send)(
            room_group_name(room_id), {"type": "room.events", "events": events}
        )

    transaction.on_commit(send)


async def room_service_call(function, **kwargs):
    """``function(**kwargs)`` (a room service) in the database thread, from a consumer. The
    events it commits are sent from the event loop once it returns (or raises): the database
    thread, which every connection of the process shares, never waits on the loop while it is
    busy sending frames, so one room's fan-out does not hold up another room's command."""

    def call():
        token = _collected.set([])
        try:
            return function(**kwargs), None, _collected.get()
        except Exception as error:  # noqa: BLE001 - re-raised below, after the sends
            return None, error, _collected.get()
        finally:
            _collected.reset(token)

    result, error, collected = await database_sync_to_async(call)()
    layer = get_channel_layer()
    for room_id, events in collected:
        await layer.group_send(room_group_name(room_id), {"type": "room.events", "events": events})
    if error is not None:
        raise error
    return result
