import pytest
import soundfile as sf
from django.http import Http404

from audio.analysis import ANALYSER_VERSION
from audio.ffmpeg import probe
from audio.models import AudioAsset, PipelineStep, QualityReport
from audio.selectors import (
    audio_asset_get_for,
    audio_assets_visible_to,
    hls_rendition,
    rendition_for_quality,
    stream_source,
)
from audio.services import audio_asset_create
from tests.audio.conftest import upload_of
from tests.factories import UserFactory


def test_catalog_upload_runs_the_whole_chain(user, sources, run_on_commit, progress_events):
    with run_on_commit():
        asset = audio_asset_create(
            owner=user, upload=upload_of(sources.music_wav), purpose="catalog"
        )
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.READY, asset.failure_reason
    assert asset.progress == 1.0 and asset.processed_at and asset.failure_reason == ""
    renditions = {r.kind: r for r in asset.renditions.all()}
    assert set(renditions) == {"mp3_96", "mp3_160", "mp3_320", "hls", "flac"}
    for kind, bitrate in (("mp3_96", 96_000), ("mp3_160", 160_000), ("mp3_320", 320_000)):
        info = probe(renditions[kind].file.path)
        assert (info.codec, info.bit_rate, info.sample_rate) == ("mp3", bitrate, 44100)
        assert renditions[kind].bitrate == bitrate and renditions[kind].size > 0
    # A lossless original also gets a FLAC for the lossless tier, sample for sample.
    original, _ = sf.read(asset.original.path, dtype="int16")
    lossless, _ = sf.read(renditions["flac"].file.path, dtype="int16")
    assert (original == lossless).all()

    analysis = asset.analysis
    assert analysis.tempo_bpm and analysis.key and analysis.mode in ("major", "minor")
    assert analysis.loudness_lufs is not None
    assert analysis.analyser_version == ANALYSER_VERSION
    assert set(analysis.as_api_dict()) == {
        "tempo_bpm",
        "tempo_alt_bpm",
        "key",
        "mode",
        "key_confidence",
        "loudness_lufs",
        "energy",
        "danceability",
        "acousticness",
        "valence",
        "mood",
    }
    assert asset.quality_reports.get().stage == QualityReport.Stage.SOURCE
    steps = dict(PipelineStep.objects.filter(asset=asset).values_list("step", "status"))
    assert steps == {
        name: "done"
        for name in ("probe", "qc", "analyse", "render.mp3", "render.hls", "render.flac")
    }
    assert all(row.sha256 == asset.sha256 for row in PipelineStep.objects.filter(asset=asset))

    events = [event for _, event in progress_events]
    assert {user_id for user_id, _ in progress_events} == {user.pk}
    assert events[0]["status"] == "queued" and events[-1] == {
        "type": "audio.progress",
        "asset_id": str(asset.pk),
        "step": "finalize",
        "status": "ready",
        "progress": 1.0,
    }
    progress = [event["progress"] for event in events]
    assert progress == sorted(progress)


def test_the_original_plays_until_renditions_land(user, sources):
    asset = audio_asset_create(
        owner=user, upload=upload_of(sources.music_mp3), purpose="catalog", start_processing=False
    )
    assert stream_source(asset=asset, quality="high") == asset
    assert (
        rendition_for_quality(asset=asset, quality="low") is None
        and hls_rendition(asset=asset) is None
    )


def test_quality_falls_back_to_lower_renditions(user, sources, run_on_commit, settings):
    settings.AUDIO_HLS_BITRATES_KBPS = (64,)
    with run_on_commit():
        asset = audio_asset_create(
            owner=user, upload=upload_of(sources.music_mp3), purpose="catalog"
        )
    assert rendition_for_quality(asset=asset, quality="high").kind == "mp3_320"
    asset.renditions.filter(kind="mp3_320").delete()
    assert rendition_for_quality(asset=asset, quality="high").kind == "mp3_160"
    assert rendition_for_quality(asset=asset, quality="low").kind == "mp3_96"
    assert hls_rendition(asset=asset).details["variants"] == [
        {"bitrate": 64000, "playlist": "64k/index.m3u8"}
    ]


def test_assets_are_visible_to_their_owner_and_staff_only(user, sources):
    asset = audio_asset_create(
        owner=user, upload=upload_of(sources.music_mp3), purpose="catalog", start_processing=False
    )
    assert list(audio_assets_visible_to(user)) == [asset]
    assert not audio_assets_visible_to(UserFactory()).exists()
    assert list(audio_assets_visible_to(UserFactory(is_staff=True))) == [asset]
    with pytest.raises(Http404):
        audio_asset_get_for(user=UserFactory(), asset_id=asset.pk)
    assert audio_asset_get_for(user=user, asset_id=asset.pk) == asset
