"""Musical analysis with librosa: tempo, key and mode, and 0..1 descriptors.

At most ``AUDIO_ANALYSIS_MAX_SECONDS`` (120 s) are analysed: the whole track when it is that
short, else the window centred on the middle of the track (intros and outros are the least
typical parts of a song). The audio is decoded by ffmpeg to mono at 22 050 Hz.

Tempo
    The onset-strength envelope (hop 256, ~11.6 ms) is autocorrelated over the whole window,
    normalised per lag (unbiased estimate, 1.0 at lag 0). Among the autocorrelation peaks between
    50 and 200 BPM, the *fastest* one reaching 80 % of the strongest is the beat: a steady pulse
    repeats at every multiple of its period, so slower candidates are as strong as the real one
    while faster ones are not. The lag is refined by parabolic interpolation at its first four
    multiples. ``tempo_alt_bpm`` is half or double that tempo (whichever lies in 40..240 BPM and
    has more autocorrelation support): the reading a listener tapping at another level would give.

Key and mode
    The mean constant-Q chroma vector is correlated (Pearson) with the 24 rotations of the
    Krumhansl-Kessler major and minor key profiles; the best is the key.
    ``key_confidence = clip(r_best, 0, 1) * clip((r_best - r_second) / 0.15, 0, 1)``: high when
    the profile fits well and clearly better than any other key (typically the relative key).

Descriptors (all 0..1, heuristics rather than trained models; each input is itself scaled to 0..1)
    loudness  = (integrated LUFS + 30) / 24            (-30 LUFS -> 0, -6 LUFS -> 1)
    density   = onsets per second / 6
    brightness= (median spectral centroid - 1000 Hz) / 2500 Hz
    noisiness = median spectral flatness / 0.25
    dynamics  = (95th - 10th percentile of frame RMS in dB) / 20 dB
    pulse     = autocorrelation at the beat lag (how clearly the pulse repeats)
    percussive share / harmonic share = HPSS of the mel spectrogram (energy ratio)

    energy       = 0.45 loudness + 0.25 density + 0.20 brightness + 0.10 noisiness
    danceability = 0.45 pulse + 0.30 exp(-((tempo - 120) / 30)^2 / 2) + 0.25 percussive share
    acousticness = 0.35 (1 - brightness) + 0.30 harmonic share + 0.20 (1 - noisiness)
                   + 0.15 dynamics
    valence      = 0.50 mode score + 0.30 (tempo - 60) / 120 + 0.20 brightness,
                   mode score = 0.5 +/- 0.5 key_confidence (+ for major, - for minor)
    mood         = the quadrant of Russell's circumplex (valence x energy, split at 0.5):
                   happy (high/high), tense (low valence, high energy), calm (high valence,
                   low energy), sad (low/low).

Importing librosa
    librosa is imported where it is first used, not with this module: it loads numba (seconds
    and a hundred MB), which web processes that only import the pipeline never need, and numba
    must find ``NUMBA_CACHE_DIR`` (set by ``AudioConfig.ready()``) when it is first imported.
"""

import logging
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from audio import conf
from audio.ffmpeg import decode_array
from audio.measure import measure_array

logger = logging.getLogger(__name__)

ANALYSER_VERSION = 1
SAMPLE_RATE = 22050
ONSET_HOP = 256
FRAME_HOP = 512
CHROMA_HOP = 2048
MIN_BPM, MAX_BPM = 50.0, 200.0
ALT_MIN_BPM, ALT_MAX_BPM = 40.0, 240.0
STRONG_PEAK_RATIO = 0.8

PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
MOODS = ("happy", "tense", "calm", "sad")


