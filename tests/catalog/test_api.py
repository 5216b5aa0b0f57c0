"""The catalog API as a listener and a musician use it: every endpoint, who may do what, and
private items that do not exist for anyone else."""

import io

import pytest
from PIL import Image

from catalog import services
from catalog.models import Album, Artist, PlayEvent, Song
from tests.billing.factories import SubscriptionFactory
from tests.catalog.conftest import client_for
from tests.catalog.factories import (
    AlbumFactory,
    ArtistFactory,
    GenreFactory,
    SongFactory,
    analysis_for,
)
from tests.factories import MusicianFactory, UserFactory

pytestmark = pytest.mark.django_db


def png(size=(64, 64), color=(200, 40, 90)) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, color).save(data, format="PNG")
    data.seek(0)
    data.name = "cover.png"
    return data


def titles(response) -> list[str]:
    return [song["title"] for song in response.json()["results"]]


# --- songs: reading --------------------------------------------------------------------------


def test_anyone_lists_public_songs_with_analysis_and_status(anonymous):
    song = SongFactory(title="Monsoon Letters")
    analysis_for(song, tempo_bpm=96.0, tempo_alt_bpm=192.0, key="D", mode="major")
    SongFactory(title="Hidden demo", visibility="private")

    answer = anonymous.get("/api/songs")

    assert answer.status_code == 200
    assert titles(answer) == ["Monsoon Letters"]
    item = answer.json()["results"][0]
    assert item["status"] == "ready"
    assert item["analysis"]["tempo_bpm"] == 96.0
    assert item["analysis"]["key"] == "D" and item["analysis"]["mode"] == "major"
    assert set(item["analysis"]) == {
        "tempo_bpm", "tempo_alt_bpm", "key", "mode", "key_confidence", "loudness_lufs",
        "energy", "danceability", "acousticness", "valence", "mood",
    }  # fmt: skip
    assert item["stream_url"] == f"/api/songs/{song.pk}/stream"
    assert item["liked"] is False and item["favorite"] is False


def test_a_song_not_analysed_yet_says_so():
    song = SongFactory(asset__status="processing")
    item = client_for(UserFactory()).get(f"/api/songs/{song.pk}").json()
    assert item["analysis"] is None
    assert item["status"] == "processing"


def test_private_songs_are_404_to_everyone_but_their_artist():
    song = SongFactory(visibility="private")
    owner = client_for(song.artist.user)
    for client in (client_for(UserFactory()), client_for(MusicianFactory())):
        for path in ("", "/stream", "/like", "/play", "/favorite"):
            method = client.get if path in ("", "/stream") else client.post
            assert method(f"/api/songs/{song.pk}{path}").status_code == 404, path
    assert owner.get(f"/api/songs/{song.pk}").status_code == 200
    assert [s["id"] for s in owner.get("/api/songs").json()["results"]] == [str(song.pk)]


def test_others_failed_songs_are_not_listed_but_their_artist_sees_them():
    song = SongFactory(asset__status="failed", asset__failure_reason="Unreadable.")
    assert client_for(UserFactory()).get(f"/api/songs/{song.pk}").status_code == 404
    mine = client_for(song.artist.user).get(f"/api/songs/{song.pk}").json()
    assert mine["status"] == "failed"


def test_unknown_and_malformed_song_ids_are_404():
    client = client_for(UserFactory())
    assert client.get("/api/songs/5d0b1f38-8f6f-4a57-9d7e-000000000000").status_code == 404
    assert client.get("/api/songs/not-a-uuid").status_code == 404


def test_filters_by_genre_artist_album_release_dates_and_analysis():
    rock, jazz = GenreFactory(name="Rock"), GenreFactory(name="Jazz")
    artist = ArtistFactory()
    album = AlbumFactory(artist=artist)
    fast = SongFactory(title="Fast", artist=artist, album=album, genres=[rock])
    fast.release_date = "2026-03-01"
    fast.save()
    slow = SongFactory(title="Slow", genres=[jazz])
    slow.release_date = "2025-01-01"
    slow.save()
    analysis_for(fast, tempo_bpm=150.0, tempo_alt_bpm=75.0, key="E", mode="minor", energy=0.9)
    analysis_for(slow, tempo_bpm=70.0, tempo_alt_bpm=140.0, key="F", mode="major", energy=0.2)
    client = client_for(UserFactory())

    def found(query):
        answer = client.get(f"/api/songs?{query}")
        assert answer.status_code == 200, answer.content
        return sorted(titles(answer))

    assert found("genre=rock") == ["Fast"]
    assert found("genre=Jazz") == ["Slow"]
    assert found(f"artist={artist.pk}") == ["Fast"]
    assert found(f"album={album.pk}") == ["Fast"]
    assert found("released_after=2026-01-01") == ["Fast"]
    assert found("released_before=2025-12-31") == ["Slow"]
    assert found("key=E&mode=minor") == ["Fast"]
    assert found("energy_min=0.5") == ["Fast"]
    assert found("energy_max=0.5") == ["Slow"]
    # A tempo range matches a song by its tempo or by its half/double reading, each whole.
    assert found("tempo_min=140&tempo_max=155") == ["Fast", "Slow"]
    assert found("tempo_min=65&tempo_max=72") == ["Slow"]
    assert found("tempo_min=100&tempo_max=130") == []


