"""Musical analysis with librosa: tempo, key and mode, and 0..1 descriptors.

At most ``AUDIO_ANALYSIS_MAX_SECONDS`` (120 s) are analysed: the whole track when it is that
short, else the window centred on the middle of the track (intros and outros are the least
typical parts of a song). The audio is decoded by ffmpeg to mono at 22 050 Hz.

Tempo
    A mel power spectrogram (128 bands, n_fft 2048, hop 256 = 11.6 ms) is split by HPSS (median
    filters of 17 frames/bands, percussive margin 2) and the percussive part, compressed as
    log(1 + 100 P / max P), gives spectral-flux onset envelopes in three bands: low (< 150 Hz,
    kick), middle (150..3500 Hz, snare) and high (hi-hats), each divided by its standard
    deviation (at least a tenth of the largest). The *onset* envelope is their sum; the
    *snare-like* envelope is max(0, middle - low), the middle band less a kick's click.

    The pulse: both the onset envelope and the kick + snare-like envelope are autocorrelated
    (unbiased: each lag over its own overlap, 1.0 at lag 0) and averaged. Each peak between 50
    and 200 BPM gets strength = ac(lag) + ac(2 lag) (beats group in twos; a dotted period's
    double falls off the bar); the *fastest* peak reaching 80 % of the strongest is the pulse
    (a steady pulse repeats at every multiple of its period, so slower candidates are as strong
    as the real one while faster ones are not). Its lag is refined by parabolic interpolation at
    its first four multiples.

    The metrical level (Goto 2001: drums alternate kick and snare on the beat): for every octave
    of the pulse within 50..200 BPM that the onsets repeat at (ac > 0), the low and snare-like
    envelopes are folded at two periods (24 phase bins, per ~8 s segment, median over
    segments), each scaled by its own range (at least a quarter of the other's), and
        backbeat = max over phase of [(low(p) - low(p + 1/2)) - (snare(p) - snare(p + 1/2))] / 2
    which is 1 when every kick falls on one pulse and every snare on the next. The level with the
    largest backbeat x prior, prior(bpm) = exp(-0.5 (log2(bpm / 120))^2) (log-normal, one
    octave wide), replaces the pulse when that score is at least 0.3 and 1.25 times the
    pulse's own; otherwise (no drums, four-on-the-floor with a clap on the kick) the pulse
    stands. ``tempo_alt_bpm`` is half or double the tempo (within 40..240 BPM), the one with the
    larger ac(lag) x prior: the reading a listener tapping at another level would give.

Key and mode
    A constant-Q spectrogram (C1..B7, 36 bins per octave, hop 1024, tuned by
    ``librosa.estimate_tuning`` on at most 30 s) is split by HPSS (9 frames x 31 bins) and only
    the harmonic part is used, its magnitude's square root folded to 12 pitch classes. Three
    cues are scored for each of the 24 keys as Pearson correlations with z-scored templates:
        profile = correlation of the mean chroma (frames above 5 % of the loudest) with the mean
                  of the Krumhansl-Kessler, Temperley (Kostka-Payne) and Albrecht-Shanahan
                  profiles of that key;
        bass    = correlation of the bass's pitch-class distribution (A1..A3, each frame
                  normalised to sum 1, then averaged; the range starts above a kick's
                  fundamental, and a lower note's octave still folds to its class) with a
                  chord-root profile: tonic 1, dominant 0.55 / 0.5, subdominant 0.5 / 0.45,
                  the other diatonic roots 0.2..0.4, the rest 0.05..0.1 (major / minor);
        edges   = correlation of the chroma of the first and the last sounding bar (4 beats at
                  the tempo found, 2 s without one) with the key's tonic triad; only when the
                  analysed signal is the whole track (songs begin and mostly end at home).
    score = (profile + 0.5 bass + 1.0 edges) / (1 + 0.5 + 1.0), each cue present counted; the
    best is the key. The bass and the edges tell a minor key from its relative major, which
    share every pitch. ``key_confidence = clip(s_best, 0, 1) * clip((s_best - s_second) / 0.15,
    0, 1)``: high when the key fits well and clearly better than any other.

Descriptors (all 0..1, heuristics rather than trained models; each input is itself scaled to 0..1)
    loudness  = (integrated LUFS + 30) / 24            (-30 LUFS -> 0, -6 LUFS -> 1)
    density   = onsets per second / 6
    brightness= (median spectral centroid - 1000 Hz) / 2500 Hz
    noisiness = median spectral flatness / 0.25
    dynamics  = (95th - 10th percentile of frame RMS in dB) / 20 dB
    pulse     = autocorrelation at the beat lag (how clearly the pulse repeats)
    percussive share / harmonic share = HPSS of a 64-band mel spectrogram (energy ratio)

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

ANALYSER_VERSION = 2
SAMPLE_RATE = 22050
ONSET_HOP = 256
FRAME_HOP = 512
MIN_BPM, MAX_BPM = 50.0, 200.0
ALT_MIN_BPM, ALT_MAX_BPM = 40.0, 240.0
STRONG_PEAK_RATIO = 0.8
PRIOR_BPM, PRIOR_OCTAVES = 120.0, 1.0
N_MELS = 128
HPSS_KERNEL = 17
COMPRESSION = 100.0
BAND_EDGES_HZ = (150.0, 3500.0)
FOLD_BINS = 24
PERCUSSIVE_MARGIN = 2.0
BACKBEAT_MIN = 0.3
BACKBEAT_MARGIN = 1.25
KEY_HOP = 1024
KEY_BINS_PER_OCTAVE = 36
KEY_HPSS_KERNEL = (9, 31)
BASS_RANGE_MIDI = (33, 57)  # A1..A3
AUDIBLE_FLOOR = 0.05
BASS_WEIGHT = 0.5
EDGE_WEIGHT = 1.0
EDGE_BEATS = 4

PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def _profile_matrix(major: np.ndarray, minor: np.ndarray) -> np.ndarray:
    """24 x 12: the 12 rotations of the major profile, then of the minor one, each z-scored."""
    rows = [np.roll(profile, tonic) for profile in (major, minor) for tonic in range(12)]
    matrix = np.array(rows, dtype=np.float64)
    matrix -= matrix.mean(axis=1, keepdims=True)
    return matrix / matrix.std(axis=1, keepdims=True)


def _correlations(vector: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float64)
    v = (v - v.mean()) / v.std()
    return matrix @ v / len(v)


# Key profiles, tonic first. Krumhansl & Kessler (1982) probe-tone ratings; Temperley (2007,
# Kostka-Payne corpus) and Albrecht & Shanahan (2013) pitch-class frequencies in scores.
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
TEMPERLEY_MAJOR = np.array(
    [0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400]
)
TEMPERLEY_MINOR = np.array(
    [0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330]
)
AS_MAJOR = np.array(
    [0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081]
)
AS_MINOR = np.array(
    [0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052]
)
MAJOR_PROFILE = KK_MAJOR  # kept for callers of the version 1 names
MINOR_PROFILE = KK_MINOR
KEY_PROFILES = (
    _profile_matrix(KK_MAJOR, KK_MINOR)
    + _profile_matrix(TEMPERLEY_MAJOR, TEMPERLEY_MINOR)
    + _profile_matrix(AS_MAJOR, AS_MINOR)
) / 3
# How often each scale degree carries the bass (chord roots), tonic first: the tonic most, then
# the dominant and subdominant, then the other diatonic roots (major: vi, ii, iii; minor: VI,
# III, VII). The weights are round numbers in that order, not fitted.
BASS_MAJOR = np.array([1.0, 0.05, 0.25, 0.05, 0.2, 0.5, 0.05, 0.55, 0.05, 0.35, 0.1, 0.05])
BASS_MINOR = np.array([1.0, 0.05, 0.1, 0.35, 0.05, 0.45, 0.05, 0.5, 0.4, 0.05, 0.35, 0.1])
BASS_PROFILES = _profile_matrix(BASS_MAJOR, BASS_MINOR)
# The tonic triad: songs mostly begin and end on it.
TONIC_TRIADS = _profile_matrix(
    np.array([1.0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0]),
    np.array([1.0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]),
)
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


# --- tempo ---------------------------------------------------------------------------------


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


def _autocorrelation(envelope: np.ndarray) -> np.ndarray | None:
    """Unbiased autocorrelation of the mean-removed envelope, 1.0 at lag 0 (None if flat)."""
    import librosa  # on first use only: see "Importing librosa" above

    x = np.asarray(envelope, dtype=np.float64)
    x = x - x.mean()
    n = len(x)
    if n < 16 or not np.any(x):
        return None
    ac = librosa.autocorrelate(x)
    ac = ac / np.maximum(n - np.arange(n), 1)  # each lag over its own overlap
    if ac[0] <= 0:
        return None
    return ac / ac[0]


def tempo_prior(bpm: float) -> float:
    """Log-normal preference for tempi near 120 BPM, one octave wide (1 at 120, 0.61 at 60)."""
    return math.exp(-0.5 * (math.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)


def _folds(envelope: np.ndarray, period: float, fps: float) -> list[np.ndarray]:
    """The envelope folded at ``period`` frames (``FOLD_BINS`` phase bins, each the mean of its
    frames), once per segment of about eight seconds: tempo may drift a little over a song."""
    segment = int(max(8 * fps, 4 * period))
    profiles = []
    for start in range(0, max(1, len(envelope) - segment // 2), segment):
        part = envelope[start : start + segment]
        if len(part) < 2 * period:
            break
        phase = (np.arange(len(part)) % period) / period
        bins = np.minimum((phase * FOLD_BINS).astype(int), FOLD_BINS - 1)
        counts = np.bincount(bins, minlength=FOLD_BINS)
        profile = np.bincount(bins, weights=part, minlength=FOLD_BINS) / np.maximum(counts, 1)
        profiles.append(np.maximum(profile, np.roll(profile, 1)))  # onsets straddle two bins
    return profiles


def _backbeat_strength(low: np.ndarray, mid: np.ndarray, period: float, fps: float) -> float:
    """How well kick-like (low) and snare-like (middle band) onsets alternate at ``period``:
    both bands folded at two periods; 1.0 when every low onset falls on one pulse and every
    middle onset on the other, 0 when they do not alternate (median over segments)."""
    scores = []
    half = FOLD_BINS // 2
    for kick, snare in zip(_folds(low, 2 * period, fps), _folds(mid, 2 * period, fps), strict=True):
        # Each band on its own scale (a soft cross-stick counts as much as a loud snare), but a
        # band with hardly any pulse is not blown up to the other's size.
        spreads = np.array([np.ptp(kick), np.ptp(snare)])
        if spreads.max() <= 0:
            continue
        kick_scale, snare_scale = np.maximum(spreads, 0.25 * spreads.max())
        contrast = (kick - np.roll(kick, -half)) / kick_scale - (
            snare - np.roll(snare, -half)
        ) / snare_scale
        scores.append(float(contrast.max()) / 2)
    return float(np.median(scores)) if scores else 0.0


def _refined_period(ac: np.ndarray, lag: int) -> float:
    """The period at ``lag`` refined by parabolic interpolation at its first four multiples."""
    estimates = []
    for multiple in range(1, 5):
        refined = _peak_lag(ac, lag * multiple)
        if refined is None:
            break
        estimates.append(refined / multiple)
    return float(np.median(estimates)) if estimates else float(lag)


def _octave_chain(period: float, fps: float) -> list[float]:
    """The period's octaves (doubled and halved) inside MIN_BPM..MAX_BPM, slowest first."""
    slowest, fastest = 60 * fps / MIN_BPM, 60 * fps / MAX_BPM
    while period * 2 <= slowest:
        period *= 2
    while period > slowest and period / 2 >= fastest:
        period /= 2
    chain = [period]
    while chain[-1] / 2 >= fastest:
        chain.append(chain[-1] / 2)
    return chain


