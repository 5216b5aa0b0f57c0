"""One channel-layer subscription per room per process, shared by the room's connections in
that process.

Why: channels-redis delivers a group message to each member channel separately, and a
process takes the messages of its channels out of Redis one at a time, so a broadcast to a
32-member room costs 32 Redis round trips in sequence before the last member hears it (about
300 ms on a loaded 2-core machine). Here the group has one member per process, a relay
channel; the relay takes each broadcast out of Redis once and hands it to the room's local
connections in memory. The path between processes is unchanged: group_send over Redis.
"""

import asyncio
import contextlib

from rooms.realtime import room_group_name

# Keyed by the loop itself, not its id: a finished loop's id can be reused by a new one.
_relays: dict[tuple[asyncio.AbstractEventLoop, str], "RoomRelay"] = {}


class RoomRelay:
    def __init__(self, layer, room_id: str):
        self.layer = layer
        self.room_id = room_id
        self.group = room_group_name(room_id)
        self.inboxes: set[asyncio.Queue] = set()
        self.channel: str | None = None
        self.task: asyncio.Task | None = None
        self.started = asyncio.Event()

    async def start(self):
        # The default prefix: the process then reads one inbox in Redis for its consumers and
        # its relays alike (channels-redis reads one "real" channel per prefix).
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self.task = asyncio.get_running_loop().create_task(self._pump())
        self.started.set()

    async def _pump(self):
        while True:
            message = await self.layer.receive(self.channel)
            for inbox in list(self.inboxes):
                inbox.put_nowait(message)

    async def stop(self):
        if self.task:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        if self.channel:
            await self.layer.group_discard(self.group, self.channel)


async def relay_join(layer, room_id: str, inbox: asyncio.Queue) -> None:
    """Deliver the room's broadcasts to ``inbox`` from now on."""
    key = (asyncio.get_running_loop(), room_id)
    relay = _relays.get(key)
    if relay is None:
        relay = _relays[key] = RoomRelay(layer, room_id)
        relay.inboxes.add(inbox)
        await relay.start()
        return
    relay.inboxes.add(inbox)
    await relay.started.wait()


async def relay_leave(room_id: str, inbox: asyncio.Queue) -> None:
    key = (asyncio.get_running_loop(), room_id)
    relay = _relays.get(key)
    if relay is None:
        return
    relay.inboxes.discard(inbox)
    if not relay.inboxes:
        del _relays[key]
        await relay.stop()


async def relays_stop() -> None:
    """Stop every relay of the running event loop (a process, or a test's loop, ending)."""
    loop = asyncio.get_running_loop()
    for key in [key for key in _relays if key[0] is loop]:
        await _relays.pop(key).stop()
