"""Covers and artist pictures: served to whoever may see the item, linked from the API and the
pages, and a song without its own cover shows its album's."""

import pytest
from django.core.files.base import ContentFile

from core.cover_art import cover_png
from tests.catalog.conftest import client_for
from tests.catalog.factories import AlbumFactory, ArtistFactory, SongFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def with_cover(item, title="Cover"):
    item.cover.save("cover.png", ContentFile(cover_png(title, size=64)), save=True)
    return item


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_an_albums_cover_is_served_and_linked_from_the_api_and_its_page():
    album = with_cover(AlbumFactory(title="Night Study"))
    client = client_for(UserFactory())
    url = f"/listen/albums/{album.pk}/cover"

    served = client.get(url)

    assert served.status_code == 200
    assert body(served).startswith(b"\x89PNG")
    assert "public" in served["Cache-Control"]
    assert client.get(f"/api/albums/{album.pk}").json()["cover_url"].endswith(url)
    assert f'src="{url}"' in client.get(f"/listen/albums/{album.pk}/").content.decode()


def test_a_song_without_its_own_cover_shows_its_albums():
    album = with_cover(AlbumFactory())
    song = SongFactory(artist=album.artist, album=album)
    single = SongFactory()
    client = client_for(UserFactory())
    assert body(client.get(f"/listen/songs/{song.pk}/cover")).startswith(b"\x89PNG")
    api = client.get(f"/api/songs/{song.pk}").json()
    assert api["cover_url"].endswith(f"/listen/songs/{song.pk}/cover")
    assert client.get(f"/listen/songs/{single.pk}/cover").status_code == 404
    assert client.get(f"/api/songs/{single.pk}").json()["cover_url"] is None


def test_private_covers_are_404_to_others_and_not_shared_caches():
    album = with_cover(AlbumFactory(visibility="private"))
    song = with_cover(SongFactory(visibility="private"))
    stranger = client_for(UserFactory())
    assert stranger.get(f"/listen/albums/{album.pk}/cover").status_code == 404
    assert stranger.get(f"/listen/songs/{song.pk}/cover").status_code == 404
    owner = client_for(album.artist.user)
    owner.force_login(album.artist.user)  # pages read the session
    own = owner.get(f"/listen/albums/{album.pk}/cover")
    assert own.status_code == 200 and "private" in own["Cache-Control"]


def test_an_artists_picture_falls_back_to_their_account_avatar():
    artist = ArtistFactory()
    client = client_for(None)
    assert client.get(f"/listen/artists/{artist.pk}/avatar").status_code == 404
    assert client.get(f"/api/artists/{artist.pk}/profile").json()["avatar_url"] is None
    artist.user.avatar.save("me.png", ContentFile(cover_png("Me", size=64)), save=True)
    assert body(client.get(f"/listen/artists/{artist.pk}/avatar")).startswith(b"\x89PNG")
    assert (
        client.get(f"/api/artists/{artist.pk}/profile")
        .json()["avatar_url"]
        .endswith(f"/listen/artists/{artist.pk}/avatar")
    )
