import shutil

import imageio_ffmpeg
import pytest

from audio import ffmpeg as ff
from audio.models import AudioAsset
from audio.services import audio_asset_create
from audio.sniff import sniff
from tests.audio.conftest import upload_of


def _hide_path_tools(monkeypatch):
    real_which = shutil.which
    monkeypatch.setattr(
        ff.shutil,
        "which",
        lambda name, *a, **k: None if name in ("ffmpeg", "ffprobe") else real_which(name, *a, **k),
    )


def test_binary_comes_from_the_setting_then_path_then_the_wheel(settings, monkeypatch):
    settings.FFMPEG_BINARY = "/opt/custom/ffmpeg"
    assert ff.ffmpeg_binary() == "/opt/custom/ffmpeg"
    settings.FFMPEG_BINARY = ""
    monkeypatch.setenv("FFMPEG_BINARY", "/env/ffmpeg")
    assert ff.ffmpeg_binary() == "/env/ffmpeg"
    monkeypatch.delenv("FFMPEG_BINARY")
    assert ff.ffmpeg_binary() == shutil.which("ffmpeg")
    assert ff.ffprobe_binary() == shutil.which("ffprobe")
    _hide_path_tools(monkeypatch)
    assert ff.ffmpeg_binary() == imageio_ffmpeg.get_ffmpeg_exe()
    assert ff.ffprobe_binary() is None  # the wheel ships no ffprobe


@pytest.mark.parametrize(
    "source", ["music_wav", "music_mp3", "music_flac", "music_m4a", "music_ogg"]
)
def test_probing_without_ffprobe_agrees_with_ffprobe(sources, settings, monkeypatch, source):
    path = getattr(sources, source)
    with_ffprobe = ff.probe(path)
    assert with_ffprobe.tool == "ffprobe"
    settings.FFMPEG_BINARY = imageio_ffmpeg.get_ffmpeg_exe()
    _hide_path_tools(monkeypatch)
    fallback = ff.probe(path)
    assert fallback.tool == "ffmpeg"
    assert fallback.codec == with_ffprobe.codec
    assert fallback.sample_rate == with_ffprobe.sample_rate
    assert fallback.channels == with_ffprobe.channels
    assert fallback.container == with_ffprobe.container
    assert fallback.duration == pytest.approx(with_ffprobe.duration, abs=0.06)
    assert fallback.has_video is False


def test_the_whole_pipeline_runs_on_the_wheel_without_ffprobe(
    user, sources, settings, monkeypatch, run_on_commit
):
    settings.FFMPEG_BINARY = imageio_ffmpeg.get_ffmpeg_exe()
    _hide_path_tools(monkeypatch)
    assert ff.ffprobe_binary() is None
    settings.AUDIO_HLS_BITRATES_KBPS = (64,)
    with run_on_commit():
        asset = audio_asset_create(
            owner=user, upload=upload_of(sources.music_mp3), purpose="catalog"
        )
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.READY, asset.failure_reason
    assert asset.steps.get(step="probe").result["probe"]["tool"] == "ffmpeg"
    assert asset.renditions.count() == 4


def test_parse_ffmpeg_description_handles_layouts_and_cover_art():
    text = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'x.m4a':
  Duration: 00:01:02.50, start: 0.000000, bitrate: 260 kb/s
  Stream #0:0[0x1](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, 5.1(side), fltp, \
256 kb/s (default)
  Stream #0:1[0x0]: Video: mjpeg (Baseline), yuvj420p(pc), 600x600, 90k tbn (attached pic)
"""
    result = ff.parse_ffmpeg_description(text)
    assert (result.container, result.codec, result.sample_rate, result.channels) == (
        "mov,mp4,m4a,3gp,3g2,mj2",
        "aac",
        48000,
        6,
    )
    assert result.duration == pytest.approx(62.5)
    assert result.bit_rate == 256_000
    assert result.has_video is False
    with pytest.raises(ff.ProbeFailed):
        ff.parse_ffmpeg_description("x.bin: Invalid data found when processing input")
    no_audio = (
        "Input #0, image2, from 'a.png':\n  Duration: 00:00:00.04\n"
        "  Stream #0:0: Video: png, rgb24, 8x8\n"
    )
    with pytest.raises(ff.ProbeFailed) as caught:
        ff.parse_ffmpeg_description(no_audio)
    assert caught.value.no_audio


def test_sniffing_needs_consecutive_frames(sources):
    data = sources.music_mp3.read_bytes()
    assert sniff(lambda offset, size: data[offset : offset + size]).format == "mp3"
    # One plausible frame header followed by noise is not an MP3.
    fake = data[:4] + bytes(5000)
    assert sniff(lambda offset, size: fake[offset : offset + size]) is None
    adts = sources.music_m4a  # the AAC inside an M4A is recognised as M4A, not as raw AAC
    assert sniff(lambda offset, size: adts.read_bytes()[offset : offset + size]).format == "m4a"


def test_a_missing_ffmpeg_is_a_clear_failure(settings, sources):
    settings.FFMPEG_BINARY = "/nonexistent/ffmpeg"
    settings.FFPROBE_BINARY = "/nonexistent/ffprobe"
    with pytest.raises(ff.ToolMissing):
        ff.probe(sources.music_wav)
