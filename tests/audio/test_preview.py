import numpy as np
import pytest

from audio.ffmpeg import decode_array, probe
from audio.models import AudioAsset, Rendition
from audio.services import audio_asset_create
from tests.audio import synth
from tests.audio.conftest import upload_of


def _band_energy(samples, sr, freq, window=0.2, width=15.0):
    """Energy near ``freq`` in consecutive windows (seconds): one value per window."""
    n = int(window * sr)
    frames = len(samples) // n
    spectrum_freqs = np.fft.rfftfreq(n, 1 / sr)
    band = np.abs(spectrum_freqs - freq) <= width
    values = []
    for k in range(frames):
        chunk = samples[k * n : (k + 1) * n] * np.hanning(n)
        values.append(float((np.abs(np.fft.rfft(chunk))[band] ** 2).sum()))
    return np.array(values)


def _preview(user, path, run_on_commit, **kwargs):
    with run_on_commit():
        asset = audio_asset_create(owner=user, upload=upload_of(path), purpose="preview", **kwargs)
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.READY, asset.failure_reason
    return asset, asset.renditions.get(kind=Rendition.Kind.PREVIEW_MP3)


def test_preview_carries_an_audible_tone_every_interval(user, sources, run_on_commit, settings):
    settings.AUDIO_PREVIEW_WATERMARK_INTERVAL_SECONDS = 4
    settings.AUDIO_PREVIEW_WATERMARK_OFFSET_SECONDS = 1
    settings.AUDIO_PREVIEW_WATERMARK_TONE_SECONDS = 0.6
    asset, preview = _preview(user, sources.long_mp3, run_on_commit)
    info = probe(preview.file.path)
    assert (info.codec, info.bit_rate) == ("mp3", 96_000)  # reduced from the 192 kbps original
    sr = 44100
    marked = decode_array(preview.file.path, sample_rate=sr, channels=1)[:, 0]
    original = decode_array(asset.original.path, sample_rate=sr, channels=1)[:, 0]
    energy = _band_energy(marked, sr, 1000.0)
    baseline = _band_energy(original, sr, 1000.0)
    # Windows (0.2 s) fully inside each tone: 1.0-1.6 s, 5.0-5.6 s, 9.0-9.6 s, ...
    tone_windows = [int((1 + 4 * k) / 0.2) + 1 for k in range(5)]
    quiet_windows = [int((3 + 4 * k) / 0.2) for k in range(4)]
    for w in tone_windows:
        assert energy[w] > 100 * max(baseline[w], 1e-9), w  # +20 dB over the music alone
    assert np.median(energy[tone_windows]) > 100 * np.median(energy[quiet_windows])
    assert preview.details["watermark"]["kind"] == "tone"


def test_preview_can_be_truncated(user, sources, run_on_commit):
    asset, preview = _preview(user, sources.long_mp3, run_on_commit, preview_max_seconds=8)
    info = probe(preview.file.path)
    assert info.duration == pytest.approx(8.0, abs=0.1)
    assert preview.duration == 8.0 and preview.details["truncated_at"] == 8.0
    samples = decode_array(preview.file.path, sample_rate=44100, channels=1)[:, 0]
    tail = np.abs(samples[-2205:]).max()  # the last 50 ms are faded out
    assert tail < 0.05


def test_a_voice_tag_file_replaces_the_tone(user, sources, run_on_commit, settings, tmp_path):
    rng = np.random.default_rng(11)
    tag = (rng.normal(0, 0.3, int(0.8 * 44100)) * np.hanning(int(0.8 * 44100))).astype(np.float32)
    tag_path = synth.write_wav(tmp_path / "tag.wav", tag, 44100)
    settings.AUDIO_PREVIEW_WATERMARK_FILE = str(tag_path)
    settings.AUDIO_PREVIEW_WATERMARK_INTERVAL_SECONDS = 5
    settings.AUDIO_PREVIEW_WATERMARK_OFFSET_SECONDS = 2
    asset, preview = _preview(user, sources.long_mp3, run_on_commit)
    assert preview.details["watermark"]["kind"] == "voice_tag"
    marked = decode_array(preview.file.path, sample_rate=44100, channels=1)[:, 0]
    original = decode_array(asset.original.path, sample_rate=44100, channels=1)[:, 0]
    residual = marked[: len(original)] - original[: len(marked)]
    # Normalised cross-correlation of what was added with the tag, at each expected position.
    for start in (2.0, 7.0, 12.0):
        s = int(start * 44100)
        segment = residual[s - 2000 : s + len(tag) + 2000]
        corr = np.correlate(segment, tag, mode="valid") / (
            np.linalg.norm(tag) * np.linalg.norm(segment) + 1e-12
        )
        assert corr.max() > 0.5, start
