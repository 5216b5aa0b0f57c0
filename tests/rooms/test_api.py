"""/api/rooms: create, list, read, join (public, or private by invite), the 32-member limit,
leave with hand-over, the queue with who added what, the host's settings, and bad input."""

import pytest

from rooms.models import MAX_MEMBERS, RoomMember, RoomQueueEntry
from tests.catalog.conftest import client_for
from tests.catalog.factories import SongFactory
from tests.factories import UserFactory
from tests.rooms.conftest import room_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def host():
    return UserFactory(display_name="Hana Host")


@pytest.fixture
def guest():
    return UserFactory(display_name="Gus Guest")


def test_creating_a_public_room(host):
    response = client_for(host).post(
        "/api/rooms", {"name": "  Friday   night ", "visibility": "public"}, format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["name"] == "Friday night"
    assert data["visibility"] == "public"
    assert data["host"] == {"id": str(host.pk), "display_name": "Hana Host"}
    assert data["member_count"] == 1
    assert data["max_members"] == MAX_MEMBERS
    assert data["is_member"] is True
    assert data["invite_url"] is None
    assert data["ws_url"] == f"/ws/rooms/{data['id']}/"


def test_a_private_room_has_an_invite_link_for_members_only(host, guest):
    data = (
        client_for(host)
        .post("/api/rooms/", {"name": "Us", "visibility": "private"}, format="json")
        .json()
    )
    assert data["invite_url"].startswith("http://testserver/rooms/join/")
    token = data["invite_url"].rstrip("/").rsplit("/", 1)[1]

    stranger = client_for(guest)
    assert stranger.get(f"/api/rooms/{data['id']}").status_code == 404
    no_token = stranger.post(f"/api/rooms/{data['id']}/join", {}, format="json")
    assert no_token.status_code == 404
    wrong = stranger.post(f"/api/rooms/{data['id']}/join", {"invite_token": "x"}, format="json")
    assert wrong.status_code == 404

    joined = stranger.post(f"/api/rooms/{data['id']}/join", {"invite_token": token}, format="json")
    assert joined.status_code == 201
    assert joined.json()["is_member"] is True
    again = stranger.post(f"/api/rooms/{data['id']}/join", {"invite_token": token}, format="json")
    assert again.status_code == 200
    assert RoomMember.objects.filter(room_id=data["id"]).count() == 2


def test_listing_shows_public_rooms_and_mine(host, guest):
    public = room_with(host, name="Open")
    private = room_with(host, name="Closed", visibility="private")
    mine = room_with(guest, name="Guest's own", visibility="private")

    names = [r["name"] for r in client_for(guest).get("/api/rooms").json()["results"]]
    assert set(names) == {public.name, mine.name}
    assert private.name not in names
    page = client_for(host).get("/api/rooms?page_size=1").json()
    assert page["count"] == 2
    assert len(page["results"]) == 1


def test_detail_carries_the_state_for_members(host, guest):
    room = room_with(host)
    data = client_for(host).get(f"/api/rooms/{room.pk}/").json()
    assert data["state"]["status"] == "paused"
    assert data["state"]["host_id"] == str(host.pk)
    outsider = client_for(guest).get(f"/api/rooms/{room.pk}").json()
    assert "state" not in outsider
    assert outsider["is_member"] is False


def test_joining_a_public_room_and_the_32_member_limit(host):
    room = room_with(host)
    for _ in range(MAX_MEMBERS - 1):
        response = client_for(UserFactory()).post(f"/api/rooms/{room.pk}/join")
        assert response.status_code == 201
    full = client_for(UserFactory()).post(f"/api/rooms/{room.pk}/join")
    assert full.status_code == 409
    assert full.json()["code"] == "room_full"
    assert RoomMember.objects.filter(room=room).count() == MAX_MEMBERS


def test_leaving_passes_the_host_role_to_the_longest_present(host, guest):
    later = UserFactory()
    room = room_with(host, guest, later)
    assert client_for(host).post(f"/api/rooms/{room.pk}/leave").status_code == 204
    room.refresh_from_db()
    assert room.host_id == guest.pk
    again = client_for(host).post(f"/api/rooms/{room.pk}/leave")
    assert again.status_code == 403
    assert again.json()["code"] == "not_member"


def test_the_queue_records_who_added_and_obeys_the_host(host, guest):
    room = room_with(host, guest)
    song = SongFactory(title="Tide")
    added = client_for(host).post(
        f"/api/rooms/{room.pk}/queue", {"song_id": str(song.pk)}, format="json"
    )
    assert added.status_code == 201, added.json()
    entry = added.json()["queue"][0]
    assert entry["song"]["title"] == "Tide"
    assert entry["added_by"]["id"] == str(host.pk)

    refused = client_for(guest).post(
        f"/api/rooms/{room.pk}/queue", {"song_id": str(song.pk)}, format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_host"

    allow = client_for(host).patch(
        f"/api/rooms/{room.pk}", {"guests_may_command": True}, format="json"
    )
    assert allow.status_code == 200
    assert allow.json()["guests_may_command"] is True
    by_guest = client_for(guest).post(
        f"/api/rooms/{room.pk}/queue", {"song_id": str(song.pk)}, format="json"
    )
    assert by_guest.json()["queue"][1]["added_by"]["id"] == str(guest.pk)
    listed = client_for(guest).get(f"/api/rooms/{room.pk}/queue").json()["queue"]
    assert [e["position"] for e in listed] == [1, 2]

    removed = client_for(guest).delete(f"/api/rooms/{room.pk}/queue/{entry['entry_id']}")
    assert removed.status_code == 200
    assert [e["added_by"]["id"] for e in removed.json()["queue"]] == [str(guest.pk)]
    missing = client_for(guest).delete(f"/api/rooms/{room.pk}/queue/{entry['entry_id']}")
    assert missing.status_code == 400
    assert missing.json()["code"] == "entry_not_found"


def test_private_songs_cannot_be_queued(host):
    room = room_with(host)
    private = SongFactory(visibility="private")
    response = client_for(host).post(
        f"/api/rooms/{room.pk}/queue", {"song_id": str(private.pk)}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "song_not_found"
    assert not RoomQueueEntry.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "", "visibility": "public"},
        {"name": "x", "visibility": "secret"},
        {"name": "x" * 81, "visibility": "public"},
        {"name": ["x"], "visibility": "public"},
        {"name": "   ", "visibility": "public"},
    ],
)
def test_bad_room_input_is_400(host, body):
    response = client_for(host).post("/api/rooms", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"detail", "code"}


def test_bad_ids_and_anonymous_callers(host, api_client):
    room = room_with(host)
    client = client_for(host)
    assert client.get("/api/rooms/00000000-0000-4000-8000-000000000000").status_code == 404
    assert client.get("/api/rooms/nope").status_code == 404
    bad_song = client.post(f"/api/rooms/{room.pk}/queue", {"song_id": "nope"}, format="json")
    assert bad_song.status_code == 400
    assert api_client.get("/api/rooms").status_code == 401
    assert api_client.post(f"/api/rooms/{room.pk}/join").status_code == 401
