"""Catalog moderation: staff hide a song or an album that breaks the rules, with a reason told to
its artist. A hidden song (and every song of a hidden album) is gone for everyone else,
everywhere the catalog is read; its artist still sees it, marked with the reason."""

import pytest
from django.core.cache import cache
from django.utils import timezone
from wagtail.models import ModelLogEntry

from catalog import selectors, services
from catalog.errors import Conflict, Invalid, NotFound, NotStaff
from catalog.models import Song
from notifications.models import Delivery, Notification
from tests.catalog.conftest import client_for
from tests.catalog.factories import AlbumFactory, ArtistFactory, GenreFactory, SongFactory
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

REASON = "The cover uses a photo the artist has no rights to."


@pytest.fixture
def moderator(db):
    return StaffFactory()


@pytest.fixture
def listener(db):
    return UserFactory()


@pytest.fixture
def world(db):
    """One artist's album of two songs and a single, all public, in one genre, next to another
    artist's song."""
    genre = GenreFactory(name="Ghazal", slug="ghazal")
    artist = ArtistFactory(name="Meera Sen")
    album = AlbumFactory(artist=artist, title="Monsoon Diaries")
    return {
        "genre": genre,
        "artist": artist,
        "album": album,
        "track": SongFactory(artist=artist, album=album, title="Rain Ghazal", genres=[genre]),
        "second": SongFactory(artist=artist, album=album, title="Cloud Ghazal", genres=[genre]),
        "single": SongFactory(artist=artist, title="Lantern Ghazal", genres=[genre]),
        "other": SongFactory(title="Harbour Ghazal", genres=[genre]),
    }


def titles(response) -> set[str]:
    assert response.status_code == 200, response.content[:300]
    return {song["title"] for song in response.json()["results"]}


def hide_song(song, moderator, reason=REASON):
    return services.song_hide(song_id=song.pk, actor=moderator, reason=reason)


# --- the services ---------------------------------------------------------------------------


def test_hiding_keeps_who_when_and_why_logs_it_and_tells_the_artist(
    world, moderator, django_capture_on_commit_callbacks
):
    song = world["single"]
    with django_capture_on_commit_callbacks(execute=True):
        hidden = hide_song(song, moderator, reason="  Hate speech in\nthe lyrics. ")

    song.refresh_from_db()
    assert hidden.is_hidden and song.hidden_by == moderator
    assert song.hidden_reason == "Hate speech in the lyrics."
    assert abs((timezone.now() - song.hidden_at).total_seconds()) < 5
    entry = ModelLogEntry.objects.get(action="catalog.song_hide")
    assert entry.user_id == moderator.pk and entry.object_id == str(song.pk)
    assert entry.data == {"reason": "Hate speech in the lyrics."}
    owner = world["artist"].user
    notice = Notification.objects.get(recipient=owner)
    assert notice.title == 'Your song "Lantern Ghazal" is hidden from listeners'
    assert notice.body == "Hidden by moderators: Hate speech in the lyrics."
    assert notice.link == f"/listen/songs/{song.pk}/"
    mail = Delivery.objects.get(recipient=owner, event="catalog.hidden", channel="email")
    assert mail.context["reason"] == "Hate speech in the lyrics."


def test_only_staff_hide_with_a_reason_and_not_twice(world, moderator):
    song = world["single"]

    with pytest.raises(NotStaff):
        services.song_hide(song_id=song.pk, actor=world["artist"].user, reason=REASON)
    with pytest.raises(Invalid) as blank:
        hide_song(song, moderator, reason="   ")
    with pytest.raises(Invalid):
        hide_song(song, moderator, reason="x" * 501)
    with pytest.raises(NotFound):
        services.album_hide(
            album_id="00000000-0000-4000-8000-000000000000", actor=moderator, reason=REASON
        )
    assert blank.value.extra == {"field": "reason"}
    song.refresh_from_db()
    assert not song.is_hidden

    hide_song(song, moderator)
    with pytest.raises(Conflict) as twice:
        hide_song(song, moderator, reason="another reason")
    assert twice.value.code == "already_hidden"
    song.refresh_from_db()
    assert song.hidden_reason == REASON


