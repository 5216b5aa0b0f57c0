"""Catalog moderation in the Wagtail admin: staff find songs and albums, listen, hide them with a
reason (told to the artist) and list them again; nobody else gets in."""

import pytest
from django.contrib.auth.models import Permission
from wagtail.models import ModelLogEntry

from catalog import services
from notifications.models import Notification
from tests.catalog.factories import AlbumFactory, ArtistFactory, SongFactory
from tests.factories import MusicianFactory, UserFactory

pytestmark = pytest.mark.django_db

REASON = "Samples a film score without a licence."


@pytest.fixture
def songs(db):
    artist = ArtistFactory(name="Kabir Rao")
    album = AlbumFactory(artist=artist, title="City Lights")
    return {
        "artist": artist,
        "album": album,
        "track": SongFactory(artist=artist, album=album, title="Neon Monsoon"),
        "single": SongFactory(artist=artist, title="Paper Kites"),
    }


def test_staff_hide_a_song_from_the_admin_and_the_artist_is_told(
    client, staff, songs, anonymous, django_capture_on_commit_callbacks
):
    song = songs["single"]
    client.force_login(staff)

    listing = client.get("/admin/catalog_songs/", {"q": "kites"}).content.decode()
    assert "Paper Kites" in listing and "Neon Monsoon" not in listing
    assert f"/admin/catalog_songs/hide/{song.pk}/" in listing
    form = client.get(f"/admin/catalog_songs/hide/{song.pk}/")
    assert form.status_code == 200 and 'name="reason"' in form.content.decode()

    blank = client.post(f"/admin/catalog_songs/hide/{song.pk}/", {"reason": ""})
    assert blank.status_code == 400 and "This field is required." in blank.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/admin/catalog_songs/hide/{song.pk}/", {"reason": REASON}, follow=True)

    song.refresh_from_db()
    assert song.is_hidden and song.hidden_by == staff and song.hidden_reason == REASON
    assert "Hidden: the artist has been told why." in done.content.decode()
    assert anonymous.get(f"/api/songs/{song.pk}").status_code == 404
    told = Notification.objects.get(recipient=songs["artist"].user)
    assert told.body == f"Hidden by moderators: {REASON}"
    hidden_only = client.get("/admin/catalog_songs/", {"hidden": "true"}).content.decode()
    listed_only = client.get("/admin/catalog_songs/", {"hidden": "false"}).content.decode()
    assert "Paper Kites" in hidden_only and REASON in hidden_only
    assert "Neon Monsoon" not in hidden_only and "Neon Monsoon" in listed_only
    assert "Paper Kites" not in listed_only
    history = client.get(f"/admin/catalog_songs/history/{song.pk}/").content.decode()
    assert f"Hidden by moderators: {REASON}" in history

    # Hiding what is already hidden is a conflict, shown on the page; nothing changes.
    twice = client.post(f"/admin/catalog_songs/hide/{song.pk}/", {"reason": "again"})
    assert twice.status_code == 409 and "already hidden" in twice.content.decode()

    inspect = client.get(f"/admin/catalog_songs/inspect/{song.pk}/").content.decode()
    assert REASON in inspect and "<audio" in inspect  # staff hear what they judge
    assert f"/admin/catalog_songs/unhide/{song.pk}/" in inspect
    back = client.post(f"/admin/catalog_songs/unhide/{song.pk}/", follow=True)
    song.refresh_from_db()
    assert not song.is_hidden and "Listed again" in back.content.decode()
    assert anonymous.get(f"/api/songs/{song.pk}").status_code == 200
    assert list(
        ModelLogEntry.objects.filter(object_id=str(song.pk)).values_list("action", flat=True)
    ) == ["catalog.song_unhide", "catalog.song_hide"]


