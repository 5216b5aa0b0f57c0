"""The musician's catalog in the studio: songs uploaded through the real media pipeline (alone
or into an album) with their progress pushed to the musician, edited and removed; albums made,
edited and removed. Every write is catalog's own service; refusals are 400/413/415 on the form."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audio.models import AudioAsset
from catalog.models import Album, Song, Visibility
from catalog.services import song_hide
from tests.audio.conftest import progress_events  # noqa: F401 - fixture, shared
from tests.catalog.factories import AlbumFactory, ArtistFactory, GenreFactory, SongFactory
from tests.factories import StaffFactory
from tests.orders.conftest import librosa_warm, media_files, pipeline  # noqa: F401
from tests.studio.conftest import client_for, upload_of

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def song_row(body, song) -> str:
    return re.search(rf'data-testid="song-{song.pk}".*?</tr>', body, re.S).group(0)


def test_a_song_uploaded_with_htmx_plays_at_once_and_its_progress_reaches_the_musician(
    studio,
    musician,
    sources,
    pipeline,  # noqa: F811
    progress_events,  # noqa: F811
):
    with pipeline():
        response = studio.post(
            "/studio/catalog/songs/",
            {
                "audio": upload_of(sources.music_mp3, name="Monsoon.mp3"),
                "title": "Monsoon",
                "genres": "Indie, Folk",
                "visibility": "public",
                "lyrics": "Rain on the roof",
            },
            **HTMX,
        )
    assert response.status_code == 201, response.content[:3000]
    assert response["X-Studio-Fragment"] == "1"
    song = Song.objects.get(artist__user=musician)
    assert song.title == "Monsoon" and song.lyrics == "Rain on the roof"
    assert sorted(g.name for g in song.genres.all()) == ["Folk", "Indie"]
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="studio-songs"')  # the region, not the page
    assert "“Monsoon” is uploaded." in body
    assert "Monsoon" in song_row(body, song)
    # The pipeline told the musician each step; the last one: ready.
    steps = [event for user_id, event in progress_events if user_id == musician.pk]
    assert steps and all(event["asset_id"] == str(song.asset_id) for event in steps)
    assert steps[-1]["status"] == "ready" and steps[-1]["progress"] == 1.0
    assert {"probe", "qc", "analyse"} <= {event["step"] for event in steps}
    song.asset.refresh_from_db()
    assert song.asset.status == AudioAsset.Status.READY
    page = studio.get("/studio/catalog/").content.decode()
    assert "media-ready" in song_row(page, song)
    # Its quality checks are on its page.
    assert "Sample rate" in studio.get(f"/studio/catalog/songs/{song.pk}/").content.decode()


def test_a_song_still_processing_shows_a_progress_bar_the_page_moves_on(studio, musician):
    song = SongFactory(artist=ArtistFactory(user=musician))
    AudioAsset.objects.filter(pk=song.asset_id).update(
        status=AudioAsset.Status.PROCESSING, current_step="render.hls", progress=0.5
    )
    row = song_row(studio.get("/studio/catalog/").content.decode(), song)
    assert f'data-asset-progress="{song.asset_id}"' in row
    assert "Making the streaming copies (50%)" in row


def test_a_file_that_is_not_audio_is_refused_on_the_form_and_nothing_is_stored(
    studio, musician, settings
):
    response = studio.post(
        "/studio/catalog/songs/",
        {
            "audio": SimpleUploadedFile("notes.mp3", b"These are not sounds. " * 200),
            "title": "Not a song",
            "genres": "Brand new genre",
            "visibility": "public",
        },
        **HTMX,
    )
    assert response.status_code == 415
    assert response["X-Studio-Fragment"] == "1"
    body = response.content.decode()
    assert re.search(r'id="song-audio_error">[^<]+<', body)
    assert 'value="Not a song"' in body  # what was typed is kept
    assert not Song.objects.exists() and not AudioAsset.objects.exists()
    assert not media_files(settings)
    from catalog.models import Genre

    assert not Genre.objects.filter(name="Brand new genre").exists()


def test_a_song_without_a_title_or_a_file_is_refused(studio):
    response = studio.post("/studio/catalog/songs/", {"visibility": "public"})
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="song-title_error"' in body and 'id="song-audio_error"' in body
    assert "<h1>Your catalog</h1>" in body  # without htmx: the whole page
    assert not Song.objects.exists()


def test_too_many_genres_are_refused(studio, sources):
    response = studio.post(
        "/studio/catalog/songs/",
        {
            "audio": upload_of(sources.music_mp3),
            "title": "Busy",
            "genres": "a, b, c, d, e, f",
            "visibility": "public",
        },
    )
    assert response.status_code == 400
    assert "At most 5 genres." in response.content.decode()
    assert not Song.objects.exists()


def test_a_song_is_uploaded_into_an_album_from_the_albums_page(
    studio,
    musician,
    sources,
    pipeline,  # noqa: F811
):
    album = AlbumFactory(artist=ArtistFactory(user=musician), title="Rains")
    page = studio.get(f"/studio/catalog/albums/{album.pk}/").content.decode()
    assert f'hx-post="/studio/catalog/albums/{album.pk}/songs/"' in page
    assert 'name="album"' not in page  # the album is this one, not a choice
    with pipeline():
        response = studio.post(
            f"/studio/catalog/albums/{album.pk}/songs/",
            {
                "audio": upload_of(sources.music_mp3),
                "title": "First rain",
                "track_number": "1",
                "visibility": "public",
            },
        )
    assert response.status_code == 302
    assert response["Location"] == f"/studio/catalog/albums/{album.pk}/"
    song = Song.objects.get(title="First rain")
    assert song.album_id == album.pk and song.album_title == "Rains" and song.track_number == 1
    assert "1. First rain" in studio.get(response["Location"]).content.decode()


def test_a_song_is_edited_through_catalogs_service(studio, musician):
    artist = ArtistFactory(user=musician)
    album = AlbumFactory(artist=artist, title="Later")
    song = SongFactory(artist=artist, title="Draft title", genres=[GenreFactory(name="Pop")])
    page = studio.get(f"/studio/catalog/songs/{song.pk}/").content.decode()
    assert 'value="Draft title"' in page and 'value="Pop"' in page
    response = studio.post(
        f"/studio/catalog/songs/{song.pk}/",
        {
            "title": "Final title",
            "album": str(album.pk),
            "track_number": "2",
            "genres": "Jazz, Soul",
            "visibility": "private",
            "lyrics": "La la",
            "explicit": "on",
        },
    )
    assert response.status_code == 302
    song.refresh_from_db()
    assert song.title == "Final title" and song.visibility == Visibility.PRIVATE
    assert song.album_id == album.pk and song.album_title == "Later"
    assert song.genre_names == "Jazz, Soul" and song.lyrics == "La la" and song.explicit


def test_a_song_staff_hid_is_marked_with_their_reason_in_the_studio(studio, musician):
    song = SongFactory(artist=ArtistFactory(user=musician), title="Swing Shift")
    listed = SongFactory(artist=song.artist, title="Still listed")
    song_hide(song_id=song.pk, actor=StaffFactory(), reason="Uses a sample without a licence")

    catalog = studio.get("/studio/catalog/").content.decode()
    assert "Hidden by moderators: Uses a sample without a licence" in catalog
    assert catalog.count('data-testid="song-hidden"') == 1
    assert f'data-testid="song-{listed.pk}"' in catalog
    page = studio.get(f"/studio/catalog/songs/{song.pk}/").content.decode()
    assert "Hidden by moderators: Uses a sample without a licence" in page


def test_another_musicians_album_cannot_be_picked_for_a_song(studio, musician, other_musician):
    song = SongFactory(artist=ArtistFactory(user=musician), title="Mine")
    theirs = AlbumFactory(artist=ArtistFactory(user=other_musician))
    response = studio.post(
        f"/studio/catalog/songs/{song.pk}/",
        {"title": "Mine", "album": str(theirs.pk), "visibility": "public"},
    )
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    song.refresh_from_db()
    assert song.album_id is None


def test_a_song_is_removed_with_its_audio(studio, musician, settings):
    song = SongFactory(artist=ArtistFactory(user=musician), title="Gone soon")
    response = studio.post(f"/studio/catalog/songs/{song.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/studio/catalog/"
    assert not Song.objects.filter(pk=song.pk).exists()
    assert not AudioAsset.objects.filter(pk=song.asset_id).exists()
    assert "“Gone soon” is removed" in studio.get("/studio/catalog/").content.decode()


def test_an_album_is_made_edited_and_removed_keeping_its_songs(studio, musician):
    response = studio.post(
        "/studio/catalog/albums/",
        {"title": "Monsoon tapes", "genres": "Folk", "visibility": "public"},
    )
    assert response.status_code == 302
    album = Album.objects.get(artist__user=musician)
    assert response["Location"] == f"/studio/catalog/albums/{album.pk}/"
    song = SongFactory(artist=album.artist, album=album)
    response = studio.post(
        f"/studio/catalog/albums/{album.pk}/",
        {"title": "Monsoon sessions", "visibility": "private", "release_date": "2026-07-01"},
    )
    assert response.status_code == 302
    album.refresh_from_db()
    assert album.title == "Monsoon sessions" and album.visibility == Visibility.PRIVATE
    song.refresh_from_db()
    assert song.album_title == "Monsoon sessions"
    bad = studio.post(f"/studio/catalog/albums/{album.pk}/", {"title": "", "visibility": "x"})
    assert bad.status_code == 400
    album.refresh_from_db()
    assert album.title == "Monsoon sessions"
    response = studio.post(f"/studio/catalog/albums/{album.pk}/delete/")
    assert response.status_code == 302
    assert not Album.objects.filter(pk=album.pk).exists()
    song.refresh_from_db()
    assert song.album_id is None  # a single now


def test_the_catalog_page_reads_in_a_fixed_number_of_queries(
    musician, django_assert_max_num_queries
):
    artist = ArtistFactory(user=musician)
    album = AlbumFactory(artist=artist)
    SongFactory(artist=artist, album=album, genres=[GenreFactory()])
    studio = client_for(musician)
    with django_assert_max_num_queries(14) as few:
        studio.get("/studio/catalog/")
    for _ in range(8):
        SongFactory(artist=artist, album=AlbumFactory(artist=artist), genres=[GenreFactory()])
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = studio.get("/studio/catalog/").content.decode()
    assert len(re.findall(r'data-testid="song-[0-9a-f]{8}-', body)) == 9
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert studio.get(f"/studio/catalog/albums/{album.pk}/").status_code == 200