@dataclass
class AnalysisResult:
    tempo_bpm: float | None
    tempo_alt_bpm: float | None
    key: str  # "" when no key could be found (silence, noise)
    mode: str  # "major", "minor" or ""
    key_confidence: float
    loudness_lufs: float | None
    peak_dbfs: float | None
    energy: float
    danceability: float
    acousticness: float
    valence: float
    mood: str
    analysed_seconds: float
    window_start: float
    features: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _clip01(value: float) -> float:
    if value is None or not math.isfinite(value):
        return 0.0
    return float(min(1.0, max(0.0, value)))


def analysis_window(duration: float | None) -> tuple[float, float | None]:
    """(start, length) of the analysed window for a track of ``duration`` seconds."""
    limit = float(conf.get("AUDIO_ANALYSIS_MAX_SECONDS"))
    if not duration or duration <= limit:
        return 0.0, duration or limit
    return round((duration - limit) / 2, 3), limit


# --- tempo ----------------------------------------------------------------------------------


def _peak_lag(ac: np.ndarray, centre: float, reach: int = 2) -> float | None:
    """The interpolated position of the autocorrelation maximum within ``reach`` of ``centre``."""
    lo = max(1, int(round(centre)) - reach)
    hi = min(len(ac) - 2, int(round(centre)) + reach)
    if hi < lo:
        return None
    best = lo + int(np.argmax(ac[lo : hi + 1]))
    left, middle, right = ac[best - 1], ac[best], ac[best + 1]
    denominator = left - 2 * middle + right
    offset = 0.5 * (left - right) / denominator if denominator < 0 else 0.0
    return best + float(np.clip(offset, -0.5, 0.5))


def _ac_at(ac: np.ndarray, lag: float) -> float:
    if lag < 1 or lag > len(ac) - 2:
        return -1.0
    return float(np.interp(lag, np.arange(len(ac)), ac))


