"""Listening-room fan-out: the latency from a command to its arrival at every member, over
channels-redis, next to the bare Redis pub/sub round trip measured in the same run.

    .venv/bin/python bench/rooms.py [--commands 30] [--every 1.0] [--rooms 20] [--members 32]

Redis: REDIS_URL, default redis://127.0.0.1:6379/10. The site runs under daphne (as
``make serve`` runs it) in a child process with channels-redis on that Redis and a temporary
SQLite database (tables made from the models), unless DATABASE_URL is set. Every member is a
real websocket client (``websockets``) authenticated by an API token, as a phone app would be.

- one room: ``--members`` members; the host sends ``--commands`` seeks, one every ``--every``
  seconds (default 1: a lively room; people do not press a button more often than that); each
  member records when the ``room.state`` carrying that seek arrives;
- many rooms: ``--rooms`` such rooms at once, their hosts seeking at the same pace, offset at
  random so commands from different rooms overlap (20 rooms: 20 commands a second);
- baseline: ``PUBLISH`` to a channel one client subscribes to, the round trip as seen by one
  process (redis-py asyncio), ``--commands`` x 10 samples.

A command's latency is measured from just before its frame is sent to the arrival of the
resulting state at a member: a database transaction (the room's row lock, the new version,
the state read), a group_send through Redis, and one websocket frame per member. Printed: p50
and p99 over every (command, member) arrival, and p50/p99 of the slowest member per command.
Goal: p99 <= 50 ms on loopback.
"""

import argparse
import asyncio
import gc
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent
WORK = Path(tempfile.mkdtemp(prefix="encore-bench-rooms-"))
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/10"
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "ENCORE_VAR_DIR": str(WORK / "var"),
    "MEDIA_ROOT": str(WORK / "media"),
    "REDIS_URL": REDIS_URL,
    # A prefix of its own: the run never meets another process's groups on a shared Redis.
    "CHANNEL_LAYER_PREFIX": f"bench-rooms-{os.getpid()}",
    "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{WORK / 'bench.sqlite3'}",
    "LOG_LEVEL": "WARNING",
    "DEBUG": "false",
    # 640 members sign in by token within seconds; the throttles are not under test.
    "THROTTLE_USER": "100000/minute",
    "THROTTLE_ANON": "100000/minute",
}
os.environ.update(SERVER_ENV)


class _NoMigrations:
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


def prepare(rooms: int, members: int) -> list[dict]:
    """Tables, one song, ``rooms`` rooms of ``members`` people each, a token per person."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from accounts.models import User
    from accounts.services import api_token_issue
    from audio.models import AudioAsset, Rendition
    from catalog.models import Song
    from catalog.services import artist_ensure
    from rooms.models import Room, RoomMember, RoomQueueEntry

    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        settings.MIGRATION_MODULES = _NoMigrations()  # tables straight from the models: fast
        call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    else:
        call_command("migrate", verbosity=0, interactive=False)
    musician = User.objects.create_user(
        email=f"bench-{os.getpid()}@example.com",
        password=None,
        is_musician=True,
        display_name="Bench",
    )
    artist = artist_ensure(user=musician)
    asset = AudioAsset.objects.create(
        owner=musician,
        purpose=AudioAsset.Purpose.CATALOG,
        original=ContentFile(b"\0" * 4096, name="original.mp3"),
        original_name="track.mp3",
        format=AudioAsset.Format.MP3,
        sha256="0" * 64,
        size=4096,
        status=AudioAsset.Status.READY,
        duration=600.0,
        bitrate=160_000,
    )
    Rendition.objects.create(
        asset=asset,
        kind=Rendition.Kind.MP3_160,
        file=ContentFile(b"\0" * 4096, name="r.mp3"),
        content_type="audio/mpeg",
        bitrate=160_000,
        size=4096,
        duration=600.0,
    )
    song = Song.objects.create(
        artist=artist, title="Bench track", asset=asset, duration=600.0, artist_name=artist.name
    )
    made = []
    for r in range(rooms):
        people = User.objects.bulk_create(
            [
                User(email=f"r{r}-m{m}-{os.getpid()}@example.com", display_name=f"R{r} M{m}")
                for m in range(members)
            ]
        )
        room = Room.objects.create(name=f"Bench {r}", visibility="public", host=people[0])
        RoomMember.objects.bulk_create([RoomMember(room=room, user=p) for p in people])
        entry = RoomQueueEntry.objects.create(room=room, song=song, added_by=people[0], position=1)
        # Playing from the start: seeks are the commands measured.
        Room.objects.filter(pk=room.pk).update(current=entry, status="playing", position_ms=0)
        made.append({"id": str(room.pk), "tokens": [api_token_issue(user=p) for p in people]})
    return made  # noqa: RET504  (read at the call)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_daphne(port: int) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603
        [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env={**os.environ, **SERVER_ENV, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=open(WORK / "daphne.log", "wb"),  # noqa: SIM115  (closed with the process)
        start_new_session=True,
    )


def wait_listening(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"daphne exited:\n{(WORK / 'daphne.log').read_text()[-3000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    sys.exit("daphne did not listen within 60 s")


# --- measuring ------------------------------------------------------------------------------


async def member(url, sent, arrivals, ready, count, total, door: asyncio.Semaphore):
    """One member: records when each measured seek's state arrives."""
    import websockets

    async with door:  # a few handshakes at a time, as people arrive
        ws = await websockets.connect(url, open_timeout=60, max_queue=None)
        first = json.loads(await ws.recv())
    async with ws:
        assert first["type"] == "room.state", first
        count[0] += 1
        if count[0] == total:
            ready.set()
        async for frame in ws:
            now = time.perf_counter()
            message = json.loads(frame)
            if message.get("type") != "room.state":
                continue
            started = sent.get(message["state"]["position_ms"])
            if started is not None:
                arrivals.append((message["state"]["position_ms"], now - started))
            if message["state"]["position_ms"] == -1:
                return


