"""Music-like tracks synthesised with numpy: drums, a bass line, chords and a melody in a key.

Used to test the analyser (``audio.analysis``) against material whose tempo, key and mode are
known, and by ``manage.py seed_demo`` for demo songs that sound like songs rather than tones.

A track is a loop of a four-chord progression, one chord a bar in 4/4, that starts and ends on
the tonic chord (songs mostly do; it is also what a listener hears as "home"):

- drums: kick, snare (or clap) on the backbeat, closed/open hi-hats; the pattern depends on the
  style. ``swing`` delays every off-beat (0.33 is a triplet feel), ``syncopation`` adds kicks off
  the beat and pushes chord changes an eighth early;
- bass: the chord's root in octave 2, with the fifth and approach notes on weak positions;
- chords: triads of the key (sevenths on some non-tonic chords in lofi), voiced around middle C;
- melody: chord tones on strong positions, scale steps between them, phrases ending on the tonic.

Everything random comes from ``numpy.random.default_rng(seed)``: the same arguments give the same
samples. A 30 s track takes about a tenth of a second to make.
"""

import functools
import math
import os
import subprocess
import tempfile
from dataclasses import dataclass

import numpy as np
import soundfile as sf
from scipy.signal import butter, lfilter

from audio.ffmpeg import ffmpeg

PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MODES = ("major", "minor")
STYLES = ("pop", "rock", "lofi", "ballad", "electronic")

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)  # natural minor; the V chord borrows the raised seventh

# Chord symbols: (root in semitones above the tonic, intervals of the chord).
MAJ, MIN, DIM = (0, 4, 7), (0, 3, 7), (0, 3, 6)
CHORDS = {
    "I": (0, MAJ),
    "ii": (2, MIN),
    "iii": (4, MIN),
    "IV": (5, MAJ),
    "V": (7, MAJ),
    "vi": (9, MIN),
    "i": (0, MIN),
    "iv": (5, MIN),
    "v": (7, MIN),
    "III": (3, MAJ),
    "VI": (8, MAJ),
    "VII": (10, MAJ),
}
PROGRESSIONS = {
    "major": (
        ("I", "V", "vi", "IV"),
        ("I", "IV", "V", "I"),
        ("I", "vi", "IV", "V"),
        ("I", "IV", "vi", "V"),
        ("I", "ii", "V", "I"),
    ),
    "minor": (
        ("i", "VI", "III", "VII"),
        ("i", "iv", "v", "i"),
        ("i", "VII", "VI", "V"),
        ("i", "iv", "VII", "III"),
        ("i", "VI", "iv", "V"),
    ),
}


@dataclass(frozen=True)
class Style:
    hats: str  # "8" eighths, "16" sixteenths, "4" quarters, "off" off-beat open hats
    kicks: tuple  # kick positions in beats within the bar
    snare: tuple  # snare/clap positions
    bass: str  # "eighths", "roots", "offbeat", "walk"
    chords: str  # "pad", "stabs", "piano", "power"
    melody_density: float  # chance that an eighth-note slot starts a note
    sevenths: bool = False
    low_pass_hz: float | None = None
    noise: float = 0.0  # vinyl-like hiss level


STYLE_SETTINGS = {
    "pop": Style("8", (0, 2), (1, 3), "eighths", "stabs", 0.45),
    "rock": Style("8", (0, 2, 2.5), (1, 3), "eighths", "power", 0.4),
    "lofi": Style("8", (0, 1.75, 2.5), (1, 3), "walk", "piano", 0.3, True, 3500.0, 0.004),
    "ballad": Style("4", (0, 2), (1, 3), "roots", "piano", 0.3),
    "electronic": Style("off", (0, 1, 2, 3), (1, 3), "offbeat", "pad", 0.5),
}


def midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


# --- sounds ---------------------------------------------------------------------------------


def _noise(rng, n):
    return rng.standard_normal(n).astype(np.float32)


