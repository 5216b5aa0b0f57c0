import re
import subprocess

import numpy as np
import pytest

from audio.ffmpeg import ffmpeg_binary
from audio.measure import SignalMeter, k_weighting_sos, measure_array
from tests.audio import synth


def _ffmpeg_ebur128(path):
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
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    return integrated


def test_k_weighting_matches_the_coefficients_tabulated_in_bs1770():
    sos = k_weighting_sos(48000)
    assert sos[0] == pytest.approx(
        [
            1.53512485958697,
            -2.69169618940638,
            1.19839281085285,
            1,
            -1.69065929318241,
            0.73248077421585,
        ],
        abs=1e-9,
    )
    assert sos[1] == pytest.approx([1, -2, 1, 1, -1.99004745483398, 0.99007225036621], abs=1e-9)


def test_a_997_hz_sine_at_minus_20_dbfs_in_stereo_reads_minus_20_lufs():
    tone = synth.sine(997, 10, amplitude=0.1)
    result = measure_array(np.stack([tone, tone], axis=1), 44100)
    assert result.integrated_lufs == pytest.approx(-20.0, abs=0.1)


@pytest.mark.parametrize("seed", [1, 2])
def test_integrated_loudness_agrees_with_ffmpeg_ebur128(tmp_path, seed):
    samples = synth.music(8.0, seed=seed) * np.float32(0.5 + 0.2 * seed)
    path = synth.write_wav(tmp_path / "m.wav", samples, 44100, subtype="FLOAT")
    assert measure_array(samples, 44100).integrated_lufs == pytest.approx(
        _ffmpeg_ebur128(path), abs=0.3
    )


def test_true_peak_sees_intersample_peaks():
    # Sampled at +/-45 degrees, the samples stay at 0.707 of a peak that really reaches 1.0.
    tone = synth.sine(44100 / 4, 2, amplitude=0.95, phase=np.pi / 4)
    result = measure_array(tone, 44100)
    assert result.sample_peak_dbfs == pytest.approx(20 * np.log10(0.95 * np.sqrt(0.5)), abs=0.1)
    assert result.true_peak_dbtp == pytest.approx(20 * np.log10(0.95), abs=0.3)


def test_clipping_runs_silence_and_chunking():
    sr = 44100
    tone = np.clip(synth.sine(220, 2, amplitude=1.6), -1, 1)
    padded = np.concatenate(
        [np.zeros(int(2.5 * sr), np.float32), tone, np.zeros(int(0.5 * sr), np.float32)]
    )
    whole = measure_array(padded, sr)
    assert whole.leading_silence == pytest.approx(2.5, abs=0.01)
    assert whole.trailing_silence == pytest.approx(0.5, abs=0.01)
    assert whole.clipped_runs == 2 * 220 * 2  # every crest and trough of the 2 s at 220 Hz
    meter = SignalMeter(sr, 1)
    for start in range(0, len(padded), 1000):  # block edges fall inside clipped runs
        meter.feed(padded[start : start + 1000])
    chunked = meter.result()
    assert chunked.clipped_runs == whole.clipped_runs
    assert chunked.integrated_lufs == whole.integrated_lufs
    assert chunked.true_peak_dbtp == pytest.approx(whole.true_peak_dbtp, abs=0.01)


def test_silence_and_very_short_signals_have_no_loudness():
    assert measure_array(np.zeros(44100 * 2, np.float32), 44100).integrated_lufs is None
    assert measure_array(synth.sine(440, 0.2), 44100).integrated_lufs is None