def test_unhiding_lists_it_again_and_tells_the_artist(
    world, moderator, anonymous, django_capture_on_commit_callbacks
):
    song = world["single"]
    hide_song(song, moderator)
    with django_capture_on_commit_callbacks(execute=True):
        services.song_unhide(song_id=song.pk, actor=moderator)

    song.refresh_from_db()
    assert not song.is_hidden and song.hidden_by is None and song.hidden_reason is None
    assert anonymous.get(f"/api/songs/{song.pk}").status_code == 200
    assert ModelLogEntry.objects.get(action="catalog.song_unhide").data == {"reason": REASON}
    restored = Notification.objects.filter(recipient=world["artist"].user).first()
    assert restored.title == 'Your song "Lantern Ghazal" is listed again'
    with pytest.raises(Conflict) as again:
        services.song_unhide(song_id=song.pk, actor=moderator)
    assert again.value.code == "not_hidden"

    # Hidden a second time: a new occurrence, told again.
    with django_capture_on_commit_callbacks(execute=True):
        hide_song(song, moderator, reason="Still the same cover.")
    hidden_notices = Notification.objects.filter(
        recipient=world["artist"].user, body__startswith="Hidden by moderators"
    )
    assert hidden_notices.count() == 2


# --- gone for everyone else -----------------------------------------------------------------


def test_a_hidden_song_is_gone_from_every_list_page_and_stream_for_others(
    world, moderator, listener, anonymous, client
):
    song = world["single"]
    services.song_favorite_add(user=listener, song=song)
    services.song_like(user=listener, song=song)
    hide_song(song, moderator)
    others = [anonymous, client_for(listener), client_for(UserFactory(is_musician=True))]

    for api in others:
        assert "Lantern Ghazal" not in titles(api.get("/api/songs"))
        assert api.get(f"/api/songs/{song.pk}").status_code == 404
        assert api.get(f"/api/songs/{song.pk}/stream").status_code == 404
        assert "Lantern Ghazal" not in titles(api.get("/api/songs/search", {"q": "lantern"}))
        assert "Lantern Ghazal" not in titles(api.get("/api/songs", {"genre": "ghazal"}))
        assert "Lantern Ghazal" not in titles(api.get(f"/api/artists/{world['artist'].pk}/songs"))
        assert "Lantern Ghazal" not in titles(api.get("/api/songs/random", {"count": 50}))
    mine = client_for(listener)
    assert "Lantern Ghazal" not in titles(mine.get("/api/songs/favorites"))
    assert mine.post(f"/api/songs/{song.pk}/play", {"ms_played": 1, "ended_reason": "skipped"})
    assert mine.post(f"/api/songs/{song.pk}/like").status_code == 404

    client.force_login(listener)
    assert client.get(f"/listen/songs/{song.pk}/").status_code == 404
    assert client.get(f"/listen/songs/{song.pk}/cover").status_code == 404
    assert "Lantern Ghazal" not in client.get("/listen/search/", {"q": "lantern"}).content.decode()
    assert "Lantern Ghazal" not in client.get("/listen/library/").content.decode()
    assert "Lantern Ghazal" not in client.get("/listen/genres/ghazal/").content.decode()
    artist_page = client.get(f"/listen/artists/{world['artist'].pk}/").content.decode()
    assert "Lantern Ghazal" not in artist_page and "Rain Ghazal" in artist_page


def test_counts_shown_to_everyone_leave_hidden_songs_out(world, moderator, anonymous):
    for song in (world["track"], world["single"]):
        Song.objects.filter(pk=song.pk).update(play_count=10, like_count=2)
    hide_song(world["single"], moderator)

    genre = next(g for g in anonymous.get("/api/genres").json()["results"] if g["slug"] == "ghazal")
    profile = anonymous.get(f"/api/artists/{world['artist'].pk}/profile").json()
    album = anonymous.get(f"/api/albums/{world['album'].pk}").json()

    assert genre["song_count"] == 3  # the album's two and the other artist's
    assert profile["song_count"] == 2 and profile["total_plays"] == 10
    assert album["song_count"] == 2
    artists = anonymous.get("/api/artists").json()["results"]
    assert next(a for a in artists if a["name"] == "Meera Sen")["song_count"] == 2


def test_a_hidden_song_does_not_linger_in_the_cached_trending(
    world, moderator, anonymous, django_capture_on_commit_callbacks
):
    Song.objects.filter(pk=world["single"].pk).update(play_count=500)
    before = anonymous.get("/api/songs/trending", {"time_range": "all"}).json()["results"]
    assert before[0]["title"] == "Lantern Ghazal"  # now cached for a minute
    assert cache.get("catalog:trending:all") is not None

    with django_capture_on_commit_callbacks(execute=True):
        hide_song(world["single"], moderator)

    after = titles(anonymous.get("/api/songs/trending", {"time_range": "all"}))
    assert "Lantern Ghazal" not in after and "Rain Ghazal" in after
    # The cache was forgotten on commit, and the fresh list has no gap where it was.
    assert world["single"].pk not in selectors.trending_ids("all")


