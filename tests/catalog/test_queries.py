"""Every catalog list reads a bounded number of queries, whatever its page size.

Each endpoint is asked for a page of 5 and a page of 50 from a catalog of ~110 songs (one artist
with 55 songs on one album, 55 artists with one song and album each; analyses, genres, likes,
favourites, plays and follows on all of them), under one bound for both. An N+1 (a query per
song, album or artist on the page) shows as the 50-item page needing more than the bound; the
two counts must also be equal, so a bound that is merely loose cannot hide one.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from audio.models import AudioAnalysis, AudioAsset
from catalog.models import (
    Album,
    AlbumFavorite,
    Artist,
    ArtistFollow,
    PlayEvent,
    Song,
    SongFavorite,
    SongLike,
)
from tests.catalog.conftest import client_for
from tests.catalog.factories import AlbumFactory, ArtistFactory, GenreFactory, analysis_of
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Authentication (token, user) + count + page + genres + the caller's likes and favourites,
# plus what an endpoint reads before its page (the album, the artist, trending's ranking ...).
BOUND = 12
# Four kinds searched (songs, albums, artists, genres); on PostgreSQL each is tried by its words
# first, and a misspelt query then reads a few small candidate lists per kind.
SEARCH_BOUND = 28


def _songs(artist, album, titles, genres, start):
    """Songs made in bulk (the factories would take minutes for a catalog this size): a row
    each for the asset, the song, its analysis and its genres."""
    assets = AudioAsset.objects.bulk_create(
        AudioAsset(
            owner_id=artist.user_id,
            purpose=AudioAsset.Purpose.CATALOG,
            original=f"bench/{start + n}.mp3",
            format=AudioAsset.Format.MP3,
            sha256=f"{start + n:064x}",
            size=4096,
            status=AudioAsset.Status.READY,
            duration=180.0,
        )
        for n in range(len(titles))
    )
    songs = Song.objects.bulk_create(
        Song(
            artist=artist,
            album=album,
            track_number=n + 1,
            title=title,
            asset=asset,
            duration=180.0,
            play_count=n,
            artist_name=artist.name,
            album_title=album.title,
            genre_names=", ".join(g.name for g in genres),
        )
        for n, (title, asset) in enumerate(zip(titles, assets, strict=True))
    )
    AudioAnalysis.objects.bulk_create(analysis_of(asset) for asset in assets)
    Song.genres.through.objects.bulk_create(
        Song.genres.through(song=song, genre=genre) for song in songs for genre in genres
    )
    return songs


@pytest.fixture
def world():
    listener = UserFactory()
    genres = [GenreFactory(name=f"Style {n}", slug=f"style-{n}") for n in range(4)]
    big = ArtistFactory(name="Prolific Pianist")
    album = AlbumFactory(artist=big, title="Complete Works")
    album.genres.set(genres[:2])
    songs = _songs(big, album, [f"Nocturne {n}" for n in range(55)], genres[:2], 0)
    players = User.objects.bulk_create(
        User(email=f"player{n}@example.com", display_name=f"Player {n}", is_musician=True)
        for n in range(55)
    )
    artists = Artist.objects.bulk_create(
        Artist(user=user, name=f"Nocturne Player {n}", slug=f"nocturne-player-{n}")
        for n, user in enumerate(players)
    )
    Artist.genres.through.objects.bulk_create(
        Artist.genres.through(artist=artist, genre=genre)
        for artist in artists
        for genre in genres[:2]
    )
    singles = Album.objects.bulk_create(
        Album(artist=artist, title=f"Nocturne Single {n}", artist_name=artist.name)
        for n, artist in enumerate(artists)
    )
    Album.genres.through.objects.bulk_create(
        Album.genres.through(album=single, genre=genres[n % 4]) for n, single in enumerate(singles)
    )
    for n, (artist, single) in enumerate(zip(artists, singles, strict=True)):
        songs += _songs(artist, single, [f"Nocturne Solo {n}"], genres[2:], 100 + n)
    now = timezone.now()
    # The listener likes, keeps and lately played the big artist's songs; the others they
    # played weeks ago, so recommendations have songs to offer (not liked, not this week's).
    liked = songs[:55]
    SongLike.objects.bulk_create(SongLike(user=listener, song=song) for song in liked)
    SongFavorite.objects.bulk_create(SongFavorite(user=listener, song=song) for song in liked)
    Song.objects.filter(pk__in=[s.pk for s in liked]).update(like_count=1, favorite_count=1)
    PlayEvent.objects.bulk_create(
        PlayEvent(
            user=listener,
            song=song,
            started_at=now - timedelta(days=0 if n < 55 else 10 + n % 20, minutes=n),
            ms_played=60_000,
            ended_reason=PlayEvent.EndedReason.COMPLETED,
            counted=True,
        )
        for n, song in enumerate(songs)
    )
    ArtistFollow.objects.bulk_create(ArtistFollow(user=listener, artist=a) for a in artists)
    # The big artist's followers: the 55 other musicians.
    ArtistFollow.objects.bulk_create(ArtistFollow(user=u, artist=big) for u in players)
    AlbumFavorite.objects.bulk_create(AlbumFavorite(user=listener, album=a) for a in singles)
    return {
        "listener": listener,
        "big": big,
        "album": album,
        "genres": genres,
        "songs": songs,
        "artists": [big, *artists],
    }


def endpoints(world) -> list[tuple[str, str, object, int]]:
    """(label, path, who asks, bound); paths take page_size."""
    big, album = world["big"], world["album"]
    listener = world["listener"]
    return [
        ("songs", "/api/songs", listener, BOUND),
        ("songs anonymous", "/api/songs", None, BOUND),
        ("songs by genre", "/api/songs?genre=style-1", listener, BOUND),
        ("songs by plays", "/api/songs?ordering=-plays", listener, BOUND),
        ("songs by tempo", "/api/songs?tempo_min=100&tempo_max=140&key=A", listener, BOUND),
        ("songs by artist", f"/api/songs?artist={big.pk}&ordering=-likes", listener, BOUND),
        ("trending all", "/api/songs/trending?time_range=all", listener, BOUND),
        ("trending week", "/api/songs/trending?time_range=week", listener, BOUND),
        ("trending month", "/api/songs/trending?time_range=month", None, BOUND),
        ("search", "/api/songs/search?q=nocturne", listener, SEARCH_BOUND),
        ("search typo", "/api/songs/search?q=nocturme", listener, SEARCH_BOUND),
        ("favorites", "/api/songs/favorites", listener, BOUND),
        ("recently played", "/api/songs/recently_played", listener, BOUND),
        ("random", "/api/songs/random?count=60", listener, BOUND),
        ("recommendations", "/api/songs/recommendations", listener, BOUND + 8),
        ("albums", "/api/albums", listener, BOUND),
        ("album songs", f"/api/albums/{album.pk}/songs", listener, BOUND),
        ("album favorites", "/api/albums/favorites", listener, BOUND),
        ("artists", "/api/artists", None, BOUND),
        ("artist profile", f"/api/artists/{big.pk}/profile", listener, BOUND + 4),
        ("artist songs", f"/api/artists/{big.pk}/songs", listener, BOUND),
        ("following", "/api/artists/following", listener, BOUND),
        ("followers", "/api/artists/followers", big.user, BOUND),
        ("genres", "/api/genres", None, BOUND),
    ]


def _get(client, path, page_size):
    joiner = "&" if "?" in path else "?"
    return client.get(f"{path}{joiner}page_size={page_size}")


def test_every_list_reads_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    failures = []
    for label, path, who, bound in endpoints(world):
        client = client_for(who) if who is not None else client_for(None)
        _get(client, path, 5)  # caches warm (entitlements, trending) as in steady use
        counts = {}
        for page_size in (5, 50):
            try:
                with django_assert_max_num_queries(bound) as captured:
                    response = _get(client, path, page_size)
            except pytest.fail.Exception as over:
                failures.append(f"{label}, page_size={page_size}: {over}")
                continue
            assert response.status_code == 200, (label, response.content[:300])
            body = response.json()
            items = body.get("results", body)
            expected = min(page_size, body["count"]) if "count" in body else None
            if expected is not None:
                assert len(items) == expected, (label, page_size, len(items))
            counts[page_size] = len(captured)
        # A random pick that starts near the end of the shuffle order wraps around: one more
        # read of songs and their genres, whatever the page size.
        slack = 2 if label == "random" else 0
        if len(counts) == 2 and abs(counts[5] - counts[50]) > slack:
            failures.append(f"{label}: {counts[5]} queries for 5 items, {counts[50]} for 50")
    assert not failures, failures


def test_the_pages_are_full_pages(world):
    """The catalog is large enough for every list to fill a page of 50 (else the comparison
    above would prove nothing)."""
    short = []
    for label, path, who, _bound in endpoints(world):
        body = _get(client_for(who), path, 50).json()
        if label == "artist profile":
            assert len(body["top_songs"]) == 10
            continue
        if label == "genres":
            continue  # four genres: the list is short by nature; its query count is flat
        if label == "search typo" and connection.vendor != "postgresql":
            assert body["count"] == 0  # typos are forgiven on PostgreSQL only
            continue
        if label == "recommendations":
            assert body["count"] == 20  # a fixed-length list: 5 of 20 against all 20
            continue
        if body["count"] < 50:
            short.append((label, body["count"]))
    assert not short, short


def test_a_profile_reads_the_same_queries_for_few_or_many_albums(world):
    small = world["artists"][1]
    big = world["big"]
    Album.objects.bulk_create(
        Album(artist=big, title=f"Extra {n}", artist_name=big.name) for n in range(30)
    )
    listener = client_for(world["listener"])
    counts = []
    for artist in (small, big):
        with CaptureQueriesContext(connection) as captured:
            response = listener.get(f"/api/artists/{artist.pk}/profile")
        assert response.status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts
