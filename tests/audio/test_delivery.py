import re
import subprocess

import numpy as np
import pytest
import soundfile as sf

from audio import transcode
from audio.ffmpeg import ffmpeg_binary, probe
from audio.models import AudioAsset, QualityReport
from audio.pipeline.probe import measure_file
from audio.selectors import delivery_renditions
from audio.services import audio_asset_create
from tests.audio import synth
from tests.audio.conftest import upload_of


def _ebur128(path):
    proc = subprocess.run(
        [
            ffmpeg_binary(),
            "-hide_banner",
            "-nostats",
            "-i",
            str(path),
            "-af",
            "ebur128=peak=true",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = proc.stderr[proc.stderr.rfind("Summary:") :]
    return float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))


@pytest.fixture(scope="module")
def hires_source(tmp_path_factory):
    """48 kHz 24-bit, quieter than the target (-14 LUFS), 7 s."""
    samples = synth.music(7.0, sr=48000, seed=5) * np.float32(0.35)
    return synth.write_wav(
        tmp_path_factory.mktemp("delivery") / "master.wav", samples, 48000, subtype="PCM_24"
    )


def test_delivery_set_is_normalised_and_checked(user, hires_source, run_on_commit, settings):
    with run_on_commit():
        asset = audio_asset_create(owner=user, upload=upload_of(hires_source), purpose="delivery")
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.READY, asset.failure_reason
    files = {r.kind: r for r in delivery_renditions(asset=asset)}
    assert set(files) == {"delivery_wav", "delivery_mp3", "delivery_flac"}

    wav = sf.info(files["delivery_wav"].file.path)
    assert (wav.samplerate, wav.subtype, wav.channels) == (44100, "PCM_16", 2)
    flac = sf.info(files["delivery_flac"].file.path)
    assert (flac.samplerate, flac.subtype) == (44100, "PCM_16")
    mp3 = probe(files["delivery_mp3"].file.path)
    assert (mp3.codec, mp3.sample_rate, mp3.bit_rate) == ("mp3", 44100, 320_000)

    for kind, rendition in files.items():
        # ffmpeg's own meter agrees: within 1 LU of -14 LUFS.
        assert _ebur128(rendition.file.path) == pytest.approx(-14.0, abs=1.0), kind
        assert rendition.loudness_lufs == pytest.approx(-14.0, abs=1.0)
        assert rendition.duration == pytest.approx(7.0, abs=0.05)
    assert files["delivery_wav"].true_peak_dbtp <= -1.0
    assert files["delivery_flac"].true_peak_dbtp <= -1.0

    report = asset.quality_reports.get(stage=QualityReport.Stage.DELIVERY)
    assert report.blocking and report.status in ("passed", "warning")
    statuses = {c.name: c.status for c in report.checks.all()}
    assert statuses["normalised_loudness"] == "passed"
    assert statuses["duration_match"] == "passed"
    assert statuses["lossless_match"] == "passed"  # the FLAC decodes to the WAV's samples
    assert statuses["true_peak"] in ("passed", "warning")
    details = files["delivery_wav"].details["loudnorm"]
    assert details["target_lufs"] == -14.0 and details["measured"]["input_i"] < -16


def test_delivery_qc_blocks_when_normalisation_misses(
    user, sources, run_on_commit, settings, monkeypatch
):
    """If the files do not measure within 1 LU of the target, the delivery is blocked."""
    real_apply = transcode.loudnorm_apply

    def miss_the_target(src, *, target, **kwargs):
        return real_apply(src, target=target - 4, **kwargs)  # a broken normaliser

    monkeypatch.setattr(transcode, "loudnorm_apply", miss_the_target)
    with run_on_commit():
        asset = audio_asset_create(
            owner=user, upload=upload_of(sources.music_wav), purpose="delivery"
        )
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.FAILED and asset.failure_code == "qc_failed"
    assert asset.failure_reason.startswith("The delivery is blocked by its quality checks")
    assert "loudness is off target" in asset.failure_reason
    report = asset.quality_reports.get(stage=QualityReport.Stage.DELIVERY)
    assert report.checks.get(name="normalised_loudness").status == "failed"
    assert not delivery_renditions(asset=asset).exists()


def test_measuring_decoded_mp3_keeps_the_wav_duration(tmp_path):
    """Gapless MP3 decoding: the duration check is not fooled by encoder padding."""
    wav = synth.write_wav(tmp_path / "a.wav", synth.stereo(synth.sine(440, 4.321)), 44100)
    mp3 = synth.ffmpeg_encode(wav, tmp_path / "a.mp3", "-c:a", "libmp3lame", "-b:a", "320k")
    wav_m, _ = measure_file(wav, demuxer="wav", sample_rate=44100, channels=2, what="x")
    mp3_m, _ = measure_file(mp3, demuxer="mp3", sample_rate=44100, channels=2, what="x")
    assert abs(wav_m["duration"] - mp3_m["duration"]) < 0.03