def test_bad_filter_values_are_400_not_500():
    client = client_for(UserFactory())
    for query in ("released_after=yesterday", "tempo_min=fast", "key=H", "mode=dorian",
                  "artist=nobody", "ordering=price"):  # fmt: skip
        answer = client.get(f"/api/songs?{query}")
        assert answer.status_code == 400, query
        assert set(answer.json()) >= {"detail", "code"}


def test_orders_by_plays_likes_release_date_and_created():
    a = SongFactory(title="A", play_count=5, like_count=1)
    b = SongFactory(title="B", play_count=1, like_count=9)
    a.release_date, b.release_date = "2024-01-01", "2026-01-01"
    a.save(), b.save()
    client = client_for(UserFactory())
    assert titles(client.get("/api/songs?ordering=-plays")) == ["A", "B"]
    assert titles(client.get("/api/songs?ordering=-likes")) == ["B", "A"]
    assert titles(client.get("/api/songs?ordering=release_date")) == ["A", "B"]
    assert titles(client.get("/api/songs?ordering=-created")) == ["B", "A"]


# --- songs: publishing -----------------------------------------------------------------------


def test_only_musicians_publish_songs(tmp_path):
    listener = client_for(UserFactory())
    answer = listener.post(
        "/api/songs", {"title": "Mine", "audio": io.BytesIO(b"x")}, format="multipart"
    )
    assert answer.status_code == 403
    assert answer.json()["code"] == "not_musician"
    assert Song.objects.count() == 0
    assert client_for(None).post("/api/songs", {"title": "x"}).status_code in (401, 403)


def test_a_song_needs_its_audio():
    answer = client_for(MusicianFactory()).post("/api/songs", {"title": "No audio"})
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"audio": ["Attach the song's audio file."]}


def test_only_the_owner_edits_or_deletes_a_song():
    song = SongFactory(title="Original")
    stranger = client_for(MusicianFactory())
    assert stranger.patch(f"/api/songs/{song.pk}", {"title": "Hijacked"}).status_code == 403
    assert stranger.delete(f"/api/songs/{song.pk}").status_code == 403
    song.refresh_from_db()
    assert song.title == "Original"

    owner = client_for(song.artist.user)
    edited = owner.patch(
        f"/api/songs/{song.pk}",
        {"title": "Renamed", "genres": ["Lo-fi", "Jazz"], "explicit": True, "lyrics": "la la"},
    )
    assert edited.status_code == 200, edited.content
    assert edited.json()["title"] == "Renamed"
    assert sorted(edited.json()["genres"]) == ["Jazz", "Lo-fi"]
    assert edited.json()["explicit"] is True
    song.refresh_from_db()
    assert song.genre_names == "Jazz, Lo-fi"

    assert owner.delete(f"/api/songs/{song.pk}").status_code == 204
    assert not Song.objects.filter(pk=song.pk).exists()


def test_a_song_goes_on_the_owners_album_only():
    song = SongFactory()
    others = AlbumFactory()
    answer = client_for(song.artist.user).patch(f"/api/songs/{song.pk}", {"album": str(others.pk)})
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"
    private = AlbumFactory(visibility="private")
    answer = client_for(song.artist.user).patch(f"/api/songs/{song.pk}", {"album": str(private.pk)})
    assert answer.status_code == 404  # someone else's private album does not exist
    own = AlbumFactory(artist=song.artist, title="Own Album")
    answer = client_for(song.artist.user).patch(f"/api/songs/{song.pk}", {"album": str(own.pk)})
    assert answer.json()["album"] == {"id": str(own.pk), "title": "Own Album"}
    song.refresh_from_db()
    assert song.album_title == "Own Album"


