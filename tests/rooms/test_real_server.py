"""The room's flows against a real ASGI server: daphne in its own process, channels-redis on
the real Redis, PostgreSQL, and `websockets` clients authenticated by token (no Origin), as a
phone app connects. Then the server is stopped and a new one started: the room comes back
from the database.

Services tests: they run when DATABASE_URL and REDIS_URL are set (tests/conftest.py).
"""

import asyncio
import json
import os
from urllib.parse import urlsplit

import pytest
import websockets
from django.db import connection

from accounts.services import api_token_issue
from rooms.realtime import now_ms
from tests.config.test_live_events_across_processes import (
    BIN,
    ROOT,
    free_port,
    start,
    stop,
    wait_until_serving,
)
from tests.factories import UserFactory
from tests.rooms.conftest import room_with, song_with_ladder

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server_env(tmp_path, settings):
    """The server process reads the test's database and Redis."""
    url = urlsplit(os.environ["DATABASE_URL"])
    database = url._replace(path=f"/{connection.settings_dict['NAME']}").geturl()
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=database,
        REDIS_URL=settings.REDIS_URL,
        ENCORE_VAR_DIR=str(tmp_path / "var"),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


def serve(env, tmp_path, name):
    port = free_port()
    log = tmp_path / f"{name}.log"
    process = start(
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        env,
        log,
    )
    wait_until_serving(f"http://127.0.0.1:{port}", process, log)
    return process, f"ws://127.0.0.1:{port}"


class Client:
    def __init__(self, ws):
        self.ws = ws

    async def send(self, **message):
        await self.ws.send(json.dumps(message))

    async def next(self, kind, where=lambda m: True, timeout=10.0):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), deadline - loop.time()))
            if message["type"] == kind and where(message):
                return message

    async def state(self, where=lambda s: True):
        return (await self.next("room.state", lambda m: where(m["state"])))["state"]


def test_room_flows_on_a_real_server_and_across_a_restart(server_env, tmp_path):
    host_user, guest_user = UserFactory(), UserFactory()
    room = room_with(host_user, guest_user)
    song = song_with_ladder(title="Real Tide")
    tokens = {"host": api_token_issue(user=host_user), "guest": api_token_issue(user=guest_user)}
    outsider = api_token_issue(user=UserFactory())
    process, base = serve(server_env, tmp_path, "first")

    def url(token):
        return f"{base}/ws/rooms/{room.pk}/?token={token}"

    async def first_life():
        async with websockets.connect(url(outsider)) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd.code == 4403
        async with (
            websockets.connect(url(tokens["host"])) as h,
            websockets.connect(url(tokens["guest"])) as g,
        ):
            host, guest = Client(h), Client(g)
            await host.state()
            await guest.state()
            before = now_ms()
            await host.send(type="time.ping", t0=1.5)
            pong = await host.next("time.pong")
            assert pong["t0"] == 1.5 and before <= pong["server_ms"] <= now_ms()

            await guest.send(type="command", action="play", song_id=str(song.pk))
            assert (await guest.next("error"))["code"] == "not_host"

            await host.send(type="command", action="play", song_id=str(song.pk))
            waiting = await guest.state(lambda s: s["status"] == "waiting")
            await host.send(type="ready", version=waiting["version"])
            sent = now_ms()
            await guest.send(type="ready", version=waiting["version"])
            playing = await host.state(lambda s: s["status"] == "playing")
            assert sent + 500 <= playing["at_server_ms"] <= now_ms() + 500

            await host.send(type="command", action="seek", position_ms=90_000)
            seek = await guest.state(lambda s: s["position_ms"] == 90_000)
        # A reconnect finds the same moment.
        async with websockets.connect(url(tokens["guest"])) as g:
            again = await Client(g).state()
            for key in ("status", "position_ms", "at_server_ms", "queue", "host_id"):
                assert again[key] == seek[key], key
        return seek

    try:
        seek = asyncio.run(first_life())
    finally:
        stop(process)

    process, base = serve(server_env, tmp_path, "second")

    async def second_life():
        async with websockets.connect(url(tokens["host"])) as h:
            host = Client(h)
            after = await host.state()
            for key in ("status", "position_ms", "at_server_ms", "queue", "host_id"):
                assert after[key] == seek[key], key
            assert after["song"]["id"] == str(song.pk)
            await host.send(type="command", action="pause")
            paused = await host.state(lambda s: s["status"] == "paused")
            assert paused["position_ms"] > 90_000

    try:
        asyncio.run(second_life())
    finally:
        stop(process)
