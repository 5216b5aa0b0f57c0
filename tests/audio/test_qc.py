import numpy as np
import pytest

from audio import qc
from audio.models import AudioAsset, PipelineStep, QualityReport
from audio.pipeline.probe import audio_asset_probe
from audio.pipeline.steps import probe_measurements
from audio.services import audio_asset_create
from tests.audio import synth
from tests.audio.conftest import upload_of


def _signal(seconds=5.0, sr=44100, amplitude=0.4):
    return synth.music(seconds, sr=sr) * np.float32(amplitude / 0.5)


def _clipped():
    return np.clip(_signal(amplitude=0.5) * 3.0, -1.0, 1.0)


def _silent_edges():
    sr = 44100
    return np.concatenate(
        [np.zeros((3 * sr, 2), np.float32), _signal(), np.zeros((int(2.5 * sr), 2), np.float32)]
    )


def _too_quiet():
    return _signal(amplitude=0.004)


CASES = {
    "clipped": (lambda: _clipped(), 44100, {"clipping"}),
    "silent_edges": (lambda: _silent_edges(), 44100, {"leading_silence", "trailing_silence"}),
    "low_sample_rate": (lambda: _signal(sr=22050), 22050, {"sample_rate"}),
    "too_quiet": (lambda: _too_quiet(), 44100, {"loudness"}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_sources_fail_delivery_qc_with_the_right_reasons(
    case, user, tmp_path, run_on_commit, settings
):
    build, sr, expected = CASES[case]
    path = synth.write_wav(tmp_path / f"{case}.wav", build(), sr)
    with run_on_commit():
        asset = audio_asset_create(owner=user, upload=upload_of(path), purpose="delivery")
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.FAILED
    assert asset.failure_code == "qc_failed"
    report = asset.quality_reports.get(stage=QualityReport.Stage.SOURCE)
    assert report.status == "failed" and report.blocking
    failed = {check.name for check in report.checks.filter(status="failed")}
    assert failed == expected
    for check in report.checks.filter(status="failed"):
        assert check.message in asset.failure_reason
        assert check.threshold is not None
    assert asset.failure_reason.startswith("The recording did not pass the delivery quality checks")
    # Delivery is blocked: no delivery files were made, and no later step ran.
    assert not asset.renditions.exists()
    assert not PipelineStep.objects.filter(asset=asset, step__startswith="render").exists()


def test_messages_say_what_was_measured(user, tmp_path, run_on_commit):
    path = synth.write_wav(tmp_path / "low.wav", _signal(sr=22050), 22050)
    with run_on_commit():
        asset = audio_asset_create(owner=user, upload=upload_of(path), purpose="delivery")
    asset.refresh_from_db()
    check = asset.quality_reports.get().checks.get(name="sample_rate")
    assert (check.measured, check.threshold, check.unit) == (22050, 44100, "Hz")
    assert "22050 Hz" in check.message and "44100 Hz" in check.message


def test_the_same_findings_are_warnings_for_catalog_songs(user, tmp_path, run_on_commit, settings):
    settings.AUDIO_HLS_BITRATES_KBPS = (64,)
    path = synth.write_wav(tmp_path / "clipped.wav", _clipped(), 44100)
    with run_on_commit():
        asset = audio_asset_create(owner=user, upload=upload_of(path), purpose="catalog")
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.READY
    report = asset.quality_reports.get()
    assert report.status == "warning" and not report.blocking
    assert report.checks.get(name="clipping").status == "warning"


def test_a_clean_source_passes_every_source_check(user, sources, run_on_commit):
    asset = audio_asset_create(
        owner=user, upload=upload_of(sources.music_wav), purpose="delivery", start_processing=False
    )
    audio_asset_probe(asset=asset)
    checks = qc.source_checks(probe_measurements(asset), blocking=True)
    assert {c.name: c.status for c in checks} == {
        "sample_rate": "passed",
        "clipping": "passed",
        "leading_silence": "passed",
        "trailing_silence": "passed",
        "loudness": "passed",
    }