def estimate_tempo(
    onset_envelope: np.ndarray, fps: float
) -> tuple[float | None, float | None, float]:
    """(tempo, alternative tempo, pulse clarity) from an onset envelope sampled at ``fps``."""
    import librosa  # on first use only: see "Importing librosa" above

    x = np.asarray(onset_envelope, dtype=np.float64)
    x = x - x.mean()
    n = len(x)
    if n < 16 or not np.any(x):
        return None, None, 0.0
    ac = librosa.autocorrelate(x)
    ac = ac / np.maximum(n - np.arange(n), 1)  # unbiased: each lag over its own overlap
    if ac[0] <= 0:
        return None, None, 0.0
    ac = ac / ac[0]
    lag_min = max(1, int(math.floor(60 * fps / MAX_BPM)))
    lag_max = min(int(math.ceil(60 * fps / MIN_BPM)), n // 2)
    peaks = [
        lag
        for lag in range(lag_min, lag_max)
        if ac[lag] > 0 and ac[lag] >= ac[lag - 1] and ac[lag] >= ac[lag + 1]
    ]
    if not peaks:
        return None, None, 0.0
    strongest = max(ac[lag] for lag in peaks)
    lag = min(lag for lag in peaks if ac[lag] >= STRONG_PEAK_RATIO * strongest)
    estimates = []
    for multiple in range(1, 5):
        refined = _peak_lag(ac, lag * multiple)
        if refined is None:
            break
        estimates.append(refined / multiple)
    precise = float(np.median(estimates)) if estimates else float(lag)
    tempo = 60 * fps / precise
    clarity = _clip01(float(ac[lag]))

    candidates = []
    for alt, alt_lag in ((tempo / 2, precise * 2), (tempo * 2, precise / 2)):
        if ALT_MIN_BPM <= alt <= ALT_MAX_BPM:
            candidates.append((_ac_at(ac, alt_lag), alt))
    alt_tempo = max(candidates)[1] if candidates else (tempo / 2 if tempo > 120 else tempo * 2)
    return round(tempo, 2), round(alt_tempo, 2), clarity


# --- key ------------------------------------------------------------------------------------


def estimate_key(chroma_mean: np.ndarray) -> tuple[str, str, float]:
    """(key, mode, confidence) from a 12-bin chroma vector starting at C."""
    v = np.asarray(chroma_mean, dtype=np.float64)
    if v.shape != (12,) or not np.isfinite(v).all() or v.std() < 1e-9:
        return "", "", 0.0
    scores = []
    for mode, profile in (("major", MAJOR_PROFILE), ("minor", MINOR_PROFILE)):
        for tonic in range(12):
            r = float(np.corrcoef(v, np.roll(profile, tonic))[0, 1])
            scores.append((r, tonic, mode))
    scores.sort(reverse=True)
    (r_best, tonic, mode), (r_second, _, _) = scores[0], scores[1]
    confidence = _clip01(r_best) * _clip01((r_best - r_second) / 0.15)
    return PITCHES[tonic], mode, round(confidence, 3)


# --- everything -----------------------------------------------------------------------------


def _mood(valence: float, energy: float) -> str:
    if energy >= 0.5:
        return "happy" if valence >= 0.5 else "tense"
    return "calm" if valence >= 0.5 else "sad"


def analyse_signal(
    y: np.ndarray,
    sr: int = SAMPLE_RATE,
    *,
    loudness_lufs: float | None = None,
    peak_dbfs: float | None = None,
    window_start: float = 0.0,
) -> AnalysisResult:
    """Analyse a mono float signal (see the module docstring for every formula)."""
    import librosa  # on first use only: see "Importing librosa" above

    y = np.ascontiguousarray(np.asarray(y, dtype=np.float32).reshape(-1))
    seconds = len(y) / sr if sr else 0.0
    if loudness_lufs is None or peak_dbfs is None:
        window = measure_array(y, sr)
        loudness_lufs = window.integrated_lufs if loudness_lufs is None else loudness_lufs
        peak_dbfs = window.sample_peak_dbfs if peak_dbfs is None else peak_dbfs

    empty = AnalysisResult(
        tempo_bpm=None,
        tempo_alt_bpm=None,
        key="",
        mode="",
        key_confidence=0.0,
        loudness_lufs=loudness_lufs,
        peak_dbfs=peak_dbfs,
        energy=0.0,
        danceability=0.0,
        acousticness=0.0,
        valence=0.0,
        mood="sad",
        analysed_seconds=round(seconds, 3),
        window_start=window_start,
    )
    if len(y) < sr or float(np.abs(y).max(initial=0.0)) < 1e-4:
        return empty  # under a second, or silence: nothing musical to say

    onset_env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=ONSET_HOP)
    fps = sr / ONSET_HOP
    tempo, tempo_alt, pulse = estimate_tempo(onset_env, fps)
    onsets = librosa.onset.onset_detect(onset_envelope=onset_env, sr=sr, hop_length=ONSET_HOP)
    onset_rate = len(onsets) / seconds

    # Tuning from (at most) 30 s is as good as from the whole window, at a fraction of the cost;
    # the key only needs the average chroma, so a coarse hop is enough.
    middle = len(y) // 2
    excerpt = y[max(0, middle - 15 * sr) : middle + 15 * sr]
    tuning = float(librosa.estimate_tuning(y=excerpt, sr=sr))
    chroma = librosa.feature.chroma_cqt(y=y, sr=sr, hop_length=CHROMA_HOP, tuning=tuning)
    key, mode, key_confidence = estimate_key(chroma.mean(axis=1))

    spectrum = np.abs(librosa.stft(y, n_fft=2048, hop_length=FRAME_HOP))
    rms = librosa.feature.rms(S=spectrum, frame_length=2048)[0]
    audible = rms > 1e-4
    if not audible.any():
        return empty
    centroid = float(np.median(librosa.feature.spectral_centroid(S=spectrum, sr=sr)[0][audible]))
    flatness = float(np.median(librosa.feature.spectral_flatness(S=spectrum)[0][audible]))
    rms_db = 20 * np.log10(rms[audible])
    dynamic_range = float(np.percentile(rms_db, 95) - np.percentile(rms_db, 10))
    mel = librosa.feature.melspectrogram(S=spectrum**2, sr=sr, n_mels=64)
    harmonic, percussive = librosa.decompose.hpss(mel, kernel_size=17)
    total = float(harmonic.sum() + percussive.sum()) or 1.0
    harmonic_share = float(harmonic.sum()) / total
    percussive_share = 1.0 - harmonic_share

    loudness = _clip01(((loudness_lufs if loudness_lufs is not None else -70.0) + 30) / 24)
    density = _clip01(onset_rate / 6)
    brightness = _clip01((centroid - 1000) / 2500)
    noisiness = _clip01(flatness / 0.25)
    dynamics = _clip01(dynamic_range / 20)
    tempo_fit = math.exp(-0.5 * ((tempo - 120) / 30) ** 2) if tempo else 0.0
    tempo_score = _clip01((tempo - 60) / 120) if tempo else 0.0
    if mode == "major":
        mode_score = 0.5 + 0.5 * key_confidence
    elif mode == "minor":
        mode_score = 0.5 - 0.5 * key_confidence
    else:
        mode_score = 0.5

    energy = _clip01(0.45 * loudness + 0.25 * density + 0.20 * brightness + 0.10 * noisiness)
    danceability = _clip01(0.45 * pulse + 0.30 * tempo_fit + 0.25 * percussive_share)
    acousticness = _clip01(
        0.35 * (1 - brightness) + 0.30 * harmonic_share + 0.20 * (1 - noisiness) + 0.15 * dynamics
    )
    valence = _clip01(0.50 * mode_score + 0.30 * tempo_score + 0.20 * brightness)

    return AnalysisResult(
        tempo_bpm=tempo,
        tempo_alt_bpm=tempo_alt,
        key=key,
        mode=mode,
        key_confidence=key_confidence,
        loudness_lufs=loudness_lufs,
        peak_dbfs=peak_dbfs,
        energy=round(energy, 3),
        danceability=round(danceability, 3),
        acousticness=round(acousticness, 3),
        valence=round(valence, 3),
        mood=_mood(valence, energy),
        analysed_seconds=round(seconds, 3),
        window_start=window_start,
        features={
            "pulse_clarity": round(pulse, 3),
            "onset_rate": round(onset_rate, 3),
            "centroid_hz": round(centroid, 1),
            "flatness": round(flatness, 4),
            "dynamic_range_db": round(dynamic_range, 2),
            "harmonic_share": round(harmonic_share, 3),
        },
    )


def analyse_file(
    path,
    *,
    demuxer: str | None,
    duration: float | None,
    loudness_lufs: float | None = None,
    peak_dbfs: float | None = None,
) -> AnalysisResult:
    start, length = analysis_window(duration)
    samples = decode_array(
        path,
        sample_rate=SAMPLE_RATE,
        channels=1,
        demuxer=demuxer,
        start=start or None,
        duration=length,
        what="read the audio for analysis",
    )[:, 0]
    return analyse_signal(
        samples, SAMPLE_RATE, loudness_lufs=loudness_lufs, peak_dbfs=peak_dbfs, window_start=start
    )


def warm_up() -> float:
    """Run the analysis once on a few synthetic seconds so numba compiles (or loads from
    ``NUMBA_CACHE_DIR``) every kernel before real work arrives. Returns the seconds it took."""
    started = time.monotonic()
    sr = SAMPLE_RATE
    t = np.arange(int(sr * 4)) / sr
    y = 0.2 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 2 * t))
    clicks = np.zeros_like(y)
    clicks[:: sr // 2] = 0.8
    analyse_signal((y + clicks).astype(np.float32), sr)
    elapsed = time.monotonic() - started
    logger.info("librosa analysis warmed up in %.1f s", elapsed)
    return elapsed
