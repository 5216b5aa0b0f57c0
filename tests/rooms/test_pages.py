"""The rooms pages: the list with its form, a room's page, and the one-click invite link."""

import pytest
from django.urls import reverse

from rooms.models import Room, RoomMember
from tests.factories import UserFactory
from tests.rooms.conftest import room_with

pytestmark = pytest.mark.django_db


def test_the_list_shows_rooms_and_opens_a_new_one(client):
    host = UserFactory()
    room_with(host, name="Open floor")
    visitor = UserFactory()
    client.force_login(visitor)
    page = client.get("/rooms/")
    assert page.status_code == 200
    assert "Open floor" in page.content.decode()

    response = client.post("/rooms/", {"name": "Mine", "visibility": "private"})
    room = Room.objects.get(name="Mine")
    assert response.status_code == 302
    assert response.url == reverse("rooms:room", kwargs={"room_id": room.pk})
    assert room.host == visitor
    bad = client.post("/rooms/", {"name": "", "visibility": "public"}, follow=True)
    assert "Give the room a name." in bad.content.decode()


def test_the_room_page_has_player_members_queue_and_chat(client):
    host = UserFactory()
    room = room_with(host, visibility="private")
    client.force_login(host)
    html = client.get(f"/rooms/{room.pk}/").content.decode()
    for marker in ('id="room-audio"', 'id="room-members"', 'id="room-queue"', 'id="room-chat"'):
        assert marker in html
    assert f"/rooms/join/{room.invite_token}/" in html
    assert "js/rooms.js" in html


def test_others_private_rooms_are_404_and_public_ones_offer_to_join(client):
    room = room_with(UserFactory(), visibility="private")
    public = room_with(UserFactory())
    client.force_login(UserFactory())
    assert client.get(f"/rooms/{room.pk}/").status_code == 404
    page = client.get(f"/rooms/{public.pk}/").content.decode()
    assert f"/rooms/{public.pk}/join/" in page
    joined = client.post(f"/rooms/{public.pk}/join/")
    assert joined.status_code == 302
    assert RoomMember.objects.filter(room=public).count() == 2


def test_an_invite_link_signs_in_first_then_joins_in_one_click(client, password):
    room = room_with(UserFactory(), visibility="private")
    friend = UserFactory()
    link = f"/rooms/join/{room.invite_token}/"

    to_login = client.get(link)
    assert to_login.status_code == 302
    assert "/accounts/login/" in to_login.url and "next=" in to_login.url

    client.force_login(friend)
    response = client.get(link)
    assert response.status_code == 302
    assert response.url == reverse("rooms:room", kwargs={"room_id": room.pk})
    assert RoomMember.objects.filter(room=room, user=friend).exists()
    assert client.get("/rooms/join/not-a-token/").status_code == 404


def test_rooms_are_in_the_site_navigation(client):
    html = client.get("/").content.decode()
    nav = html[html.index('<ul id="nav-links"') : html.index("</ul>", html.index("nav-links"))]
    assert 'href="/rooms/"' in nav and ">Rooms<" in nav
