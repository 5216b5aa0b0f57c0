"""ws/rooms/<id>/ through the Channels communicator, on the project's channel layer (the
embedded Redis server, or channels-redis at REDIS_URL): who may connect, clock sync, commands
scheduled ahead by the room's round trips, waiting for ready, host controls and hand-over,
each member's own stream rung, and state that outlives connections and processes."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.services import api_token_issue
from config.asgi import application
from rooms import fanout, services
from rooms.models import Room, RoomMember
from rooms.realtime import now_ms
from tests.billing.factories import SubscriptionFactory
from tests.factories import UserFactory
from tests.rooms.conftest import (
    HEADERS,
    Member,
    join_socket,
    open_socket,
    room_with,
    song_with_ladder,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

db = database_sync_to_async


async def closed_with(path, headers=HEADERS) -> int:
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected, "refused at the handshake: the client would see 1006, not a close code"
    output = await communicator.receive_output(timeout=5)
    assert output["type"] == "websocket.close", output
    return output["code"]


@pytest.fixture
def people(db):
    return {name: UserFactory(display_name=name.title()) for name in ("host", "guest", "third")}


@pytest.fixture
def room(people):
    return room_with(people["host"], people["guest"])


@pytest.fixture
def song(db):
    return song_with_ladder(title="Harbour Lights")


# --- who may connect ------------------------------------------------------------------------


async def test_anonymous_is_closed_with_4401(room):
    assert await closed_with(f"/ws/rooms/{room.pk}/") == 4401


async def test_an_unknown_token_is_closed_with_4401(room):
    assert await closed_with(f"/ws/rooms/{room.pk}/?token={'a' * 64}") == 4401


async def test_people_outside_the_room_are_closed_with_4403(room, people):
    token = await db(api_token_issue)(user=people["third"])
    assert await closed_with(f"/ws/rooms/{room.pk}/?token={token}") == 4403


async def test_unknown_and_malformed_rooms_are_4403(people):
    token = await db(api_token_issue)(user=people["host"])
    unknown = "00000000-0000-4000-8000-000000000000"
    assert await closed_with(f"/ws/rooms/{unknown}/?token={token}") == 4403
    assert await closed_with(f"/ws/rooms/not-a-room/?token={token}") == 4403


async def test_a_member_gets_the_state_on_connect(room, people):
    member = Member(people["host"], await open_socket(people["host"], room.pk))
    state = await member.state()
    assert state["status"] == "paused"
    assert state["song"] is None
    assert state["host_id"] == str(people["host"].pk)
    assert {m["id"] for m in state["members"]} == {str(people["host"].pk), str(people["guest"].pk)}
    online = {m["id"]: m["online"] for m in state["members"]}
    assert online[str(people["host"].pk)] is True
    assert online[str(people["guest"].pk)] is False
    await member.close()


# --- clock sync -----------------------------------------------------------------------------


async def test_time_ping_is_answered_with_the_server_clock(room, people):
    member = await join_socket(people["host"], room.pk)
    before = now_ms()
    await member.send(type="time.ping", t0=123456.5)
    pong = await member.next("time.pong")
    after = now_ms()
    assert pong["t0"] == 123456.5
    assert before <= pong["server_ms"] <= after
    await member.close()


async def test_a_reported_rtt_is_stored_and_bad_ones_refused(room, people):
    member = await join_socket(people["host"], room.pk)
    await member.send(type="rtt", rtt_ms=37)
    await member.send(type="rtt", rtt_ms=-5)
    error = await member.next("error")
    assert error["code"] == "invalid_rtt"
    rtt = await db(lambda: RoomMember.objects.get(room=room, user=people["host"]).rtt_ms)()
    assert rtt == 37
    await member.close()


# --- commands, waiting, scheduling ---------------------------------------------------------


async def _playing(host: Member, guest: Member, song) -> dict:
    """Host plays ``song``; both report ready; the room plays."""
    await host.send(type="command", action="play", song_id=str(song.pk))
    waiting = await guest.state(lambda s: s["status"] == "waiting")
    await host.send(type="ready", version=waiting["version"])
    await guest.send(type="ready", version=waiting["version"])
    return await guest.state(lambda s: s["status"] == "playing")


async def test_play_waits_until_every_member_is_ready(room, people, song):
    host = await join_socket(people["host"], room.pk)
    guest = await join_socket(people["guest"], room.pk)

    await host.send(type="command", action="play", song_id=str(song.pk))
    waiting = await guest.state(lambda s: s["status"] == "waiting")
    assert waiting["song"]["id"] == str(song.pk)
    assert waiting["song"]["title"] == "Harbour Lights"
    assert waiting["song"]["stream_url"]
    assert waiting["position_ms"] == 0
    assert waiting["queue"][0]["added_by"]["id"] == str(people["host"].pk)

    await host.send(type="ready", version=waiting["version"])
    await guest.nothing("room.state", 0.3)  # the guest has not loaded it yet
    before = now_ms()
    await guest.send(type="ready", version=waiting["version"])
    playing = await guest.state(lambda s: s["status"] == "playing")
    after = now_ms()
    assert playing["position_ms"] == 0
    assert before + 500 <= playing["at_server_ms"] <= after + 500
    await host.close()
    await guest.close()


async def test_waiting_times_out_and_plays_anyway(room, people, song, fast_rooms):
    host = await join_socket(people["host"], room.pk)
    guest = await join_socket(people["guest"], room.pk)

    await host.send(type="command", action="play", song_id=str(song.pk))
    waiting = await host.state(lambda s: s["status"] == "waiting")
    await host.send(type="ready", version=waiting["version"])
    # The guest never reports ready: at the deadline the room plays without them.
    playing = await guest.state(lambda s: s["status"] == "playing", timeout=3)
    assert playing["at_server_ms"] >= waiting["waiting_until_ms"] + 500
    await host.close()
    await guest.close()


async def test_commands_are_scheduled_at_now_plus_twice_the_highest_rtt(room, people, song):
    host = await join_socket(people["host"], room.pk)
    guest = await join_socket(people["guest"], room.pk)
    await _playing(host, guest, song)

    # Small round trips: the 500 ms floor.
    await host.send(type="rtt", rtt_ms=40)
    before = now_ms()
    await host.send(type="command", action="seek", position_ms=30_000)
    seek = await guest.state(lambda s: s["position_ms"] == 30_000)
    after = now_ms()
    assert before + 500 <= seek["at_server_ms"] <= after + 500
    assert seek["status"] == "playing"

    # The slowest member sets the lead: 2 x 420 ms.
    await guest.send(type="rtt", rtt_ms=420)
    await asyncio.sleep(0.1)
    before = now_ms()
    await host.send(type="command", action="pause")
    paused = await guest.state(lambda s: s["status"] == "paused")
    after = now_ms()
    assert before + 840 <= paused["at_server_ms"] <= after + 840
    # Paused where the timeline will be at that moment.
    expected = 30_000 + (paused["at_server_ms"] - seek["at_server_ms"])
    assert paused["position_ms"] == expected

    before = now_ms()
    await host.send(type="command", action="play")
    resumed = await guest.state(lambda s: s["status"] == "playing")
    after = now_ms()
    assert before + 840 <= resumed["at_server_ms"] <= after + 840
    assert resumed["position_ms"] == paused["position_ms"]
    await host.close()
    await guest.close()


async def test_a_non_host_is_answered_not_host_until_the_host_allows(room, people, song):
    host = await join_socket(people["host"], room.pk)
    guest = await join_socket(people["guest"], room.pk)

    for action in ("play", "pause", "seek", "next", "queue_add"):
        await guest.send(type="command", action=action, song_id=str(song.pk), position_ms=1000)
        error = await guest.next("error")
        assert error["code"] == "not_host", action
    assert await db(lambda: Room.objects.get(pk=room.pk).current_id)() is None

    await db(services.room_settings_update)(
        room_id=room.pk, user=people["host"], guests_may_command=True
    )
    await guest.send(type="command", action="play", song_id=str(song.pk))
    waiting = await host.state(lambda s: s["status"] == "waiting")
    assert waiting["queue"][0]["added_by"]["id"] == str(people["guest"].pk)
    await host.close()
    await guest.close()


async def test_queue_add_remove_next_and_previous(room, people, song):
    second = await db(song_with_ladder)(title="Harbour Tide")
    host = await join_socket(people["host"], room.pk)

    await host.send(type="command", action="queue_add", song_id=str(song.pk))
    await host.send(type="command", action="queue_add", song_id=str(second.pk))
    state = await host.state(lambda s: len(s["queue"]) == 2)
    assert [e["song"]["title"] for e in state["queue"]] == ["Harbour Lights", "Harbour Tide"]

    await host.send(type="command", action="play")
    state = await host.state(lambda s: s["status"] == "waiting")
    assert state["song"]["title"] == "Harbour Lights"
    await host.send(type="command", action="next")
    state = await host.state(lambda s: s["song"] and s["song"]["title"] == "Harbour Tide")
    await host.send(type="command", action="next")
    assert (await host.next("error"))["code"] == "queue_end"
    await host.send(type="command", action="previous")
    state = await host.state(lambda s: s["song"]["title"] == "Harbour Lights")

    first_entry = state["queue"][0]["entry_id"]
    await host.send(type="command", action="queue_remove", entry_id=first_entry)
    state = await host.state(lambda s: len(s["queue"]) == 1)
    # The entry playing was removed: the room moves on to the next one.
    assert state["song"]["title"] == "Harbour Tide"
    await host.send(type="command", action="queue_add", song_id="not-a-song")
    assert (await host.next("error"))["code"] == "song_not_found"
    await host.send(type="command", action="dance")
    assert (await host.next("error"))["code"] == "invalid_action"
    await host.close()


async def test_the_next_song_follows_when_one_ends(room, people, fast_rooms):
    short = await db(song_with_ladder)(title="Short", duration=0.4)
    after = await db(song_with_ladder)(title="After")
    host = await join_socket(people["host"], room.pk)
    await host.send(type="command", action="queue_add", song_id=str(short.pk))
    await host.send(type="command", action="queue_add", song_id=str(after.pk))
    await host.send(type="command", action="play")
    waiting = await host.state(lambda s: s["status"] == "waiting")
    await host.send(type="ready", version=waiting["version"])
    await host.state(lambda s: s["status"] == "playing" and s["song"]["title"] == "Short")
    nxt = await host.state(lambda s: s["song"]["title"] == "After", timeout=4)
    assert nxt["status"] == "waiting"
    await host.close()


async def test_chat_reaches_everyone_and_is_limited(room, people):
    host = await join_socket(people["host"], room.pk)
    guest = await join_socket(people["guest"], room.pk)
    await guest.send(type="chat", text="  this one is lovely ")
    chat = await host.next("chat")
    assert chat["text"] == "this one is lovely"
    assert chat["user"] == {"id": str(people["guest"].pk), "display_name": "Guest"}
    await guest.send(type="chat", text="x" * 501)
    assert (await guest.next("error"))["code"] == "chat_too_long"
    for n in range(9):  # ten in ten seconds with the first
        await guest.send(type="chat", text=f"m{n}")
    await guest.send(type="chat", text="one too many")
    assert (await guest.next("error"))["code"] == "rate_limited"
    await guest.send(type="nonsense")
    assert (await guest.next("error"))["code"] == "unknown_type"
    await guest.communicator.send_to(text_data="not json")
    assert (await guest.next("error"))["code"] == "invalid_message"
    await host.close()
    await guest.close()


# --- host hand-over -------------------------------------------------------------------------


async def test_the_host_role_passes_to_the_longest_present_member(people, fast_rooms):
    room = await db(room_with)(people["host"], people["guest"], people["third"])
    host = await join_socket(people["host"], room.pk)
    guest = await join_socket(people["guest"], room.pk)
    third = await join_socket(people["third"], room.pk)

    await host.close()
    # A reload keeps the role (grace period)...
    away = await guest.next("member.presence", where=lambda m: not m["online"])
    assert away["user_id"] == str(people["host"].pk)
    assert await db(lambda: Room.objects.get(pk=room.pk).host_id)() == people["host"].pk
    # ...past it, the role passes to the member who joined first.
    state = await third.state(lambda s: s["host_id"] != str(people["host"].pk), timeout=3)
    assert state["host_id"] == str(people["guest"].pk)
    await third.send(type="command", action="pause")
    assert (await third.next("error"))["code"] == "not_host"

    # An explicit leave passes it at once.
    await db(services.room_leave)(room_id=room.pk, user=people["guest"])
    left = await third.next("member.left")
    assert left["user_id"] == str(people["guest"].pk)
    state = await third.state(lambda s: s["host_id"] == str(people["third"].pk))
    assert str(people["guest"].pk) not in {m["id"] for m in state["members"]}
    # The one who left is disconnected (4403).
    await guest.next("member.left")
    assert (await guest.communicator.receive_output(timeout=5))["code"] == 4403
    await third.close()


# --- each member's own rung -----------------------------------------------------------------


async def test_each_member_streams_at_their_own_plans_rung(people, song):
    premium = await db(lambda: SubscriptionFactory(plan="premium_individual").user)()
    free = people["guest"]
    room = await db(room_with)(premium, free)
    host = await join_socket(premium, room.pk)
    guest = await join_socket(free, room.pk)

    await host.send(type="command", action="play", song_id=str(song.pk))
    premium_state = await host.state(lambda s: s["status"] == "waiting")
    free_state = await guest.state(lambda s: s["status"] == "waiting")

    assert premium_state["song"]["id"] == free_state["song"]["id"] == str(song.pk)
    assert premium_state["song"]["quality"] == "high"
    assert premium_state["song"]["bitrate_kbps"] == 320
    assert free_state["song"]["quality"] == "normal"
    assert free_state["song"]["bitrate_kbps"] == 160
    assert premium_state["song"]["stream_url"] != free_state["song"]["stream_url"]
    # Everything but the links is the same moment for both.
    for key in ("status", "position_ms", "at_server_ms", "version", "host_id"):
        assert premium_state[key] == free_state[key]
    await host.close()
    await guest.close()


# --- state outlives connections and processes -----------------------------------------------


async def test_state_is_kept_across_a_reconnect(room, people, song):
    host = await join_socket(people["host"], room.pk)
    guest = await join_socket(people["guest"], room.pk)
    playing = await _playing(host, guest, song)
    await host.send(type="command", action="seek", position_ms=42_000)
    seek = await guest.state(lambda s: s["position_ms"] == 42_000)
    await guest.close()

    guest = Member(people["guest"], await open_socket(people["guest"], room.pk))
    again = await guest.state()
    for key in ("status", "position_ms", "at_server_ms", "queue", "host_id"):
        assert again[key] == seek[key], key
    assert again["song"]["id"] == seek["song"]["id"]
    assert again["version"] > playing["version"]
    await host.close()
    await guest.close()


async def test_state_comes_back_from_the_database_after_a_server_restart(room, people, song):
    host = await join_socket(people["host"], room.pk)
    guest = await join_socket(people["guest"], room.pk)
    await _playing(host, guest, song)
    await host.send(type="command", action="seek", position_ms=61_000)
    before = await guest.state(lambda s: s["position_ms"] == 61_000)
    await host.close()
    await guest.close()

    # Nothing of the room is left in this process (no relay, no consumer): what comes back
    # comes from the database. (tests/rooms/test_real_server.py restarts a real server.)
    assert not [key for key in fanout._relays if key[1] == str(room.pk)]

    host = Member(people["host"], await open_socket(people["host"], room.pk))
    after = await host.state()
    for key in ("status", "position_ms", "at_server_ms", "queue", "host_id"):
        assert after[key] == before[key], key
    assert after["song"]["id"] == before["song"]["id"]
    assert after["song"]["stream_url"]  # signed afresh by the new process
    await host.send(type="command", action="pause")
    paused = await host.state(lambda s: s["status"] == "paused")
    assert paused["position_ms"] > 61_000
    await host.close()


async def test_a_deadline_missed_while_no_server_ran_is_acted_on_at_reconnect(
    room, people, song, fast_rooms
):
    host = await join_socket(people["host"], room.pk)
    await host.send(type="command", action="play", song_id=str(song.pk))
    await host.state(lambda s: s["status"] == "waiting")
    await host.close()
    await asyncio.sleep(0.5)  # the ready deadline passes with nobody connected

    host = Member(people["host"], await open_socket(people["host"], room.pk))
    assert (await host.state())["status"] == "waiting"
    await host.state(lambda s: s["status"] == "playing", timeout=3)
    await host.close()
