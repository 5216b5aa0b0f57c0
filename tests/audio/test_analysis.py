import numpy as np
import pytest

from audio import analysis
from tests.audio import synth

TEMPI = list(range(60, 181, 5)) + [63.7, 87.3, 111.1, 142.9, 171.4]


@pytest.fixture(scope="module")
def tempo_results():
    results = {}
    for bpm in TEMPI:
        y = synth.click_track(bpm, 10.0)
        results[bpm] = analysis.analyse_signal(y, analysis.SAMPLE_RATE)
    return results


def test_click_tracks_true_tempo_is_always_the_tempo_or_its_alternative(tempo_results):
    for bpm, result in tempo_results.items():
        candidates = [result.tempo_bpm, result.tempo_alt_bpm]
        assert any(abs(c - bpm) / bpm <= 0.04 for c in candidates), (bpm, candidates)


def test_click_tracks_tempo_within_4_percent_for_at_least_95_percent(tempo_results):
    close = [bpm for bpm, r in tempo_results.items() if abs(r.tempo_bpm - bpm) / bpm <= 0.04]
    assert len(close) / len(tempo_results) >= 0.95, sorted(set(tempo_results) - set(close))


def test_alternative_tempo_is_half_or_double(tempo_results):
    for result in tempo_results.values():
        ratio = result.tempo_alt_bpm / result.tempo_bpm
        assert ratio == pytest.approx(0.5, rel=1e-3) or ratio == pytest.approx(2.0, rel=1e-3)
        assert 40 <= result.tempo_alt_bpm <= 240


@pytest.mark.parametrize("minor", [False, True], ids=["major", "minor"])
def test_key_and_mode_in_all_keys(minor):
    wrong = []
    for tonic in range(12):
        result = analysis.analyse_signal(synth.key_progression(tonic, minor), analysis.SAMPLE_RATE)
        expected = (synth.PITCHES[tonic], "minor" if minor else "major")
        if (result.key, result.mode) != expected:
            wrong.append((expected, (result.key, result.mode)))
        assert result.key_confidence > 0.5
    assert wrong == []


def test_descriptors_are_between_0_and_1_and_follow_the_material():
    sr = analysis.SAMPLE_RATE
    calm = synth.key_progression(0, False, sr=sr) * 0.2  # soft, harmonic, no drums
    busy = synth.click_track(128, 8.0) + np.random.default_rng(0).normal(
        0, 0.1, int(8 * sr)
    ).astype(np.float32)
    calm_result = analysis.analyse_signal(calm, sr)
    busy_result = analysis.analyse_signal(busy, sr)
    for result in (calm_result, busy_result):
        for name in ("energy", "danceability", "acousticness", "valence", "key_confidence"):
            assert 0.0 <= getattr(result, name) <= 1.0
        assert result.mood in analysis.MOODS
    assert busy_result.energy > calm_result.energy
    assert busy_result.danceability > calm_result.danceability
    assert calm_result.acousticness > busy_result.acousticness


def test_silence_gives_an_empty_analysis():
    result = analysis.analyse_signal(np.zeros(analysis.SAMPLE_RATE * 3, np.float32))
    assert result.tempo_bpm is None and result.key == "" and result.energy == 0.0


def test_at_most_120_seconds_from_the_middle_are_analysed(settings):
    assert analysis.analysis_window(90.0) == (0.0, 90.0)
    assert analysis.analysis_window(300.0) == (90.0, 120.0)
    settings.AUDIO_ANALYSIS_MAX_SECONDS = 30
    assert analysis.analysis_window(100.0) == (35.0, 30)


def test_analyse_file_decodes_only_the_window(sources, settings):
    settings.AUDIO_ANALYSIS_MAX_SECONDS = 4
    result = analysis.analyse_file(sources.music_mp3, demuxer="mp3", duration=6.0)
    assert result.window_start == 1.0
    assert result.analysed_seconds == pytest.approx(4.0, abs=0.05)
    assert result.tempo_bpm is not None
