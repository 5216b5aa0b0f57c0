import json
import subprocess

import m3u8
import pytest

from audio.ffmpeg import ffprobe_binary
from audio.models import AudioAsset, Rendition
from audio.services import audio_asset_create
from tests.audio.conftest import upload_of


@pytest.fixture
def hls_asset(user, sources, run_on_commit):
    with run_on_commit():
        asset = audio_asset_create(
            owner=user, upload=upload_of(sources.long_mp3), purpose="catalog"
        )
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.READY, asset.failure_reason
    return asset


def _segment_seconds(path):
    """The real duration of a segment: the sum of its audio packets' durations."""
    proc = subprocess.run(
        [
            ffprobe_binary(),
            "-v",
            "error",
            "-select_streams",
            "a:0",
            "-show_entries",
            "packet=duration_time",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return sum(float(p["duration_time"]) for p in json.loads(proc.stdout)["packets"])


def test_hls_ladder_parses_and_every_segment_fits_the_target(hls_asset, settings):
    rendition = hls_asset.renditions.get(kind=Rendition.Kind.HLS)
    storage = rendition.file.storage
    master = m3u8.load(storage.path(rendition.file.name))
    assert master.is_variant
    bandwidths = sorted(p.stream_info.bandwidth for p in master.playlists)
    assert len(bandwidths) == 3 and bandwidths[0] < bandwidths[1] < bandwidths[2]
    assert all("mp4a.40.2" in p.stream_info.codecs for p in master.playlists)
    for variant in master.playlists:
        path = storage.path(f"{rendition.folder}/{variant.uri}")
        playlist = m3u8.load(path)
        assert playlist.is_endlist  # #EXT-X-ENDLIST
        assert playlist.playlist_type == "vod"
        assert playlist.target_duration == 6
        assert len(playlist.segments) == 4  # 20 s in segments of at most 6 s
        total = 0.0
        for segment in playlist.segments:
            assert segment.duration <= playlist.target_duration
            real = _segment_seconds(f"{path.rsplit('/', 1)[0]}/{segment.uri}")
            assert real <= playlist.target_duration
            assert real == pytest.approx(segment.duration, abs=0.03)
            total += segment.duration
        assert total == pytest.approx(hls_asset.duration, abs=0.1)
    assert rendition.size > 0 and rendition.details["variants"][0]["bitrate"] == 64_000
