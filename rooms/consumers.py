"""``ws/rooms/<room_id>/``: the listening room's protocol (DESIGN section 7).

The room's state lives in the database (``rooms.services``); this consumer turns frames into
service calls and passes the room's broadcasts on, adding the member's own stream links to
``room.state``: each member hears the song at their own plan's rung (``catalog.streaming``).

Deferred work has no process of its own: every open connection plans the current state's
deadline (the waiting room's timeout, the song's end) and calls ``room_deadline`` then; the
state's version makes exactly one of them act, and whichever connection is open after a
restart plans it again from the state it reads.
"""

import asyncio
import contextlib
import json
import time
import uuid
from collections import OrderedDict, deque

from channels.db import database_sync_to_async

from catalog.selectors import songs_visible_to
from catalog.streaming import stream_for
from core.websocket import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED, JsonObjectConsumer
from rooms import services
from rooms.errors import RoomError
from rooms.fanout import relay_join, relay_leave
from rooms.presence import SEEN_EVERY_SECONDS
from rooms.realtime import now_ms, room_group_name, room_service_call
from rooms.selectors import room_member_of

CHAT_MAX_CHARS = 500
CHAT_PER_10S = 10
# A stream link is renewed this long before it expires.
STREAM_RENEW_SECONDS = 60


@database_sync_to_async
def _member(user, room_id):
    try:
        uuid.UUID(room_id)
    except ValueError:
        return None
    return room_member_of(user, room_id)


@database_sync_to_async
def _streams(user, song_id) -> dict | None:
    # Through the catalog's one gate: a queued song staff have hidden since (or its album)
    # gets no stream link.
    song = songs_visible_to(user).filter(pk=song_id).first()
    if song is None:
        return None
    mp3 = stream_for(user=user, song=song, asked="high", hls=False)
    hls = stream_for(user=user, song=song, asked="high", hls=True)
    return {
        "stream_url": mp3.url,
        "hls_url": hls.url if hls.format == "hls" else None,
        "quality": mp3.quality,
        "bitrate_kbps": mp3.bitrate_kbps,
        "max_kbps": mp3.max_kbps,
        "expires": min(mp3.expires_at, hls.expires_at).timestamp(),
    }


# A state version's shared part, encoded once per process for all its members' frames (a
# version's state never changes; only the song's stream links differ per member).
_encoded_states: OrderedDict[tuple[str, int], str] = OrderedDict()
ENCODED_STATES_KEPT = 256


def _state_frame(room_id: str, state: dict, song: dict | None) -> str:
    key = (room_id, state["version"])
    shared = _encoded_states.get(key)
    if shared is None:
        shared = json.dumps({name: value for name, value in state.items() if name != "song"})
        _encoded_states[key] = shared
        if len(_encoded_states) > ENCODED_STATES_KEPT:
            _encoded_states.popitem(last=False)
    return f'{{"type": "room.state", "state": {{"song": {json.dumps(song)}, {shared[1:]}}}'


def _call(function, **kwargs):
    return room_service_call(function, **kwargs)