def _kick(sr, rng):
    t = np.arange(int(0.35 * sr)) / sr
    freq = 48 + 110 * np.exp(-t / 0.035)
    body = np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t / 0.13)
    click = _noise(rng, len(t)) * np.exp(-t / 0.003) * 0.1
    return (body + click).astype(np.float32)


def _snare(sr, rng):
    t = np.arange(int(0.22 * sr)) / sr
    noise = np.diff(_noise(rng, len(t) + 1)) * 0.5  # first difference: tilts it bright
    tone = np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.04)
    return (noise * np.exp(-t / 0.06) + 0.6 * tone).astype(np.float32)


def _clap(sr, rng):
    t = np.arange(int(0.2 * sr)) / sr
    envelope = np.exp(-t / 0.05)
    for offset in (0.0, 0.011, 0.022):
        envelope = np.maximum(envelope, np.exp(-np.maximum(t - offset, 0) / 0.006) * (t >= offset))
    noise = np.diff(_noise(rng, len(t) + 1)) * 0.5
    return (noise * envelope).astype(np.float32)


def _hat(sr, rng, length):
    t = np.arange(int(length * 4 * sr)) / sr
    noise = np.diff(np.diff(_noise(rng, len(t) + 2))) * 0.25  # second difference: hiss only
    return (noise * np.exp(-t / length)).astype(np.float32)


def _tone(freqs, seconds, sr, *, kind):
    """A note or chord: a few harmonics under an envelope that depends on the instrument.
    Read-only and cached: a track repeats the same notes many times."""
    return _tone_cached(tuple(round(f, 4) for f in freqs), max(1, int(seconds * sr)), sr, kind)


@functools.lru_cache(maxsize=512)
def _tone_cached(freqs, n, sr, kind):
    seconds = n / sr
    t = np.arange(n) / sr
    if kind == "pad":
        harmonics, envelope = (1.0, 0.5, 0.3, 0.15), np.minimum(1.0, t / 0.08)
    elif kind == "piano":
        harmonics, envelope = (1.0, 0.45, 0.25, 0.12, 0.06), np.exp(-t / 0.9)
    elif kind == "stabs":
        harmonics, envelope = (1.0, 0.6, 0.35, 0.2), np.exp(-t / 0.35)
    elif kind == "power":
        harmonics = tuple(1.0 / h for h in range(1, 9))
        envelope = np.exp(-t / 1.5)
    elif kind == "bass":
        harmonics, envelope = (1.0, 0.55, 0.25, 0.1), np.exp(-t / 0.6)
    else:  # lead
        harmonics, envelope = (1.0, 0.35, 0.2, 0.1), np.exp(-t / 0.5)
    attack = np.minimum(1.0, t / 0.006)
    release = np.minimum(1.0, (seconds - t) / 0.02).clip(0.0, 1.0)
    out = np.zeros(n, dtype=np.float64)
    for freq in freqs:
        for h, amplitude in enumerate(harmonics, start=1):
            if freq * h < sr * 0.45:
                out += amplitude * np.sin(2 * np.pi * freq * h * t)
    sound = (out * envelope * attack * release).astype(np.float32)
    sound.flags.writeable = False
    return sound


# --- arrangement ----------------------------------------------------------------------------


class _Track:
    def __init__(self, seconds, sr, bpm, swing, rng):
        self.sr = sr
        self.beat = 60.0 / bpm
        self.swing = float(swing)
        self.rng = rng
        self.length = int(round(seconds * sr))
        self.stems = {}

    def time_of(self, beats: float) -> float:
        """Seconds at a position in beats, off-beats delayed by the swing (a time warp of each
        beat: its first half is stretched to 0.5 + swing / 2 of the beat)."""
        whole, frac = divmod(beats, 1.0)
        split = 0.5 + self.swing / 2
        warped = frac * 2 * split if frac < 0.5 else split + (frac - 0.5) * 2 * (1 - split)
        return (whole + warped) * self.beat

    def add(self, stem, sound, beats, gain=1.0, jitter=0.004):
        start = self.time_of(beats) + self.rng.uniform(-jitter, jitter)
        s = int(round(max(0.0, start) * self.sr))
        if s >= self.length:
            return
        buffer = self.stems.setdefault(stem, np.zeros(self.length, dtype=np.float32))
        end = min(self.length, s + len(sound))
        buffer[s:end] += gain * sound[: end - s]


