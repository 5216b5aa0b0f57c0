"""What the room tests share: songs with a real MP3 ladder, rooms with members, and a
websocket member that reads the protocol's messages by type."""

import asyncio

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files.base import ContentFile

from accounts.services import api_token_issue
from audio.models import Rendition
from config.asgi import application
from rooms import services
from rooms.consumers import later_cancel
from rooms.fanout import relays_stop
from tests.audio.factories import RenditionFactory
from tests.catalog.factories import SongFactory

HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]
MP3_KINDS = {96: Rendition.Kind.MP3_96, 160: Rendition.Kind.MP3_160, 320: Rendition.Kind.MP3_320}


def song_with_ladder(*, duration: float = 180.0, **fields):
    """A public song whose MP3 ladder (96, 160, 320 kbps) has landed."""
    song = SongFactory(duration=duration, **fields)
    for kbps, kind in MP3_KINDS.items():
        RenditionFactory(
            asset=song.asset,
            kind=kind,
            bitrate=kbps * 1000,
            file=ContentFile(f"rung-{kbps}".encode() * 64, name=f"{kind}.mp3"),
        )
    return song


def room_with(host, *guests, visibility="public", name="Friday listening"):
    room = services.room_create(user=host, name=name, visibility=visibility)
    for guest in guests:
        services.room_join(room_id=room.pk, user=guest, invite_token=room.invite_token)
    return room


class Member:
    """One open ws/rooms/<id>/ connection, read by message type."""

    def __init__(self, user, communicator):
        self.user = user
        self.communicator = communicator
        self.seen: list[dict] = []

    async def send(self, **message):
        await self.communicator.send_json_to(message)

    async def next(self, kind: str, *, where=lambda message: True, timeout: float = 5.0) -> dict:
        """The next message of type ``kind`` (and matching ``where``); others are kept in
        ``seen`` and skipped."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            assert remaining > 0, f"no {kind} message; saw {[m['type'] for m in self.seen]}"
            message = await self.communicator.receive_json_from(timeout=remaining)
            self.seen.append(message)
            if message["type"] == kind and where(message):
                return message

    async def state(self, where=lambda state: True, timeout: float = 5.0) -> dict:
        message = await self.next("room.state", where=lambda m: where(m["state"]), timeout=timeout)
        return message["state"]

    async def nothing(self, kind: str, seconds: float) -> None:
        """No message of type ``kind`` arrives within ``seconds``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (remaining := deadline - loop.time()) > 0:
            if await self.communicator.receive_nothing(timeout=remaining, interval=0.02):
                return
            message = await self.communicator.receive_json_from(timeout=1)
            self.seen.append(message)
            assert message["type"] != kind, f"unexpected {message}"

    async def close(self):
        # The consumer's disconnect writes to the database: give it time on a busy machine.
        await self.communicator.disconnect(timeout=10)


async def open_socket(user, room_id, *, headers=HEADERS):
    token = await database_sync_to_async(api_token_issue)(user=user)
    communicator = WebsocketCommunicator(
        application, f"/ws/rooms/{room_id}/?token={token}", headers=headers
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def join_socket(user, room_id) -> Member:
    """A member's connection, past its first room.state."""
    member = Member(user, await open_socket(user, room_id))
    await member.state()
    return member


@pytest_asyncio.fixture(autouse=True)
async def _relays_stopped():
    """A connection a test left open must not leave its room's relay reading the channel
    layer from a finished event loop (the layer's receive lock would stay bound to it)."""
    yield
    await later_cancel()
    await relays_stop()


@pytest.fixture
def fast_rooms(settings):
    """Short timeouts, so waiting and hand-over are seen within a test."""
    settings.ROOMS_READY_TIMEOUT_MS = 400
    settings.ROOMS_HOST_GRACE_SECONDS = 0.3
    return settings
