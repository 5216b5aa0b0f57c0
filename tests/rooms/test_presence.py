"""Presence outlives no process: connections counted by a process that died (it never said
goodbye) stop counting once their member has gone unseen, so the host role still passes on,
a waiting room does not wait for them, and their next connection starts the count afresh."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rooms import services
from rooms.models import Room, RoomMember
from rooms.presence import ONLINE_FOR_SECONDS
from rooms.state import room_state_shared
from tests.factories import UserFactory
from tests.rooms.conftest import room_with, song_with_ladder

pytestmark = pytest.mark.django_db


def crashed(room, user, *, connections=1):
    """The member's connections were counted by a process that died a while ago."""
    RoomMember.objects.filter(room=room, user=user).update(
        connections=connections,
        seen_at=timezone.now() - timedelta(seconds=ONLINE_FOR_SECONDS + 60),
        disconnected_at=None,
    )


def test_a_host_lost_with_a_crashed_process_hands_over_to_who_is_here(settings):
    host, guest = UserFactory(), UserFactory()
    room = room_with(host, guest)
    services.room_connect(room_id=room.pk, user=guest)
    crashed(room, host)
    assert services.room_host_check(room_id=room.pk) is True
    room.refresh_from_db()
    assert room.host_id == guest.pk
    members = {m["id"]: m["online"] for m in room_state_shared(room)["members"]}
    assert members == {str(host.pk): False, str(guest.pk): True}


def test_a_live_host_keeps_the_role_while_their_connection_is_seen():
    host, guest = UserFactory(), UserFactory()
    room = room_with(host, guest)
    services.room_connect(room_id=room.pk, user=host)
    services.room_connect(room_id=room.pk, user=guest)
    RoomMember.objects.filter(room=room, user=host).update(
        seen_at=timezone.now() - timedelta(seconds=ONLINE_FOR_SECONDS + 60)
    )
    services.room_seen_touch(room_id=room.pk, user=host)
    assert services.room_host_check(room_id=room.pk) is False


def test_a_waiting_room_does_not_wait_for_a_member_lost_with_a_crash():
    host, guest = UserFactory(), UserFactory()
    room = room_with(host, guest)
    services.room_connect(room_id=room.pk, user=host)
    services.room_connect(room_id=room.pk, user=guest)
    song = song_with_ladder()
    services.room_command(room_id=room.pk, user=host, action="play", song_id=str(song.pk))
    crashed(room, guest)
    state = services.room_ready(room_id=room.pk, user=host)
    assert (state or room_state_shared(Room.objects.get(pk=room.pk)))["status"] == "playing"


def test_reconnecting_after_a_crash_counts_from_one():
    host, guest = UserFactory(), UserFactory()
    room = room_with(host, guest)
    crashed(room, guest, connections=3)
    services.room_connect(room_id=room.pk, user=guest)
    assert RoomMember.objects.get(room=room, user=guest).connections == 1
    services.room_disconnect(room_id=room.pk, user=guest)
    member = RoomMember.objects.get(room=room, user=guest)
    assert member.connections == 0 and member.disconnected_at is not None