def test_staff_hide_an_album_with_its_songs(client, staff, songs, anonymous):
    album = songs["album"]
    client.force_login(staff)

    inspect = client.get(f"/admin/catalog_albums/inspect/{album.pk}/").content.decode()
    assert "Neon Monsoon" in inspect  # its songs
    response = client.post(f"/admin/catalog_albums/hide/{album.pk}/", {"reason": REASON})

    album.refresh_from_db()
    assert response.status_code == 302 and album.is_hidden
    assert anonymous.get(f"/api/songs/{songs['track'].pk}").status_code == 404
    assert anonymous.get(f"/api/songs/{songs['single'].pk}").status_code == 200
    listing = client.get("/admin/catalog_albums/", {"hidden": "true"}).content.decode()
    assert "City Lights" in listing and f"/admin/catalog_albums/unhide/{album.pk}/" in listing


@pytest.mark.parametrize("path", ["/admin/catalog_songs/", "/admin/catalog_albums/"])
def test_the_listings_read_a_bounded_number_of_queries(
    client, staff, path, django_assert_max_num_queries
):
    for n in range(3):
        album = AlbumFactory(title=f"Album {n}")
        SongFactory(artist=album.artist, album=album, title=f"Song {n}")
    client.force_login(staff)
    client.get(path)

    with django_assert_max_num_queries(16) as captured:
        client.get(path)
    for n in range(3, 20):
        album = AlbumFactory(title=f"Album {n}")
        services.album_hide(album_id=album.pk, actor=staff, reason="r")
        SongFactory(artist=album.artist, album=album, title=f"Song {n}")
    with django_assert_max_num_queries(len(captured)):
        response = client.get(path)

    assert response.status_code == 200


@pytest.mark.parametrize("who", ["customer", "musician", "the song's own artist"])
def test_people_without_admin_access_are_sent_to_log_in(client, songs, who):
    song = songs["single"]
    person = {
        "customer": UserFactory,
        "musician": MusicianFactory,
        "the song's own artist": lambda: songs["artist"].user,
    }[who]()
    client.force_login(person)

    for path in ("/admin/catalog_songs/", f"/admin/catalog_songs/inspect/{song.pk}/"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    hide = client.post(f"/admin/catalog_songs/hide/{song.pk}/", {"reason": "mine"})
    unhide = client.post(f"/admin/catalog_albums/unhide/{songs['album'].pk}/")

    assert hide.status_code == 302 and unhide.status_code == 302
    song.refresh_from_db()
    assert not song.is_hidden


def test_admin_access_without_staff_cannot_moderate(client, songs):
    person = MusicianFactory()
    person.user_permissions.add(Permission.objects.get(codename="access_admin"))
    song = songs["single"]
    client.force_login(person)

    responses = [
        client.get("/admin/catalog_songs/"),
        client.get(f"/admin/catalog_songs/inspect/{song.pk}/"),
        client.get(f"/admin/catalog_songs/hide/{song.pk}/"),
        client.post(f"/admin/catalog_songs/hide/{song.pk}/", {"reason": "no"}),
        client.post(f"/admin/catalog_albums/hide/{songs['album'].pk}/", {"reason": "no"}),
    ]

    for response in responses:
        assert response.status_code in (302, 403)
        assert "Paper Kites" not in response.content.decode()
    assert "/admin/catalog_songs/" not in client.get("/admin/").content.decode()
    song.refresh_from_db()
    assert not song.is_hidden
    assert not ModelLogEntry.objects.filter(action__startswith="catalog.").exists()


def test_nobody_edits_or_deletes_songs_through_the_admin(client, staff, songs):
    song = songs["single"]
    client.force_login(staff)

    for path in (
        f"/admin/catalog_songs/edit/{song.pk}/",
        f"/admin/catalog_songs/delete/{song.pk}/",
        "/admin/catalog_songs/new/",
    ):
        assert client.post(path, {"title": "Changed"}).status_code in (302, 403), path
    song.refresh_from_db()
    assert song.title == "Paper Kites"