class RoomConsumer(JsonObjectConsumer):
    async def connect(self):
        self.room_id = str(self.scope["url_route"]["kwargs"]["room_id"])
        user = self.scope.get("user")
        # Accepted first: a close before the handshake completes reaches the client as an
        # HTTP 403 (close code 1006), and clients could not tell "sign in" from "not yours".
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if await _member(user, self.room_id) is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        self.stream_cache: dict[str, dict] = {}
        self.deadline_task: asyncio.Task | None = None
        self.chat_times: deque[float] = deque()
        self.last_version = -1
        self.group = room_group_name(self.room_id)
        # Broadcasts arrive through the process's relay for this room (rooms.fanout), in order,
        # and are handled one at a time by this connection's own task.
        self.inbox: asyncio.Queue = asyncio.Queue()
        await relay_join(self.channel_layer, self.room_id, self.inbox)
        try:
            state = await _call(services.room_connect, room_id=self.room_id, user=user)
        except RoomError:
            await relay_leave(self.room_id, self.inbox)
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.connected = True
        await self._send_state(state)
        self.pump = asyncio.get_running_loop().create_task(self._pump())
        self.heartbeat = asyncio.get_running_loop().create_task(self._keep_seen())

    async def _keep_seen(self):
        while self.connected:
            await asyncio.sleep(SEEN_EVERY_SECONDS)
            with contextlib.suppress(RoomError):
                await _call(services.room_seen_touch, room_id=self.room_id, user=self.user)

    async def disconnect(self, code):
        if not getattr(self, "connected", False):
            return
        self.connected = False
        await self._stop_listening()
        host_away = await _call(services.room_disconnect, room_id=self.room_id, user=self.user)
        if host_away:
            # The host keeps the role through a reload; past the grace period it passes on.
            # Whoever connects or commands later checks again, so a restart loses nothing.
            task = asyncio.get_running_loop().create_task(_host_check_later(self.room_id))
            _later.add(task)
            task.add_done_callback(_later.discard)

    async def receive_json(self, content, **kwargs):
        if not getattr(self, "connected", False):
            return
        kind = content.get("type")
        handler = {
            "time.ping": self._ping,
            "rtt": self._rtt,
            "ready": self._ready,
            "chat": self._chat,
            "command": self._command,
        }.get(kind)
        if handler is None:
            await self._error("unknown_type", f"Unknown message type {kind!r}.")
            return
        try:
            await handler(content)
        except RoomError as error:
            await self._error(error.code, error.message)

    # --- client messages ----------------------------------------------------------------

    async def _ping(self, content):
        await self.send_json({"type": "time.pong", "t0": content.get("t0"), "server_ms": now_ms()})

    async def _rtt(self, content):
        await _call(
            services.room_rtt_report,
            room_id=self.room_id,
            user=self.user,
            rtt_ms=content.get("rtt_ms"),
        )

    async def _ready(self, content):
        if "rtt_ms" in content:
            await self._rtt(content)
        await _call(
            services.room_ready,
            room_id=self.room_id,
            user=self.user,
            version=content.get("version"),
        )

    async def _chat(self, content):
        text = content.get("text")
        if not isinstance(text, str) or not text.strip():
            await self._error("invalid_chat", "A chat message is some text.")
            return
        if len(text) > CHAT_MAX_CHARS:
            await self._error("chat_too_long", f"At most {CHAT_MAX_CHARS} characters.")
            return
        moment = time.monotonic()
        while self.chat_times and moment - self.chat_times[0] > 10:
            self.chat_times.popleft()
        if len(self.chat_times) >= CHAT_PER_10S:
            await self._error("rate_limited", "Slow down: at most 10 messages in 10 seconds.")
            return
        self.chat_times.append(moment)
        await self.channel_layer.group_send(
            self.group,
            {
                "type": "room.events",
                "events": [
                    {
                        "type": "chat",
                        "user": {"id": str(self.user.pk), "display_name": self.user.display_name},
                        "text": text.strip(),
                        "sent_at_ms": now_ms(),
                    }
                ],
            },
        )

    async def _command(self, content):
        action = content.get("action")
        if not isinstance(action, str):
            await self._error("invalid_action", "A command names its action.")
            return
        await _call(
            services.room_command,
            room_id=self.room_id,
            user=self.user,
            action=action,
            song_id=content.get("song_id"),
            position_ms=content.get("position_ms"),
            entry_id=content.get("entry_id"),
        )

    # --- from the group -----------------------------------------------------------------

    async def _pump(self):
        while self.connected:
            message = await self.inbox.get()
            await self.room_events(message)

    async def _stop_listening(self, *, from_pump: bool = False):
        if self.deadline_task:
            self.deadline_task.cancel()
        await relay_leave(self.room_id, self.inbox)
        if getattr(self, "heartbeat", None):
            self.heartbeat.cancel()
        if not from_pump and getattr(self, "pump", None):
            self.pump.cancel()

    async def room_events(self, message):
        for event in message["events"]:
            if event["type"] == "room.state":
                await self._send_state(event["state"])
            elif event["type"] == "member.left" and event["user_id"] == str(self.user.pk):
                await self.send_json(event)
                self.connected = False
                await self.close(code=CLOSE_FORBIDDEN)
                await self._stop_listening(from_pump=True)
                return
            else:
                await self.send_json(event)

    async def _send_state(self, state: dict):
        if state["version"] <= self.last_version:
            return  # already sent (the connect's own state), or overtaken by a newer one
        self.last_version = state["version"]
        song = state["song"]
        if song is not None:
            song = {**song, **await self._streams_for(song["id"])}
        await self.send(text_data=_state_frame(self.room_id, state, song))
        self._plan_deadline(state)

    async def _streams_for(self, song_id: str) -> dict:
        cached = self.stream_cache.get(song_id)
        if cached is None or cached["expires"] - time.time() < STREAM_RENEW_SECONDS:
            cached = await _streams(self.user, song_id) or {"stream_url": None, "hls_url": None}
            cached.setdefault("expires", time.time() + 3600)
            # Only the current song is kept: the queue moves on.
            self.stream_cache = {song_id: cached}
        return {key: value for key, value in cached.items() if key != "expires"}

    def _plan_deadline(self, state: dict):
        if self.deadline_task:
            self.deadline_task.cancel()
            self.deadline_task = None
        due = None
        if state["status"] == "waiting" and state.get("waiting_until_ms"):
            due = state["waiting_until_ms"]
        elif state["status"] == "playing" and state["song"] and state["song"]["duration_ms"]:
            due = state["at_server_ms"] + state["song"]["duration_ms"] - state["position_ms"]
        if due is not None:
            self.deadline_task = asyncio.get_running_loop().create_task(
                self._deadline(due, state["version"])
            )

    async def _deadline(self, due_ms: int, version: int):
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(max(due_ms - now_ms(), 0) / 1000 + 0.005)
            await _call(services.room_deadline, room_id=self.room_id, version=version)


# Checks planned past a disconnect, held so they are not collected before they run.
_later: set[asyncio.Task] = set()


async def later_cancel() -> None:
    """Cancel the planned checks of the running loop (a test's loop ending)."""
    loop = asyncio.get_running_loop()
    for task in [t for t in _later if t.get_loop() is loop]:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _host_check_later(room_id: str):
    await asyncio.sleep(services.host_grace_seconds() + 0.05)
    with contextlib.suppress(RoomError):
        await _call(services.room_host_check, room_id=room_id)
