"""Statistics: plays, likes, favourites and followers of the musician's catalog (the counts the
catalog keeps), each song's, and counted plays per day over the last 30 days, drawn as SVG."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from catalog.models import PlayEvent
from catalog.services import artist_follow, play_record, song_favorite_add, song_like
from tests.catalog.factories import ArtistFactory, SongFactory
from tests.factories import UserFactory
from tests.studio.conftest import client_for

pytestmark = pytest.mark.django_db


def played(song, *, days_ago: int, counted: bool = True, times: int = 1):
    at = timezone.make_aware(
        datetime.combine(timezone.localdate() - timedelta(days=days_ago), time(12))
    )
    listener = UserFactory()
    PlayEvent.objects.bulk_create(
        PlayEvent(
            user=listener,
            song=song,
            started_at=at,
            ms_played=60_000 if counted else 5_000,
            ended_reason="completed" if counted else "skipped",
            counted=counted,
        )
        for _ in range(times)
    )


def figure(body, name) -> str:
    return re.search(rf'data-figure="{name}">([^<]*)<', body).group(1)


def test_totals_and_each_song_come_from_the_catalogs_counts(studio, musician, other_musician):
    artist = ArtistFactory(user=musician)
    hit = SongFactory(artist=artist, title="Hit")
    quiet = SongFactory(artist=artist, title="Quiet", visibility="private")
    theirs = SongFactory(artist=ArtistFactory(user=other_musician), title="Not mine")
    fans = [UserFactory() for _ in range(3)]
    for fan in fans:
        play_record(user=fan, song=hit, ms_played=45_000, ended_reason="stopped")
        song_like(user=fan, song=hit)
        play_record(user=fan, song=theirs, ms_played=45_000, ended_reason="completed")
    play_record(user=fans[0], song=quiet, ms_played=200_000, ended_reason="completed")
    play_record(user=fans[0], song=quiet, ms_played=3_000, ended_reason="stopped")  # too short
    song_favorite_add(user=fans[1], song=quiet)
    artist_follow(user=fans[0], artist=artist)
    artist_follow(user=fans[2], artist=artist)

    body = studio.get("/studio/stats/").content.decode()
    assert figure(body, "plays") == "4"
    assert figure(body, "likes") == "3"
    assert figure(body, "favorites") == "1"
    assert figure(body, "followers") == "2"
    assert "2 new in 30 days" in body and "3 new in 30 days" in body
    rows = re.findall(r'data-testid="stats-song-[^"]+"><th scope="row"><a [^>]*>([^<]*)<', body)
    assert rows == ["Hit", "Quiet"]  # most played first; never another musician's
    hit_row = re.search(rf'data-testid="stats-song-{hit.pk}".*?</tr>', body, re.S).group(0)
    assert re.findall(r"<td>(\d+)</td>", hit_row) == ["3", "3", "0"]
    assert "Not mine" not in body


def test_plays_per_day_cover_30_days_with_counted_plays_only(studio, musician, other_musician):
    song = SongFactory(artist=ArtistFactory(user=musician))
    played(song, days_ago=0, times=3)
    played(song, days_ago=2, times=6)
    played(song, days_ago=2, counted=False, times=4)  # skips are not plays
    played(song, days_ago=29, times=1)
    played(song, days_ago=30, times=5)  # before the window
    played(SongFactory(artist=ArtistFactory(user=other_musician)), days_ago=1, times=7)

    body = studio.get("/studio/stats/").content.decode()
    bars = re.findall(r'<rect [^>]*data-day="([\d-]+)" data-plays="(\d+)"', body)
    assert len(bars) == 30
    today = timezone.localdate()
    assert bars[-1] == (today.isoformat(), "3")
    assert bars[0] == ((today - timedelta(days=29)).isoformat(), "1")
    plays = {day: int(count) for day, count in bars}
    assert plays[(today - timedelta(days=2)).isoformat()] == 6
    assert plays[(today - timedelta(days=1)).isoformat()] == 0
    assert sum(plays.values()) == 10
    # The busiest day reaches the top of the chart; an empty day draws nothing.
    tallest = re.search(r'<rect [^>]*height="([\d.]+)"[^>]*data-plays="6"', body).group(1)
    assert float(tallest) == 120.0
    assert re.search(r'height="0\.0" class="studio-bar is-empty"', body)
    assert "10 plays in the last 30 days, at most 6 in a day." in body
    assert body.count("<tr><td>") == 30  # the same figures as a table


def test_a_musician_without_a_catalog_sees_zeros_and_where_to_start(studio):
    body = studio.get("/studio/stats/").content.decode()
    assert figure(body, "plays") == "0" and figure(body, "followers") == "0"
    assert len(re.findall(r"<rect ", body)) == 30
    assert 'href="/studio/catalog/">Upload one' in body


def test_statistics_read_in_a_fixed_number_of_queries(musician, django_assert_max_num_queries):
    artist = ArtistFactory(user=musician)
    played(SongFactory(artist=artist), days_ago=3, times=2)
    studio = client_for(musician)
    with django_assert_max_num_queries(10) as few:
        studio.get("/studio/stats/")
    for days_ago in range(10):
        played(SongFactory(artist=artist), days_ago=days_ago, times=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert studio.get("/studio/stats/").status_code == 200
