"""Audio synthesised for the tests (no binary fixtures): tones, chords, click tracks, keys."""

import subprocess

import numpy as np
import soundfile as sf
from scipy.signal import butter, lfilter

from audio.ffmpeg import ffmpeg_binary

PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")


def seconds_of(samples, sr):
    return len(samples) / sr


def sine(freq, seconds, *, sr=44100, amplitude=0.5, phase=0.0):
    t = np.arange(int(round(seconds * sr))) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


def stereo(mono, right_gain=0.9):
    return np.stack([mono, mono * right_gain], axis=1).astype(np.float32)


def harmonic_tone(freq, seconds, *, sr=44100, harmonics=(1.0, 0.5, 0.25), decay=1.5):
    t = np.arange(int(round(seconds * sr))) / sr
    y = sum(
        a * np.sin(2 * np.pi * freq * (h + 1) * t)
        for h, a in enumerate(harmonics)
        if freq * (h + 1) < sr / 2
    )
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-t * decay)
    return (y * envelope).astype(np.float32)


def midi_hz(note):
    return 440.0 * 2 ** ((note - 69) / 12)


def chord(root, intervals, seconds, *, sr=44100):
    return sum(harmonic_tone(midi_hz(root + i), seconds, sr=sr) for i in intervals)


def key_progression(tonic, minor, *, sr=22050, beat=0.8):
    """I-IV-V7-I (i-iv-V7-i in harmonic minor), the tonic held, then the scale: unambiguous."""
    base = 48 + tonic
    third = [0, 3, 7] if minor else [0, 4, 7]
    chords = [(0, third), (5, third), (7, [0, 4, 7, 10]), (0, third)]
    parts = [chord(base + root, intervals, beat, sr=sr) for root, intervals in chords]
    parts.append(chord(base, third, beat * 2, sr=sr))
    steps = [0, 2, 3, 5, 7, 8, 11, 12] if minor else [0, 2, 4, 5, 7, 9, 11, 12]
    parts += [harmonic_tone(midi_hz(base + 12 + s), 0.25, sr=sr) for s in steps]
    y = np.concatenate(parts)
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def click_track(bpm, seconds, *, sr=22050, start=0.1):
    """Short decaying 1 kHz clicks at a steady tempo."""
    y = np.zeros(int(sr * seconds), dtype=np.float32)
    n = int(0.02 * sr)
    t = np.arange(n) / sr
    click = (0.6 * np.sin(2 * np.pi * 1000 * t) * np.exp(-t * 200)).astype(np.float32)
    period = 60.0 / bpm
    k = 0
    while True:
        s = int(round((start + k * period) * sr))
        if s + n > len(y):
            break
        y[s : s + n] += click
        k += 1
    return y


def music(seconds, *, sr=44100, bpm=100, seed=0):
    """Something song-like: a chord progression with a bass note and soft noise-burst drums,
    kept below 900 Hz apart from the drums so a 1 kHz watermark stands out."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    progression = [(48, [0, 4, 7]), (53, [0, 4, 7]), (55, [0, 4, 7]), (45, [0, 3, 7])]
    parts, total = [], 0.0
    index = 0
    while total < seconds:
        root, intervals = progression[index % len(progression)]
        length = beat * 4
        y = sum(
            harmonic_tone(midi_hz(root + i), length, sr=sr, harmonics=(1.0, 0.3), decay=0.4)
            for i in intervals
        )
        y = y + 0.8 * harmonic_tone(
            midi_hz(root - 12), length, sr=sr, harmonics=(1.0, 0.2), decay=0.3
        )
        parts.append(y)
        total += length
        index += 1
    y = np.concatenate(parts)[: int(seconds * sr)]
    drums = np.zeros_like(y)
    hit = (
        rng.normal(0, 1, int(0.03 * sr)) * np.exp(-np.arange(int(0.03 * sr)) / (0.006 * sr))
    ).astype(np.float32)
    b, a = butter(2, 300 / (sr / 2))
    hit = lfilter(b, a, hit).astype(np.float32)
    for k in range(int(seconds / beat)):
        s = int(k * beat * sr)
        drums[s : s + len(hit)] += hit[: len(drums) - s] * 1.5
    y = y + drums
    y = 0.5 * y / np.abs(y).max()
    return stereo(y.astype(np.float32))


def write_wav(path, samples, sr, subtype="PCM_16"):
    sf.write(str(path), samples, sr, subtype=subtype)
    return path


def ffmpeg_encode(source, target, *args):
    subprocess.run(
        [ffmpeg_binary(), "-nostdin", "-v", "error", "-y", "-i", str(source), *args, str(target)],
        check=True,
    )
    return target
