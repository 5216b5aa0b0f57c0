"""rooms.realtime.room_service_call: what a service commits reaches the room's group, sent from
the event loop after the call; what it rolls back never does; its error still reaches the
caller, after the committed events are out."""

import pytest
from channels.layers import get_channel_layer
from django.db import transaction

from rooms.realtime import room_events_send, room_group_name, room_service_call

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

ROOM = "7d8b7a52-51a4-4a59-9d5b-0f1f7c1f2d11"


class Refused(Exception):
    pass


async def listening():
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(room_group_name(ROOM), channel)
    return layer, channel


def commit_then_fail(*, text):
    with transaction.atomic():
        room_events_send(room_id=ROOM, events=[{"type": "chat", "text": text}])
    with transaction.atomic():
        room_events_send(room_id=ROOM, events=[{"type": "chat", "text": "rolled back"}])
        raise Refused()


def commit_two(*, first, second):
    with transaction.atomic():
        room_events_send(room_id=ROOM, events=[{"type": "chat", "text": first}])
    with transaction.atomic():
        room_events_send(room_id=ROOM, events=[{"type": "chat", "text": second}])
    return "done"


async def test_committed_events_are_sent_in_order_after_the_call():
    layer, channel = await listening()
    assert await room_service_call(commit_two, first="one", second="two") == "done"
    first = await layer.receive(channel)
    second = await layer.receive(channel)
    assert [first["events"][0]["text"], second["events"][0]["text"]] == ["one", "two"]


async def test_a_failing_service_sends_what_it_committed_and_raises():
    layer, channel = await listening()
    with pytest.raises(Refused):
        await room_service_call(commit_then_fail, text="kept")
    message = await layer.receive(channel)
    assert message["events"] == [{"type": "chat", "text": "kept"}]
    await layer.group_send(room_group_name(ROOM), {"type": "room.events", "events": []})
    # The next message is the marker just sent: the rolled-back event never went out.
    assert (await layer.receive(channel))["events"] == []