def test_the_trending_ids_already_cached_are_filtered_when_read(world, moderator, anonymous):
    """Even a trending list cached by another process a moment before the hiding (which this
    process's forgetting cannot reach) never shows the song: pages read through the gate."""
    stale = [world["single"].pk, world["track"].pk]
    hide_song(world["single"], moderator)
    cache.set("catalog:trending:week", stale, 60)

    shown = titles(anonymous.get("/api/songs/trending", {"time_range": "week"}))

    assert shown == {"Rain Ghazal"}


def test_a_hidden_album_takes_its_songs_with_it(world, moderator, anonymous, listener, client):
    services.album_hide(album_id=world["album"].pk, actor=moderator, reason=REASON)
    api = client_for(listener)

    for reader in (anonymous, api):
        assert reader.get(f"/api/albums/{world['album'].pk}").status_code == 404
        assert reader.get(f"/api/albums/{world['album'].pk}/songs").status_code == 404
        assert "Monsoon Diaries" not in {
            a["title"] for a in reader.get("/api/albums").json()["results"]
        }
        listed = titles(reader.get("/api/songs"))
        assert {"Rain Ghazal", "Cloud Ghazal"}.isdisjoint(listed) and "Lantern Ghazal" in listed
        assert reader.get(f"/api/songs/{world['track'].pk}/stream").status_code == 404
        searched = reader.get("/api/songs/search", {"q": "monsoon"}).json()
        assert searched["results"] == [] and searched["albums"] == []
    client.force_login(listener)
    assert client.get(f"/listen/albums/{world['album'].pk}/").status_code == 404
    assert client.get(f"/listen/songs/{world['track'].pk}/").status_code == 404
    browse = client.get("/listen/").content.decode()
    assert "Monsoon Diaries" not in browse

    services.album_unhide(album_id=world["album"].pk, actor=moderator)
    assert "Rain Ghazal" in titles(anonymous.get("/api/songs"))


def test_search_ranks_inside_the_gate(world, moderator, anonymous):
    """catalog.search ranks inside the caller's queryset, which comes from the same gate as
    every list: a hidden song is not a candidate, not merely filtered after ranking."""
    hide_song(world["single"], moderator)

    ids = selectors.song_ids_found(None, "lantern")
    owner_ids = selectors.song_ids_found(world["artist"].user, "lantern")

    assert ids == [] and owner_ids == [world["single"].pk]


# --- the artist still sees it, marked -------------------------------------------------------


def test_the_artist_sees_their_hidden_song_marked_with_the_reason(world, moderator, client):
    hide_song(world["single"], moderator)
    services.album_hide(album_id=world["album"].pk, actor=moderator, reason="Album art.")
    owner = world["artist"].user
    api = client_for(owner)

    single = api.get(f"/api/songs/{world['single'].pk}").json()
    track = api.get(f"/api/songs/{world['track'].pk}").json()
    album = api.get(f"/api/albums/{world['album'].pk}").json()
    listed = {s["title"]: s for s in api.get("/api/songs").json()["results"]}

    assert single["is_hidden"] is True and single["hidden_reason"] == REASON
    assert track["is_hidden"] is True and track["hidden_reason"] == "Album art."
    assert album["is_hidden"] is True and album["hidden_reason"] == "Album art."
    assert listed["Lantern Ghazal"]["hidden_reason"] == REASON
    assert listed["Harbour Ghazal"]["is_hidden"] is False
    assert listed["Harbour Ghazal"]["hidden_reason"] is None
    assert api.get(f"/api/songs/{world['single'].pk}/stream").status_code == 302

    client.force_login(owner)
    page = client.get(f"/listen/songs/{world['single'].pk}/").content.decode()
    album_page = client.get(f"/listen/albums/{world['album'].pk}/").content.decode()
    assert f"Hidden by moderators: {REASON}" in page
    assert "Hidden by moderators: Album art." in album_page


def test_a_listening_room_gives_no_stream_link_for_a_song_hidden_after_it_was_queued(
    world, moderator, listener
):
    from rooms.consumers import _streams

    # What the consumer runs in its database thread, run here in the test's transaction.
    streams = _streams.func
    song = world["single"]
    assert streams(listener, str(song.pk))["stream_url"]
    hide_song(song, moderator)

    assert streams(listener, str(song.pk)) is None
    assert streams(world["artist"].user, str(song.pk))["stream_url"]
