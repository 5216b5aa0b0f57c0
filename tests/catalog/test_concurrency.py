"""Listeners acting at once on the real PostgreSQL: likes, plays and skips counted exactly.

These run in the services configuration (DATABASE_URL/REDIS_URL set, see tests/conftest.py):
SQLite serialises all writers, so only PostgreSQL shows that the F() updates, the unique
constraints and the row lock on a skipping listener are right.
"""

import pytest
from django.db import connection

from billing.selectors import entitlements_for
from catalog import services
from catalog.errors import SkipLimit
from catalog.models import PlayEvent, Song, SongLike
from tests.catalog.conftest import client_for
from tests.catalog.factories import SongFactory
from tests.factories import UserFactory
from tests.races import race

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

THREADS = 8


def test_it_is_postgresql():
    assert connection.vendor == "postgresql"


def test_likes_from_many_listeners_at_once_are_all_counted():
    song = SongFactory()
    listeners = [UserFactory() for _ in range(THREADS)]
    results = race(*[lambda u=u: services.song_like(user=u, song=song) for u in listeners])
    assert results == [True] * THREADS
    song.refresh_from_db()
    assert song.like_count == THREADS == SongLike.objects.filter(song=song).count()


def test_likes_through_the_api_at_once_are_all_counted():
    song = SongFactory()
    clients = [client_for(UserFactory()) for _ in range(THREADS)]
    responses = race(*[lambda c=c: c.post(f"/api/songs/{song.pk}/like") for c in clients])
    assert [r.status_code for r in responses] == [200] * THREADS
    assert all(r.json()["changed"] for r in responses)
    song.refresh_from_db()
    assert song.like_count == THREADS


def test_one_listener_liking_twice_at_once_counts_once():
    song = SongFactory()
    listener = UserFactory()
    results = race(*[lambda: services.song_like(user=listener, song=song) for _ in range(4)])
    assert sorted(results) == [False, False, False, True], results
    song.refresh_from_db()
    assert song.like_count == 1
    assert SongLike.objects.filter(song=song, user=listener).count() == 1


def test_likes_and_unlikes_at_once_leave_the_count_equal_to_the_likes():
    song = SongFactory()
    stayers = [UserFactory() for _ in range(4)]
    leavers = [UserFactory() for _ in range(4)]
    for user in leavers:
        services.song_like(user=user, song=song)
    race(
        *[lambda u=u: services.song_like(user=u, song=song) for u in stayers],
        *[lambda u=u: services.song_unlike(user=u, song=song) for u in leavers],
    )
    song.refresh_from_db()
    assert song.like_count == 4 == SongLike.objects.filter(song=song).count()


def test_counted_plays_at_once_are_all_counted():
    song = SongFactory(duration=200.0)
    listeners = [UserFactory() for _ in range(THREADS)]

    def play(user, ms):
        return services.play_record(
            user=user, song=song, ms_played=ms, ended_reason=PlayEvent.EndedReason.STOPPED
        )

    # Half listen long enough to count, half stop early (recorded, not counted).
    lengths = [60_000 if i % 2 == 0 else 5_000 for i in range(THREADS)]
    pairs = zip(listeners, lengths, strict=True)
    results = race(*[lambda u=u, ms=ms: play(u, ms) for u, ms in pairs])
    assert all(isinstance(r, PlayEvent) for r in results), results
    song.refresh_from_db()
    assert song.play_count == THREADS // 2
    assert PlayEvent.objects.filter(song=song).count() == THREADS
    assert PlayEvent.objects.filter(song=song, counted=True).count() == THREADS // 2


def test_one_listener_playing_many_songs_at_once_counts_each():
    listener = UserFactory()
    songs = [SongFactory() for _ in range(THREADS)]
    race(
        *[
            lambda s=s: services.play_record(
                user=listener,
                song=s,
                ms_played=0,
                ended_reason=PlayEvent.EndedReason.COMPLETED,
            )
            for s in songs
        ]
    )
    assert (
        sorted(
            Song.objects.filter(pk__in=[s.pk for s in songs]).values_list("play_count", flat=True)
        )
        == [1] * THREADS
    )


@pytest.mark.parametrize("already", [0, 3])
def test_skips_at_once_at_the_limit_let_exactly_the_allowed_number_through(already):
    listener = UserFactory()  # no subscription: the free plan's hourly skips
    limit = entitlements_for(listener).skips_per_hour
    assert limit is not None and limit < THREADS + already
    song = SongFactory()

    def skip():
        return services.play_record(
            user=listener,
            song=song,
            ms_played=4_000,
            ended_reason=PlayEvent.EndedReason.SKIPPED,
        )

    for _ in range(already):
        skip()
    results = race(*[skip for _ in range(limit + 4 - already)])
    passed = [r for r in results if isinstance(r, PlayEvent)]
    refused = [r for r in results if isinstance(r, SkipLimit)]
    assert len(passed) == limit - already, results
    assert len(refused) == len(results) - len(passed), results
    assert all(r.extra.get("retry_after", 0) >= 1 for r in refused)
    assert (
        PlayEvent.objects.filter(user=listener, ended_reason=PlayEvent.EndedReason.SKIPPED).count()
        == limit
    )


def test_skips_through_the_api_at_once_answer_429_past_the_limit():
    listener = UserFactory()
    limit = entitlements_for(listener).skips_per_hour
    song = SongFactory()
    clients = [client_for(listener) for _ in range(limit + 3)]
    responses = race(
        *[
            lambda c=c: c.post(
                f"/api/songs/{song.pk}/play",
                {"ms_played": 3000, "ended_reason": "skipped"},
                format="json",
            )
            for c in clients
        ]
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] * limit + [429] * 3, codes
    refused = [r.json() for r in responses if r.status_code == 429]
    assert all(body["code"] == "skip_limit" and body["detail"] for body in refused)