def test_replacing_the_audio_of_a_song_is_refused():
    song = SongFactory()
    answer = client_for(song.artist.user).patch(
        f"/api/songs/{song.pk}", {"audio": io.BytesIO(b"RIFF")}, format="multipart"
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "audio_immutable"


# --- likes, favourites, plays ----------------------------------------------------------------


def test_like_unlike_are_counted_once_per_listener():
    song = SongFactory()
    client = client_for(UserFactory())
    assert client.post(f"/api/songs/{song.pk}/like").json() == {
        "changed": True, "liked": True, "favorite": False, "like_count": 1,
    }  # fmt: skip
    assert client.post(f"/api/songs/{song.pk}/like").json()["like_count"] == 1
    assert client.get(f"/api/songs/{song.pk}").json()["liked"] is True
    assert client.post(f"/api/songs/{song.pk}/unlike").json()["like_count"] == 0
    assert client.post(f"/api/songs/{song.pk}/unlike").json()["changed"] is False
    song.refresh_from_db()
    assert song.like_count == 0


def test_favourite_songs_are_the_listeners_library():
    first, second = SongFactory(title="First"), SongFactory(title="Second")
    listener = UserFactory()
    client = client_for(listener)
    client.post(f"/api/songs/{first.pk}/favorite")
    client.post(f"/api/songs/{second.pk}/favorite")
    assert titles(client.get("/api/songs/favorites")) == ["Second", "First"]
    assert client.delete(f"/api/songs/{first.pk}/favorite").json()["favorite"] is False
    assert titles(client.get("/api/songs/favorites")) == ["Second"]
    assert titles(client_for(UserFactory()).get("/api/songs/favorites")) == []
    assert client_for(None).get("/api/songs/favorites").status_code in (401, 403)


def test_a_play_is_recorded_and_counted_from_30_seconds_or_when_completed():
    song = SongFactory(duration=200.0)
    client = client_for(UserFactory())
    short = client.post(
        f"/api/songs/{song.pk}/play",
        {"ms_played": 12_000, "ended_reason": "stopped", "context": "search", "device": "web"},
    )
    assert short.status_code == 201, short.content
    assert short.json()["counted"] is False
    assert client.post(
        f"/api/songs/{song.pk}/play", {"ms_played": 31_000, "ended_reason": "stopped"}
    ).json()["counted"]
    song.refresh_from_db()
    assert song.play_count == 1
    event = PlayEvent.objects.filter(counted=False).get()
    assert (event.context, event.device, event.ms_played) == ("search", "web", 12_000)


def test_a_play_with_a_bad_reason_or_negative_time_is_400():
    song = SongFactory()
    client = client_for(UserFactory())
    bodies = (
        {"ms_played": 10, "ended_reason": "bored"},
        {"ms_played": -5, "ended_reason": "stopped"},
        {},
    )
    for body in bodies:
        answer = client.post(f"/api/songs/{song.pk}/play", body)
        assert answer.status_code == 400, body
    assert PlayEvent.objects.count() == 0


def _skip(client, song):
    return client.post(f"/api/songs/{song.pk}/play", {"ms_played": 4000, "ended_reason": "skipped"})


def test_a_free_listeners_seventh_skip_in_an_hour_is_429_and_not_recorded():
    song = SongFactory()
    listener = UserFactory()
    client = client_for(listener)
    for _ in range(6):
        assert _skip(client, song).status_code == 201
    refused = _skip(client, song)
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "skip_limit" and body["limit"] == 6
    assert 0 < body["retry_after"] <= 3600
    assert refused["Retry-After"] == str(body["retry_after"])
    assert PlayEvent.objects.filter(user=listener, ended_reason="skipped").count() == 6
    # Listening on is never limited.
    assert (
        client.post(
            f"/api/songs/{song.pk}/play", {"ms_played": 60_000, "ended_reason": "completed"}
        ).status_code
        == 201
    )


def test_premium_skips_without_limit():
    song = SongFactory()
    listener = UserFactory()
    SubscriptionFactory(user=listener)
    client = client_for(listener)
    assert all(_skip(client, song).status_code == 201 for _ in range(12))


def test_recently_played_lists_each_song_once_latest_first():
    a, b = SongFactory(title="A"), SongFactory(title="B")
    client = client_for(UserFactory())
    for song in (a, b, a):
        client.post(
            f"/api/songs/{song.pk}/play", {"ms_played": 40_000, "ended_reason": "completed"}
        )
    assert titles(client.get("/api/songs/recently_played")) == ["A", "B"]


# --- discovery -------------------------------------------------------------------------------


def test_trending_ranks_plays_and_likes_in_the_range():
    steady = SongFactory(title="Steady", play_count=100)
    fresh = SongFactory(title="Fresh", play_count=2)
    client = client_for(UserFactory())
    for _ in range(3):
        listener = client_for(UserFactory())
        listener.post(
            f"/api/songs/{fresh.pk}/play", {"ms_played": 40_000, "ended_reason": "completed"}
        )
        listener.post(f"/api/songs/{fresh.pk}/like")
    assert titles(client.get("/api/songs/trending?time_range=all"))[0] == "Steady"
    assert titles(client.get("/api/songs/trending?time_range=week")) == ["Fresh"]
    assert titles(client.get("/api/songs/trending?time_range=month")) == ["Fresh"]
    assert client.get("/api/songs/trending?time_range=decade").status_code == 400
    assert steady.pk  # trending all-time reads the counts


def test_random_songs_are_public_distinct_and_bounded():
    for n in range(30):
        SongFactory(title=f"R{n}")
    SongFactory(title="Secret", visibility="private")
    client = client_for(UserFactory())
    picked = titles(client.get("/api/songs/random?count=25&page_size=25"))
    assert len(picked) == 25 == len(set(picked))
    assert "Secret" not in picked
    assert client.get("/api/songs/random?count=lots").status_code == 400


def test_recommendations_follow_the_listeners_genres_and_artists():
    lofi, metal = GenreFactory(name="Lo-fi"), GenreFactory(name="Metal")
    liked = SongFactory(title="Liked", genres=[lofi])
    SongFactory(title="Another lo-fi", genres=[lofi])
    SongFactory(title="Metal one", genres=[metal], play_count=50)
    listener = UserFactory()
    client = client_for(listener)
    client.post(f"/api/songs/{liked.pk}/like")
    recommended = titles(client.get("/api/songs/recommendations"))
    assert recommended[0] == "Another lo-fi"
    # A new listener gets what is popular.
    assert titles(client_for(UserFactory()).get("/api/songs/recommendations"))[0] == "Metal one"


# --- albums ----------------------------------------------------------------------------------


def test_a_musician_makes_an_album_with_a_cover_and_fills_it():
    musician = MusicianFactory()
    client = client_for(musician)
    answer = client.post(
        "/api/albums",
        {
            "title": "Night Drives",
            "release_date": "2026-11-01",
            "genres": "Synthwave,Pop",
            "cover": png(),
        },
        format="multipart",
    )
    assert answer.status_code == 201, answer.content
    album = answer.json()
    assert album["artist"]["name"] == musician.display_name
    assert album["cover_url"].endswith(f"/listen/albums/{album['id']}/cover")
    assert sorted(album["genres"]) == ["Pop", "Synthwave"]
    song = SongFactory(artist=Artist.objects.get(user=musician))
    client.patch(f"/api/songs/{song.pk}", {"album": album["id"], "track_number": 1})
    songs = client_for(UserFactory()).get(f"/api/albums/{album['id']}/songs")
    assert [s["id"] for s in songs.json()["results"]] == [str(song.pk)]


def test_an_album_cover_must_be_a_real_image():
    client = client_for(MusicianFactory())
    fake = io.BytesIO(b"<svg onload=alert(1)>")
    fake.name = "cover.png"
    answer = client.post("/api/albums", {"title": "X", "cover": fake}, format="multipart")
    assert answer.status_code in (400, 415)
    assert Album.objects.count() == 0


def test_only_musicians_make_albums_and_only_owners_change_them():
    assert client_for(UserFactory()).post("/api/albums", {"title": "X"}).status_code == 403
    album = AlbumFactory(title="Keep")
    stranger = client_for(MusicianFactory())
    assert stranger.patch(f"/api/albums/{album.pk}", {"title": "Mine"}).status_code == 403
    assert stranger.delete(f"/api/albums/{album.pk}").status_code == 403
    owner = client_for(album.artist.user)
    assert owner.patch(f"/api/albums/{album.pk}", {"title": "Kept"}).json()["title"] == "Kept"


def test_deleting_an_album_keeps_its_songs_as_singles():
    album = AlbumFactory()
    song = SongFactory(artist=album.artist, album=album)
    assert client_for(album.artist.user).delete(f"/api/albums/{album.pk}").status_code == 204
    song.refresh_from_db()
    assert song.album is None and song.album_title == ""


def test_private_albums_are_404_to_others():
    album = AlbumFactory(visibility="private")
    client = client_for(UserFactory())
    assert client.get(f"/api/albums/{album.pk}").status_code == 404
    assert client.get(f"/api/albums/{album.pk}/songs").status_code == 404
    assert client.post(f"/api/albums/{album.pk}/favorite").status_code == 404
    assert client.get("/api/albums").json()["count"] == 0


def test_album_favourites():
    album = AlbumFactory(title="Kept")
    client = client_for(UserFactory())
    assert client.post(f"/api/albums/{album.pk}/favorite").json()["favorite_count"] == 1
    assert client.post(f"/api/albums/{album.pk}/favorite").json()["favorite_count"] == 1
    assert [a["title"] for a in client.get("/api/albums/favorites").json()["results"]] == ["Kept"]
    assert client.get(f"/api/albums/{album.pk}").json()["favorite"] is True
    assert client.delete(f"/api/albums/{album.pk}/favorite").json()["favorite_count"] == 0


# --- artists and genres ----------------------------------------------------------------------


def test_artist_profile_has_songs_albums_followers_and_totals():
    artist = ArtistFactory(name="Mira")
    SongFactory(artist=artist, title="Hit", play_count=40, like_count=4)
    SongFactory(artist=artist, title="B-side", play_count=2, like_count=1)
    SongFactory(artist=artist, title="Unreleased", visibility="private", play_count=99)
    AlbumFactory(artist=artist, title="Debut")
    fan = UserFactory()
    fans = client_for(fan)
    assert fans.post(f"/api/artists/{artist.pk}/follow").json()["follower_count"] == 1

    profile = fans.get(f"/api/artists/{artist.pk}/profile").json()

    assert profile["name"] == "Mira"
    assert [s["title"] for s in profile["top_songs"]] == ["Hit", "B-side"]
    assert [a["title"] for a in profile["albums"]] == ["Debut"]
    assert (profile["total_plays"], profile["total_likes"]) == (42, 5)
    assert profile["follower_count"] == 1 and profile["following"] is True
    songs = fans.get(f"/api/artists/{artist.pk}/songs").json()
    assert {s["title"] for s in songs["results"]} == {"Hit", "B-side"}
    # The artist sees their private song on their own list.
    own = client_for(artist.user).get(f"/api/artists/{artist.pk}/songs").json()
    assert own["count"] == 3


def test_following_and_followers():
    artist = ArtistFactory()
    fan = UserFactory(display_name="Asha")
    client_for(fan).post(f"/api/artists/{artist.pk}/follow")
    following = client_for(fan).get("/api/artists/following").json()
    assert [a["id"] for a in following["results"]] == [str(artist.pk)]
    followers = client_for(artist.user).get("/api/artists/followers").json()
    assert [f["display_name"] for f in followers["results"]] == ["Asha"]
    assert client_for(fan).get("/api/artists/followers").status_code == 403
    assert client_for(fan).delete(f"/api/artists/{artist.pk}/follow").json()["follower_count"] == 0
    assert client_for(artist.user).post(f"/api/artists/{artist.pk}/follow").status_code == 400


def test_artists_list_is_public():
    ArtistFactory(name="Zed")
    ArtistFactory(name="Ana")
    names = [a["name"] for a in client_for(None).get("/api/artists").json()["results"]]
    assert names == ["Ana", "Zed"]


def test_genres_are_listed_with_counts_and_added_by_musicians_once():
    rock = GenreFactory(name="Rock")
    SongFactory(genres=[rock])
    assert client_for(None).get("/api/genres").json()["results"] == [
        {"id": rock.pk, "name": "Rock", "slug": "rock", "song_count": 1}
    ]
    assert client_for(UserFactory()).post("/api/genres", {"name": "Polka"}).status_code == 403
    musician = client_for(MusicianFactory())
    made = musician.post("/api/genres", {"name": "Polka"})
    assert made.status_code == 201 and made.json()["slug"] == "polka"
    again = musician.post("/api/genres", {"name": "  polka "})
    assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
    assert musician.post("/api/genres", {"name": ""}).status_code == 400


def test_a_genres_count_follows_its_songs_at_once_though_counts_are_cached(
    django_capture_on_commit_callbacks,
):
    rock = GenreFactory(name="Rock")
    song = SongFactory(genres=[rock])

    def rock_count():
        return client_for(None).get("/api/genres").json()["results"][0]["song_count"]

    assert rock_count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.song_update(song=song, user=song.artist.user, genres=[])
    assert rock_count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.song_update(song=song, user=song.artist.user, genres=[rock])
    assert rock_count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.song_delete(song=song, user=song.artist.user)
    assert rock_count() == 0