def estimate_tempo(
    onset_envelope: np.ndarray, fps: float, accent_envelope: np.ndarray | None = None
) -> tuple[float | None, float | None, float]:
    """(tempo, alternative tempo, pulse clarity) from onset envelopes sampled at ``fps``.

    ``onset_envelope`` has every onset. ``accent_envelope`` is either a (2, n) array of the low
    (kick-like) and snare-like envelopes of :func:`onset_envelopes`, which also choose the
    metrical level, or one envelope of strong onsets; without it the onset envelope does all.
    See "Tempo" in the module docstring."""
    ac_full = _autocorrelation(onset_envelope)
    if ac_full is None:
        return None, None, 0.0
    low = mid = None
    if accent_envelope is not None and np.ndim(accent_envelope) == 2:
        low, mid = accent_envelope
        accent_envelope = low + mid
    accent = onset_envelope if accent_envelope is None else accent_envelope
    ac_accent = _autocorrelation(accent)
    if ac_accent is None:
        accent, ac_accent = onset_envelope, ac_full
    n = min(len(ac_full), len(ac_accent))
    ac_full, ac_accent = ac_full[:n], ac_accent[:n]
    both = 0.5 * (ac_full + ac_accent)
    lag_min = max(1, int(math.floor(60 * fps / MAX_BPM)))
    lag_max = min(int(math.ceil(60 * fps / MIN_BPM)), n // 2)
    peaks = [
        lag
        for lag in range(lag_min, lag_max)
        if both[lag] > 0 and both[lag] >= both[lag - 1] and both[lag] >= both[lag + 1]
    ]
    if not peaks:
        return None, None, 0.0
    # The pulse: the fastest autocorrelation peak whose strength (the autocorrelation at the lag
    # plus at twice the lag: beats group in twos, a dotted period's double falls off the bar)
    # reaches 80 % of the strongest. A steady pulse repeats at every multiple of its period, so
    # slower candidates are as strong as the real one while faster ones are not.
    strength = {lag: both[lag] + _ac_at(both, 2 * lag) for lag in peaks}
    strongest = max(strength.values())
    pulse = min(lag for lag in peaks if strength[lag] >= STRONG_PEAK_RATIO * strongest)
    period = _refined_period(both, pulse)
    if low is not None:
        # The metrical level: the octave of the pulse at which kick-like and snare-like onsets
        # alternate best (kick on 1 and 3, snare on 2 and 4), weighted by the tempo prior; it
        # replaces the pulse only when clearly better.
        chain = [lag for lag in _octave_chain(period, fps) if _ac_at(both, lag) > 0]
        scores = {
            lag: _backbeat_strength(low, mid, lag, fps) * tempo_prior(60 * fps / lag)
            for lag in chain
        }
        if scores:
            best = max(scores, key=scores.get)
            own = _backbeat_strength(low, mid, period, fps) * tempo_prior(60 * fps / period)
            if scores[best] >= BACKBEAT_MIN and scores[best] >= BACKBEAT_MARGIN * own:
                period = best
    tempo = 60 * fps / period
    clarity = _clip01(_ac_at(ac_accent, period))

    candidates = []
    for alt, alt_lag in ((tempo / 2, period * 2), (tempo * 2, period / 2)):
        if ALT_MIN_BPM <= alt <= ALT_MAX_BPM:
            candidates.append((_ac_at(ac_full, alt_lag) * tempo_prior(alt), alt))
    alt_tempo = max(candidates)[1] if candidates else (tempo / 2 if tempo > 120 else tempo * 2)
    return round(tempo, 2), round(alt_tempo, 2), clarity


def onset_envelopes(mel_power: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mixture onsets, percussive onsets, (2, n) low and snare-like onsets) from a mel power
    spectrogram (bands up to sr/2, hop ``ONSET_HOP``). The mixture's envelope is librosa's
    plain onset strength (onset density). See "Tempo" in the module docstring."""
    import librosa  # on first use only: see "Importing librosa" above

    mixture = librosa.onset.onset_strength(S=librosa.power_to_db(mel_power), sr=sr)
    _, percussive = librosa.decompose.hpss(
        mel_power, kernel_size=HPSS_KERNEL, margin=(1.0, PERCUSSIVE_MARGIN)
    )
    compressed = np.log1p(COMPRESSION * percussive / max(float(percussive.max()), 1e-12))
    centres = librosa.mel_frequencies(mel_power.shape[0] + 2, fmax=sr / 2)[1:-1]
    edges = [0, *np.searchsorted(centres, BAND_EDGES_HZ), mel_power.shape[0]]
    bands = librosa.onset.onset_strength_multi(
        S=compressed, sr=sr, channels=edges, aggregate=np.mean
    )
    scale = bands.std(axis=1)
    bands = bands / np.maximum(scale, 0.1 * scale.max() + 1e-12)[:, None]
    full = bands.sum(axis=0)
    # A kick's beater click reaches the middle band too; what is left there is snare-like.
    snare = np.maximum(bands[1] - bands[0], 0.0)
    return mixture, full, np.stack([bands[0], snare])


# --- key ------------------------------------------------------------------------------------


def key_features(
    y: np.ndarray, sr: int, tuning: float, *, edge_seconds: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(chroma, bass chroma, edge chroma) of the harmonic part of a constant-Q spectrogram:
    the mean 12-bin chroma, the mean per-frame pitch-class distribution of the bass range, and
    (when ``edge_seconds`` is given) the chroma of the first and last ``edge_seconds`` that
    sound. See "Key and mode" in the module docstring."""
    import librosa  # on first use only: see "Importing librosa" above

    fmin = librosa.note_to_hz("C1")
    cqt = np.abs(
        librosa.cqt(
            y,
            sr=sr,
            hop_length=KEY_HOP,
            fmin=fmin,
            n_bins=7 * KEY_BINS_PER_OCTAVE,
            bins_per_octave=KEY_BINS_PER_OCTAVE,
            tuning=tuning,
        )
    )
    harmonic, _ = librosa.decompose.hpss(cqt, kernel_size=KEY_HPSS_KERNEL)
    fold = librosa.filters.cq_to_chroma(
        harmonic.shape[0], bins_per_octave=KEY_BINS_PER_OCTAVE, fmin=fmin
    )
    chroma = fold @ np.sqrt(harmonic)  # compressed: a loud chord does not drown the rest
    frames = chroma.sum(axis=0)
    if not frames.size or frames.max() <= 0:
        return np.zeros(12), np.zeros(12), None
    audible = np.flatnonzero(frames > AUDIBLE_FLOOR * frames.max())
    chroma_mean = chroma[:, audible].mean(axis=1)

    low = int(round((BASS_RANGE_MIDI[0] - 24) * KEY_BINS_PER_OCTAVE / 12))
    high = int(round((BASS_RANGE_MIDI[1] - 24) * KEY_BINS_PER_OCTAVE / 12))
    bass = fold[:, low:high] @ harmonic[low:high]
    totals = bass.sum(axis=0)
    sounding = totals > AUDIBLE_FLOOR * totals.max() if totals.max() > 0 else totals > 1
    bass_mean = (bass[:, sounding] / totals[sounding]).mean(axis=1) if sounding.any() else None

    edge_mean = None
    if edge_seconds:
        count = max(1, int(round(edge_seconds * sr / KEY_HOP)))
        if len(audible) >= 4 * count:
            edge_mean = chroma[:, audible[:count]].mean(axis=1)
            edge_mean = edge_mean + chroma[:, audible[-count:]].mean(axis=1)
    return chroma_mean, bass_mean, edge_mean


def estimate_key(
    chroma_mean: np.ndarray,
    bass_chroma: np.ndarray | None = None,
    edge_chroma: np.ndarray | None = None,
) -> tuple[str, str, float]:
    """(key, mode, confidence) from a 12-bin chroma vector starting at C and, when given, the
    bass's pitch-class distribution and the chroma of the first and last bar. See "Key and
    mode" in the module docstring."""
    v = np.asarray(chroma_mean, dtype=np.float64)
    if v.shape != (12,) or not np.isfinite(v).all() or v.std() < 1e-9:
        return "", "", 0.0
    scores = _correlations(v, KEY_PROFILES)
    total = 1.0
    for cue, templates, weight in (
        (bass_chroma, BASS_PROFILES, BASS_WEIGHT),
        (edge_chroma, TONIC_TRIADS, EDGE_WEIGHT),
    ):
        if cue is None:
            continue
        c = np.asarray(cue, dtype=np.float64)
        if c.shape == (12,) and np.isfinite(c).all() and c.std() > 1e-9:
            scores = scores + weight * _correlations(c, templates)
            total += weight
    scores = scores / total
    order = np.argsort(scores)[::-1]
    best, second = float(scores[order[0]]), float(scores[order[1]])
    confidence = _clip01(best) * _clip01((best - second) / 0.15)
    index = int(order[0])
    return PITCHES[index % 12], ("major" if index < 12 else "minor"), round(confidence, 3)


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
    whole_track: bool = True,
) -> AnalysisResult:
    """Analyse a mono float signal (see the module docstring for every formula).
    ``whole_track`` says the signal begins and ends where the track does (its first and last
    bar then count as evidence of the key)."""
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

    mel = librosa.feature.melspectrogram(
        y=y, sr=sr, n_fft=2048, hop_length=ONSET_HOP, n_mels=N_MELS
    )
    onset_env, percussive_env, accent_env = onset_envelopes(mel, sr)
    fps = sr / ONSET_HOP
    tempo, tempo_alt, pulse = estimate_tempo(percussive_env, fps, accent_env)
    onsets = librosa.onset.onset_detect(onset_envelope=onset_env, sr=sr, hop_length=ONSET_HOP)
    onset_rate = len(onsets) / seconds

    # Tuning from (at most) 30 s is as good as from the whole window, at a fraction of the cost;
    # the key only needs the average chroma, so a coarse hop is enough.
    middle = len(y) // 2
    excerpt = y[max(0, middle - 15 * sr) : middle + 15 * sr]
    tuning = float(librosa.estimate_tuning(y=excerpt, sr=sr))
    edge_seconds = None
    if whole_track:
        edge_seconds = EDGE_BEATS * 60 / tempo if tempo else 2.0
    chroma_mean, bass_chroma, edge_chroma = key_features(y, sr, tuning, edge_seconds=edge_seconds)
    key, mode, key_confidence = estimate_key(chroma_mean, bass_chroma, edge_chroma)

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
        samples,
        SAMPLE_RATE,
        loudness_lufs=loudness_lufs,
        peak_dbfs=peak_dbfs,
        window_start=start,
        whole_track=not start and (not duration or (length or 0) >= duration),
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