def _chord_notes(tonic, symbol, mode, style, bar_index):
    root, intervals = CHORDS[symbol]
    if style.sevenths and symbol.lower() not in ("i",) and bar_index % 2 == 1:
        # b7 on minor chords, V and VII (dominant sevenths), major seventh on the others.
        seventh = 10 if intervals != MAJ or symbol in ("V", "VII") else 11
        intervals = (*intervals, seventh)
    base = 48 + (tonic + root) % 12  # C3..B3
    if base < 52:
        base += 12  # keep the voicing around middle C
    return base, [base + i for i in intervals]


def _scale_notes(tonic, mode, low, high):
    scale = MAJOR_SCALE if mode == "major" else MINOR_SCALE
    return [n for n in range(low, high + 1) if (n - tonic) % 12 in scale]


def synthesize(
    *,
    bpm: float = 120.0,
    tonic: int = 0,
    mode: str = "major",
    seconds: float = 30.0,
    seed: int = 0,
    swing: float = 0.0,
    syncopation: bool = False,
    style: str = "pop",
    sample_rate: int = 22050,
    stereo: bool = False,
    progression: tuple | None = None,
) -> np.ndarray:
    """A music-like track (float32, peak -1 dBFS): mono ``(n,)`` or stereo ``(n, 2)``.

    ``tonic`` is a pitch class (0 = C), ``mode`` "major" or "minor", ``swing`` 0..0.33,
    ``style`` one of :data:`STYLES`; ``progression`` (chord symbols of :data:`CHORDS`) overrides
    the one drawn from the mode's typical progressions."""
    if not 30 <= bpm <= 300:
        raise ValueError("bpm must be between 30 and 300")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    if style not in STYLE_SETTINGS:
        raise ValueError(f"style must be one of {STYLES}")
    if not 0 <= swing <= 0.5:
        raise ValueError("swing must be between 0 and 0.5")
    tonic = int(tonic) % 12
    sr = int(sample_rate)
    rng = np.random.default_rng(seed)
    spec = STYLE_SETTINGS[style]
    chords = progression or PROGRESSIONS[mode][int(rng.integers(len(PROGRESSIONS[mode])))]
    track = _Track(seconds, sr, bpm, swing, rng)
    bars = math.ceil(seconds / (4 * track.beat))
    # The last bar heard is the tonic chord: songs end at home.
    symbols = [chords[i % len(chords)] for i in range(bars)]
    symbols[-1] = "I" if mode == "major" else "i"

    kick, snare, clap = _kick(sr, rng), _snare(sr, rng), _clap(sr, rng)
    closed, opened = _hat(sr, rng, 0.025), _hat(sr, rng, 0.12)
    for bar in range(bars):
        start = bar * 4
        for position in spec.kicks:
            track.add("kick", kick, start + position, 1.0 if position % 1 == 0 else 0.8)
        if syncopation:
            extra = (1.5, 3.75) if bar % 2 == 0 else (2.75,)
            for position in extra:
                if position not in spec.kicks:
                    track.add("kick", kick, start + position, 0.7)
        hit = clap if style == "electronic" else snare
        for position in spec.snare:
            track.add("snare", hit, start + position, 0.8 if style == "ballad" else 1.0)
        if bar % 4 == 3 and style in ("rock", "pop"):  # a short fill into the next phrase
            for position in (3.5, 3.75):
                track.add("snare", snare, start + position, 0.6)
        if spec.hats == "16":
            steps = [i / 4 for i in range(16)]
        elif spec.hats == "4":
            steps = [0, 1, 2, 3]
        elif spec.hats == "off":
            steps = [i / 4 for i in range(16)]
        else:
            steps = [i / 2 for i in range(8)]
        for position in steps:
            accent = 1.0 if position % 1 == 0 else 0.7
            if spec.hats == "off" and position % 1 == 0.5:
                track.add("hats", opened, start + position, 0.8)
            else:
                track.add("hats", closed, start + position, accent * rng.uniform(0.6, 1.0))

    # Chords and bass. A syncopated arrangement pushes each change an eighth before the bar.
    previous_melody = 72 + tonic if tonic < 6 else 60 + tonic
    scale = _scale_notes(tonic, mode, 62, 86)
    for bar, symbol in enumerate(symbols):
        base, notes = _chord_notes(tonic, symbol, mode, spec, bar)
        push = 0.5 if syncopation and bar > 0 else 0.0
        start = bar * 4 - push
        length = track.beat * (4 + push)
        if spec.chords == "pad":
            track.add("chords", _tone([midi_hz(n) for n in notes], length, sr, kind="pad"), start)
        elif spec.chords == "piano":
            track.add("chords", _tone([midi_hz(n) for n in notes], length, sr, kind="piano"), start)
            for k, note in enumerate(notes * 2):  # an arpeggio over the held chord
                track.add(
                    "chords",
                    _tone([midi_hz(note + 12)], track.beat, sr, kind="piano"),
                    bar * 4 + k / 2,
                    0.3,
                )
        elif spec.chords == "power":
            power = [base, base + 7, base + 12, notes[1]]
            for position in range(0, 8):
                track.add(
                    "chords",
                    _tone([midi_hz(n) for n in power], track.beat / 2, sr, kind="power"),
                    bar * 4 + position / 2,
                    0.6,
                )
        else:
            for position in (0, 1.5, 2.5) if syncopation else (0, 1, 2, 3):
                track.add(
                    "chords",
                    _tone([midi_hz(n) for n in notes], track.beat * 0.9, sr, kind="stabs"),
                    bar * 4 + position,
                )

        root = 36 + (base % 12)
        fifth = root + 7
        nxt = 36 + (tonic + CHORDS[symbols[min(bar + 1, bars - 1)]][0]) % 12
        if spec.bass == "eighths":
            pattern = [
                (i / 2, root if i < 7 else (root + 12 if i % 2 else root), 0.5) for i in range(8)
            ]
        elif spec.bass == "offbeat":
            pattern = [(i + 0.5, root + (12 if i % 2 else 0), 0.45) for i in range(4)]
            pattern.insert(0, (0, root, 0.45))
        elif spec.bass == "walk":
            approach = nxt - 1 if nxt > root else nxt + 1
            pattern = [
                (0, root, 1.5),
                (1.5, root, 0.5),
                (2, fifth, 1.0),
                (3, root + 12, 0.5),
                (3.5, approach, 0.5),
            ]
        else:
            pattern = [(0, root, 2.0), (2, fifth, 1.0), (3, root, 1.0)]
        for position, note, beats in pattern:
            at = bar * 4 + position - (push if position == 0 else 0.0)
            track.add(
                "bass",
                _tone(
                    [midi_hz(note)],
                    track.beat * beats * (1 + (push if position == 0 else 0)),
                    sr,
                    kind="bass",
                ),
                at,
                0.9,
            )

        # Melody: eighth-note slots, strong ones take chord tones, the last bar ends on the tonic.
        chord_pcs = {n % 12 for n in notes}
        slot = 0
        while slot < 8:
            final = bar == bars - 1
            strong = slot % 2 == 0
            if not final and rng.random() > (spec.melody_density + (0.25 if slot == 0 else 0.0)):
                slot += 1
                continue
            candidates = [n for n in scale if abs(n - previous_melody) <= (7 if strong else 3)]
            if strong or final:
                fitting = [n for n in candidates if n % 12 in chord_pcs] or candidates
                candidates = fitting
            if final or (bar % 4 == 3 and slot >= 6):
                candidates = [n for n in scale if n % 12 == tonic] or candidates
            if symbol == "V" and mode == "minor":
                candidates = [n + 1 if (n - tonic) % 12 == 10 else n for n in candidates]
            note = (
                int(candidates[int(rng.integers(len(candidates)))])
                if candidates
                else previous_melody
            )
            beats = 2.0 if final else (1.0 if strong and rng.random() < 0.5 else 0.5)
            if syncopation and not strong and rng.random() < 0.4:
                beats = 1.0  # an off-beat note held across the beat
            track.add(
                "melody",
                _tone([midi_hz(note)], track.beat * beats, sr, kind="lead"),
                bar * 4 + slot / 2,
                0.8,
            )
            previous_melody = note
            slot += int(beats * 2)
            if final:
                break

    levels = {"kick": 0.9, "snare": 0.5, "hats": 0.22, "bass": 0.35, "chords": 0.18, "melody": 0.3}
    if style == "ballad":
        levels.update(kick=0.6, snare=0.3, hats=0.12, chords=0.25)
    elif style == "electronic":
        levels.update(hats=0.18, chords=0.14)
    pans = {"kick": 0.0, "snare": 0.1, "hats": 0.4, "bass": 0.0, "chords": -0.3, "melody": 0.2}
    left = np.zeros(track.length, dtype=np.float32)
    right = np.zeros(track.length, dtype=np.float32)
    for name, stem in track.stems.items():
        pan = pans[name]
        left += levels[name] * math.sqrt((1 - pan) / 2) * 1.41 * stem
        right += levels[name] * math.sqrt((1 + pan) / 2) * 1.41 * stem
    mix = np.stack([left, right], axis=1)
    if spec.noise:
        mix += spec.noise * rng.standard_normal(mix.shape).astype(np.float32)
    if spec.low_pass_hz and spec.low_pass_hz < sr / 2:
        b, a = butter(2, spec.low_pass_hz / (sr / 2))
        mix = lfilter(b, a, mix, axis=0).astype(np.float32)
    fade = min(len(mix), int(0.5 * sr))
    mix[len(mix) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    peak = float(np.abs(mix).max()) or 1.0
    mix = (mix * (0.89 / peak)).astype(np.float32)
    if stereo:
        return mix
    return np.ascontiguousarray(mix.mean(axis=1), dtype=np.float32)


def key_name(tonic: int, mode: str) -> str:
    """ "A minor", "C# major": how the analyser and people name a key."""
    return f"{PITCHES[int(tonic) % 12]} {mode}"


def write_audio(path, samples: np.ndarray, sample_rate: int, *, bitrate: str = "192k"):
    """Write ``samples`` to ``path``: WAV (16-bit) or FLAC by soundfile, anything else (MP3, M4A,
    OGG...) by ffmpeg, chosen by the file's extension. Returns the path."""
    path = os.fspath(path)
    extension = os.path.splitext(path)[1].lower()
    if extension in (".wav", ".flac"):
        sf.write(path, samples, sample_rate, subtype="PCM_16")
        return path
    codecs = {".mp3": "libmp3lame", ".m4a": "aac", ".ogg": "libvorbis", ".opus": "libopus"}
    if extension not in codecs:
        raise ValueError(f"cannot write {extension or 'files without an extension'}")
    with tempfile.TemporaryDirectory() as folder:
        wav = os.path.join(folder, "track.wav")
        sf.write(wav, samples, sample_rate, subtype="PCM_16")
        try:
            ffmpeg(
                "-v",
                "error",
                "-i",
                wav,
                "-c:a",
                codecs[extension],
                "-b:a",
                bitrate,
                path,
                what="encode the synthesised track",
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError("ffmpeg took too long to encode the track") from None
    return path
