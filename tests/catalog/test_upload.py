"""Publishing a song through the media pipeline: real audio, real ffmpeg and librosa."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audio.models import AudioAsset, Rendition
from catalog.models import Song
from tests.audio import synth
from tests.catalog.conftest import client_for
from tests.factories import MusicianFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def song_wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("catalog") / "song.wav"
    synth.write_wav(path, synth.music(6.0, bpm=120), 44100)
    return path.read_bytes()


def test_an_uploaded_song_plays_at_once_and_is_processed(song_wav):
    musician = MusicianFactory(display_name="Mira Sol")
    client = client_for(musician)

    answer = client.post(
        "/api/songs",
        {
            "title": "Harbour Lights",
            "audio": SimpleUploadedFile("harbour.wav", song_wav, content_type="audio/wav"),
            "genres": ["Indie", "Folk"],
            "visibility": "public",
        },
        format="multipart",
    )

    assert answer.status_code == 201, answer.content
    created = answer.json()
    assert created["title"] == "Harbour Lights"
    assert created["artist"]["name"] == "Mira Sol"
    assert sorted(created["genres"]) == ["Folk", "Indie"]
    assert created["duration"] == pytest.approx(6.0, abs=0.1)
    # The pipeline ran (tasks are eager in tests) once the upload committed.
    song = Song.objects.get(pk=created["id"])
    assert song.asset.purpose == AudioAsset.Purpose.CATALOG
    assert song.asset.status == AudioAsset.Status.READY
    kinds = set(song.asset.renditions.values_list("kind", flat=True))
    assert {Rendition.Kind.MP3_96, Rendition.Kind.MP3_160, Rendition.Kind.MP3_320} <= kinds
    assert Rendition.Kind.HLS in kinds

    listener = client_for(UserFactory())
    item = listener.get(f"/api/songs/{song.pk}").json()
    assert item["status"] == "ready"
    assert item["analysis"]["tempo_bpm"] > 0
    assert item["analysis"]["key"] in synth.PITCHES
    stream = listener.get(f"/api/songs/{song.pk}/stream?quality=normal&redirect=false").json()
    assert (stream["format"], stream["quality"], stream["bitrate_kbps"]) == ("mp3", "normal", 160)
    played = listener.get(stream["url"])
    assert played.status_code == 200
    assert b"".join(played.streaming_content)[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")


def test_an_upload_spooled_to_disk_keeps_its_genres(song_wav, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # as any upload over 2.5 MB would be
    answer = client_for(MusicianFactory()).post(
        "/api/songs",
        {
            "title": "Long Take",
            "audio": SimpleUploadedFile("long.wav", song_wav),
            "genres": ["Ambient", "Drone"],
        },
        format="multipart",
    )
    assert answer.status_code == 201, answer.content
    assert sorted(answer.json()["genres"]) == ["Ambient", "Drone"]


def test_a_song_plays_from_the_original_before_its_renditions(song_wav, settings):
    from config.celery import app as celery_app

    celery_app.conf.task_always_eager = False  # leave the pipeline queued, as with a busy worker
    try:
        musician = MusicianFactory()
        answer = client_for(musician).post(
            "/api/songs",
            {"title": "Fresh", "audio": SimpleUploadedFile("fresh.wav", song_wav)},
            format="multipart",
        )
    finally:
        celery_app.conf.task_always_eager = True
    assert answer.status_code == 201
    assert answer.json()["status"] == "processing"
    assert answer.json()["analysis"] is None
    stream = (
        client_for(UserFactory())
        .get(f"/api/songs/{answer.json()['id']}/stream?redirect=false")
        .json()
    )
    assert stream["quality"] == "original" and stream["format"] == "wav"


def test_corrupt_oversize_and_non_audio_uploads_are_refused_and_leave_nothing(settings):
    client = client_for(MusicianFactory())
    junk = client.post(
        "/api/songs",
        {"title": "Junk", "audio": SimpleUploadedFile("junk.mp3", b"\x00" * 4096)},
        format="multipart",
    )
    assert junk.status_code in (400, 415)
    assert set(junk.json()) >= {"detail", "code"}
    image = client.post(
        "/api/songs",
        {
            "title": "Picture",
            "audio": SimpleUploadedFile("pic.mp3", b"\x89PNG\r\n\x1a\n" + b"0" * 64),
        },
        format="multipart",
    )
    assert image.status_code == 415
    settings.AUDIO_MAX_UPLOAD_BYTES = 1024
    big = client.post(
        "/api/songs",
        {"title": "Big", "audio": io.BytesIO(b"RIFF" + b"\x00" * 4096)},
        format="multipart",
    )
    assert big.status_code == 413
    assert Song.objects.count() == 0 and AudioAsset.objects.count() == 0
