import hashlib
import io
import os
import subprocess

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from audio.errors import (
    DurationOutOfRange,
    ImageTooLarge,
    MediaRejected,
    UnreadableMedia,
    UnsupportedMedia,
    UploadTooLarge,
)
from audio.ffmpeg import ffmpeg_binary
from audio.models import AudioAsset
from audio.services import audio_asset_create
from audio.validators import audio_upload_validate, image_upload_validate
from tests.audio import synth
from tests.audio.conftest import media_files, upload_of


@pytest.mark.parametrize(
    ("source", "fmt", "codec"),
    [
        ("music_wav", "wav", "pcm_s16le"),
        ("music_mp3", "mp3", "mp3"),
        ("music_flac", "flac", "flac"),
        ("music_m4a", "m4a", "aac"),
        ("music_ogg", "ogg", "vorbis"),
    ],
)
def test_each_accepted_format_is_recognised_from_its_content(
    user, sources, settings, source, fmt, codec
):
    path = getattr(sources, source)
    # The name lies on purpose: detection must come from the bytes.
    asset = audio_asset_create(
        owner=user,
        upload=upload_of(path, name="recording.txt"),
        purpose="catalog",
        start_processing=False,
    )
    assert asset.format == fmt
    assert asset.codec == codec
    assert asset.sample_rate == 44100 and asset.channels == 2
    assert 5.5 < asset.duration < 6.5
    assert asset.size == os.path.getsize(path)
    assert asset.original.name == f"audio/{asset.pk}/original.{fmt}"
    assert asset.status == AudioAsset.Status.PENDING
    assert media_files(settings) == [asset.original.name]
    assert asset.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_random_bytes_named_mp3_are_rejected_as_unsupported_and_leave_nothing(user, settings):
    noise = np.random.default_rng(7).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    with pytest.raises(UnsupportedMedia) as caught:
        audio_asset_create(
            owner=user, upload=SimpleUploadedFile("hit.mp3", noise, "audio/mpeg"), purpose="catalog"
        )
    assert caught.value.http_status == 415
    assert caught.value.code == "unsupported_media_type"
    assert AudioAsset.objects.count() == 0
    assert media_files(settings) == []


def test_too_large_is_rejected_with_413_before_reading_it(user, settings, sources):
    settings.AUDIO_MAX_UPLOAD_BYTES = 10_000
    with pytest.raises(UploadTooLarge) as caught:
        audio_asset_create(owner=user, upload=upload_of(sources.music_mp3), purpose="catalog")
    assert caught.value.http_status == 413
    assert "limit" in caught.value.detail
    assert AudioAsset.objects.count() == 0 and media_files(settings) == []


def test_a_size_that_lies_is_caught_while_copying(user, settings, sources):
    settings.AUDIO_MAX_UPLOAD_BYTES = 50_000
    upload = upload_of(sources.music_mp3)
    upload.size = 10  # a client-declared size cannot be trusted
    with pytest.raises(UploadTooLarge):
        audio_upload_validate(upload=upload)


def test_a_damaged_file_with_a_valid_header_is_unreadable(user, settings):
    header = b"RIFF" + (1000).to_bytes(4, "little") + b"WAVE" + b"junk" * 200
    with pytest.raises(UnreadableMedia) as caught:
        audio_asset_create(
            owner=user, upload=SimpleUploadedFile("x.wav", header), purpose="catalog"
        )
    assert caught.value.http_status == 400
    assert AudioAsset.objects.count() == 0 and media_files(settings) == []


def test_empty_file_is_unreadable(user):
    with pytest.raises(UnreadableMedia):
        audio_upload_validate(upload=SimpleUploadedFile("x.mp3", b""))


def test_duration_limits(user, settings, tmp_path):
    short = synth.write_wav(tmp_path / "short.wav", synth.stereo(synth.sine(440, 0.4)), 44100)
    with pytest.raises(DurationOutOfRange) as caught:
        audio_asset_create(owner=user, upload=upload_of(short), purpose="catalog")
    assert caught.value.http_status == 400 and "between" in caught.value.detail
    settings.AUDIO_MAX_DURATION_SECONDS = 2
    longer = synth.write_wav(tmp_path / "long.wav", synth.stereo(synth.sine(440, 3)), 44100)
    with pytest.raises(DurationOutOfRange):
        audio_upload_validate(upload=upload_of(longer))
    assert AudioAsset.objects.count() == 0


def test_video_is_not_accepted(user, tmp_path):
    video = tmp_path / "clip.mp4"
    subprocess.run(
        [
            ffmpeg_binary(),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=d=2:s=64x64",
            "-f",
            "lavfi",
            "-i",
            "sine=d=2",
            "-c:v",
            "mpeg4",
            "-c:a",
            "aac",
            "-shortest",
            str(video),
        ],
        check=True,
    )
    with pytest.raises(UnsupportedMedia) as caught:
        audio_upload_validate(upload=upload_of(video, name="song.m4a"))
    assert caught.value.code == "video_not_accepted"


def test_text_and_images_named_as_audio_are_unsupported(user):
    png = io.BytesIO()
    Image.new("RGB", (8, 8)).save(png, "PNG")
    for content in (b"hello, this is not audio at all" * 10, png.getvalue()):
        with pytest.raises(UnsupportedMedia):
            audio_upload_validate(upload=SimpleUploadedFile("song.wav", content))


def test_mp3_with_a_large_id3_tag_and_cover_art_is_recognised(user, sources, tmp_path):
    cover = tmp_path / "cover.png"
    Image.new("RGB", (600, 600), (200, 30, 30)).save(cover)
    tagged = tmp_path / "tagged.mp3"
    subprocess.run(
        [
            ffmpeg_binary(),
            "-v",
            "error",
            "-y",
            "-i",
            str(sources.music_wav),
            "-i",
            str(cover),
            "-map",
            "0:a",
            "-map",
            "1:v",
            "-c:a",
            "libmp3lame",
            "-c:v",
            "png",
            "-id3v2_version",
            "3",
            "-metadata",
            "title=Song",
            "-disposition:v",
            "attached_pic",
            str(tagged),
        ],
        check=True,
    )
    inspection = audio_upload_validate(upload=upload_of(tagged, name="x"))
    assert inspection.kind.format == "mp3"
    assert not inspection.probe.has_video  # cover art is not a video


def test_rejections_map_to_api_errors():
    for error, status in (
        (UploadTooLarge("big"), 413),
        (UnsupportedMedia("no"), 415),
        (UnreadableMedia("bad"), 400),
    ):
        api_error = error.as_api_exception()
        assert api_error.status_code == status
        assert str(api_error.detail) == error.detail
        assert isinstance(error, MediaRejected)


def _image(fmt="PNG", size=(32, 32)):
    data = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(data, fmt)
    return SimpleUploadedFile(f"cover.{fmt.lower()}", data.getvalue())


def test_cover_images_are_checked_with_pillow(settings):
    assert image_upload_validate(upload=_image("PNG")) == "PNG"
    assert image_upload_validate(upload=_image("JPEG")) == "JPEG"
    with pytest.raises(UnsupportedMedia) as caught:
        image_upload_validate(upload=SimpleUploadedFile("cover.png", b"\x89PNG not really"))
    assert caught.value.http_status == 415
    with pytest.raises(UploadTooLarge):
        image_upload_validate(upload=_image("PNG"), max_bytes=50)
    with pytest.raises(ImageTooLarge) as caught:
        image_upload_validate(upload=_image("PNG", size=(300, 20)), max_side=200)
    assert caught.value.http_status == 400