async def run_rooms(
    base: str, rooms: list[dict], commands: int, every: float
) -> list[tuple[int, float]]:
    import websockets

    arrivals: list[tuple[int, float]] = []
    ready = asyncio.Event()
    count = [0]
    total = sum(len(r["tokens"]) for r in rooms)
    sent_by_room = [{} for _ in rooms]
    tasks = []
    door = asyncio.Semaphore(8)
    for room, sent in zip(rooms, sent_by_room, strict=True):
        for token in room["tokens"]:
            url = f"{base}/ws/rooms/{room['id']}/?token={token}"
            tasks.append(
                asyncio.create_task(member(url, sent, arrivals, ready, count, total, door))
            )
    await asyncio.wait_for(ready.wait(), timeout=300)
    # Each host's controls are a connection of their own (a second device), opened before the
    # measuring starts: a connection storm is not a command's latency.
    controls = []
    for room in rooms:
        url = f"{base}/ws/rooms/{room['id']}/?token={room['tokens'][0]}"
        controls.append(await websockets.connect(url, open_timeout=60, max_queue=None))
    drains = [asyncio.create_task(_drain(ws)) for ws in controls]
    await asyncio.sleep(1.0)  # the joins' own broadcasts have passed
    # This process plays hundreds of members: a pause to collect its garbage would delay every
    # member's reading at once and be counted as the server's latency.
    gc.collect()
    gc.disable()

    async def host(n: int, ws, sent: dict):
        await asyncio.sleep(random.uniform(0, every))
        for c in range(commands):
            position = (n * 1000 + c + 1) * 10  # inside the 600 s song
            sent[position] = time.perf_counter()
            await ws.send(
                json.dumps({"type": "command", "action": "seek", "position_ms": position})
            )
            await asyncio.sleep(every)
        await asyncio.sleep(1.0)

    await asyncio.gather(
        *(host(n, ws, s) for n, (ws, s) in enumerate(zip(controls, sent_by_room, strict=True)))
    )
    gc.enable()
    for drain, ws in zip(drains, controls, strict=True):
        drain.cancel()
        await ws.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return arrivals


async def _drain(ws):
    async for _frame in ws:
        pass


async def redis_round_trips(samples: int) -> list[float]:
    import redis.asyncio as redis

    client = redis.Redis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    channel = f"bench-rooms-ping-{os.getpid()}"
    await pubsub.subscribe(channel)
    await pubsub.get_message(timeout=1)  # the subscribe confirmation
    times = []
    for n in range(samples):
        started = time.perf_counter()
        await client.publish(channel, str(n))
        while True:
            message = await pubsub.get_message(timeout=5)
            if message and message["type"] == "message":
                break
        times.append(time.perf_counter() - started)
        await asyncio.sleep(0.002)
    await pubsub.unsubscribe(channel)
    await client.aclose()
    return times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))] * 1000


def report(label: str, arrivals: list[tuple[int, float]], expected: int) -> float:
    latencies = [latency for _pos, latency in arrivals]
    slowest: dict[int, float] = {}
    for position, latency in arrivals:
        slowest[position] = max(slowest.get(position, 0.0), latency)
    lost = expected - len(arrivals)
    print(
        f"{label:<26} arrivals {len(arrivals):>6} (missing {lost})  "
        f"p50 {pct(latencies, 50):6.1f} ms  p99 {pct(latencies, 99):6.1f} ms  "
        f"| slowest member per command p50 {pct(list(slowest.values()), 50):6.1f} ms  "
        f"p99 {pct(list(slowest.values()), 99):6.1f} ms"
    )
    return pct(latencies, 99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=30)
    parser.add_argument("--rooms", type=int, default=20)
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between a host's seeks")
    args = parser.parse_args()

    print(f"preparing {args.rooms} rooms of {args.members} in {WORK} ...")
    made = prepare(args.rooms, args.members)
    port = free_port()
    server = start_daphne(port)
    try:
        wait_listening(port, server)
        base = f"ws://127.0.0.1:{port}"
        baseline = asyncio.run(redis_round_trips(args.commands * 10))
        one = asyncio.run(run_rooms(base, made[:1], args.commands, args.every))
        many = asyncio.run(run_rooms(base, made, args.commands, args.every))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()

    print(f"\nRedis {REDIS_URL}, daphne on loopback, {os.cpu_count()} CPUs")
    print(
        f"{'bare Redis pub/sub RTT':<26} samples  {len(baseline):>6}              "
        f"p50 {pct(baseline, 50):6.1f} ms  p99 {pct(baseline, 99):6.1f} ms"
    )
    report(f"1 room x {args.members}", one, args.commands * args.members)
    p99 = report(
        f"{args.rooms} rooms x {args.members}", many, args.commands * args.members * args.rooms
    )
    print(f"\ngoal p99 <= 50 ms: {'met' if p99 <= 50 else 'NOT met'} ({p99:.1f} ms)")
    print(f"median bare Redis RTT {statistics.median(baseline) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
