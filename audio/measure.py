"""Signal measurements for quality checks: loudness (ITU-R BS.1770-4 / EBU R128), true peak,
clipping and digital silence, computed while the audio streams through (constant memory).

Loudness: each channel is K-weighted (a high-shelf "head" filter then a high-pass, the two
biquads of BS.1770 recomputed for the actual sample rate), mean squares are kept per 100 ms,
400 ms blocks overlap by 75 %, blocks below -70 LUFS are dropped (absolute gate), then those
10 LU below the mean of the rest (relative gate); what is left is the integrated loudness.
Loudness range follows EBU Tech 3342 (3 s windows, -20 LU gate, 10th to 95th percentile).

True peak: the signal is oversampled 4x (2x at 88.2/96 kHz) with a windowed-sinc FIR, as in
BS.1770 Annex 2, and the largest absolute value is reported in dBTP.

True peak is optional (``true_peak=False``) where no check uses it: it is the costliest part.

Clipping: a run of at least three consecutive samples at or beyond 0.999 of full scale on one
channel counts once. Digital silence: every channel within one 16-bit step (2^-15) of zero.
"""

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import signal

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
SILENCE_LEVEL = 2.0**-15
CLIP_LEVEL = 0.999
CLIP_RUN = 3


def k_weighting_sos(sample_rate: int) -> np.ndarray:
    """The two BS.1770 pre-filter stages as second-order sections for ``sample_rate``.

    The design (bilinear transform of the analogue prototypes, as in libebur128) reproduces
    the coefficients tabulated in BS.1770 at 48 kHz and extends them to any rate.
    """
    # Stage 1: high shelf (+4 dB above ~1.7 kHz), modelling the head.
    f0, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / sample_rate)
    vh = 10 ** (gain_db / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    shelf = [
        (vh + vb * k / q + k * k) / a0,
        2 * (k * k - vh) / a0,
        (vh - vb * k / q + k * k) / a0,
        1.0,
        2 * (k * k - 1) / a0,
        (1 - k / q + k * k) / a0,
    ]
    # Stage 2: RLB high-pass at ~38 Hz.
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / sample_rate)
    a0 = 1 + k / q + k * k
    highpass = [1.0, -2.0, 1.0, 1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    return np.array([shelf, highpass])


def _lufs(power: float) -> float:
    return -0.691 + 10 * math.log10(power) if power > 0 else float("-inf")


def _db(value: float) -> float:
    return 20 * math.log10(value) if value > 0 else float("-inf")


@dataclass
class Measurements:
    sample_rate: int
    channels: int
    frames: int
    duration: float
    integrated_lufs: float | None  # None: too short or silent (below the absolute gate)
    loudness_range_lu: float | None
    true_peak_dbtp: float | None
    sample_peak_dbfs: float | None
    clipped_runs: int
    clipped_samples: int
    leading_silence: float  # seconds of digital silence at the start
    trailing_silence: float  # ... and at the end

    def as_dict(self) -> dict:
        return asdict(self)


class SignalMeter:
    """Feed float blocks ``(n, channels)`` in order with :meth:`feed`, then call :meth:`result`."""

    def __init__(self, sample_rate: int, channels: int, *, true_peak: bool = True):
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self._sos = k_weighting_sos(self.sample_rate)
        self._zi = np.zeros((self._sos.shape[0], 2, self.channels))
        self._block = max(1, int(round(self.sample_rate * 0.1)))  # 100 ms
        self._partial_sum = np.zeros(self.channels)
        self._partial_count = 0
        self._powers: list[float] = []  # channel-summed mean square per 100 ms
        # true peak
        self._true_peak_enabled = true_peak
        self._factor = 4 if self.sample_rate < 88200 else 2 if self.sample_rate < 176400 else 1
        if self._factor > 1:
            taps = 12 * self._factor
            self._fir = (
                signal.firwin(taps, 1.0 / self._factor, window=("kaiser", 6.0)) * self._factor
            )
            self._context = int(math.ceil(len(self._fir) / self._factor)) + 1
            self._tail = np.zeros((self._context, self.channels), dtype=np.float32)
        self._true_peak = 0.0
        self._sample_peak = 0.0
        # clipping
        self._clip_carry = np.zeros(self.channels, dtype=np.int64)
        self.clipped_runs = 0
        self.clipped_samples = 0
        # silence
        self.frames = 0
        self._first_sound: int | None = None
        self._last_sound: int | None = None

    # -- feeding -----------------------------------------------------------------------------

    def feed(self, block: np.ndarray) -> None:
        block = np.asarray(block, dtype=np.float32)
        if block.ndim == 1:
            block = block[:, None]
        if not len(block):
            return
        self._feed_loudness(block)
        if self._true_peak_enabled:
            self._feed_true_peak(block)
        self._feed_clipping(block)
        self._feed_silence(block)
        self._sample_peak = max(self._sample_peak, float(np.abs(block).max()))
        self.frames += len(block)

    def _feed_loudness(self, block):
        weighted, self._zi = signal.sosfilt(
            self._sos, block.astype(np.float64), axis=0, zi=self._zi
        )
        squares = weighted * weighted
        position = 0
        total = len(squares)
        while position < total:
            take = min(self._block - self._partial_count, total - position)
            self._partial_sum += squares[position : position + take].sum(axis=0)
            self._partial_count += take
            position += take
            if self._partial_count == self._block:
                # BS.1770 channel weights are 1.0 for left/right/centre (we meter at most stereo).
                self._powers.append(float((self._partial_sum / self._block).sum()))
                self._partial_sum[:] = 0
                self._partial_count = 0

    def _feed_true_peak(self, block):
        if self._factor == 1:
            self._true_peak = max(self._true_peak, float(np.abs(block).max()))
            return
        extended = np.concatenate([self._tail, block])
        upsampled = signal.upfirdn(self._fir, extended, up=self._factor, axis=0)
        start = self._context * self._factor
        valid = upsampled[start : start + len(block) * self._factor]
        if len(valid):
            self._true_peak = max(self._true_peak, float(np.abs(valid).max()))
        self._tail = extended[-self._context :]

    def _feed_clipping(self, block):
        clipped = np.abs(block) >= CLIP_LEVEL
        self.clipped_samples += int(clipped.sum())
        for channel in range(self.channels):
            mask = clipped[:, channel]
            carry = int(self._clip_carry[channel])
            if not mask.any():
                if carry >= CLIP_RUN:
                    self.clipped_runs += 1
                self._clip_carry[channel] = 0
                continue
            edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
            starts = np.flatnonzero(edges == 1)
            ends = np.flatnonzero(edges == -1)
            lengths = ends - starts
            if carry:
                if mask[0]:
                    lengths[0] += carry
                elif carry >= CLIP_RUN:
                    self.clipped_runs += 1
            if mask[-1]:
                self._clip_carry[channel] = lengths[-1]
                lengths = lengths[:-1]
            else:
                self._clip_carry[channel] = 0
            self.clipped_runs += int((lengths >= CLIP_RUN).sum())

    def _feed_silence(self, block):
        loud = np.flatnonzero(np.abs(block).max(axis=1) > SILENCE_LEVEL)
        if len(loud):
            if self._first_sound is None:
                self._first_sound = self.frames + int(loud[0])
            self._last_sound = self.frames + int(loud[-1])

    # -- results -----------------------------------------------------------------------------

    def _integrated(self) -> tuple[float | None, float | None]:
        powers = np.asarray(self._powers)
        if len(powers) < 4:
            return None, None
        blocks = np.convolve(powers, np.ones(4) / 4, mode="valid")  # 400 ms, 75 % overlap
        with np.errstate(divide="ignore"):
            loudness = -0.691 + 10 * np.log10(blocks)
        gated = blocks[loudness > ABSOLUTE_GATE_LUFS]
        if not len(gated):
            return None, None
        relative = _lufs(float(gated.mean())) + RELATIVE_GATE_LU
        final = blocks[(loudness > ABSOLUTE_GATE_LUFS) & (loudness > relative)]
        integrated = _lufs(float(final.mean())) if len(final) else None
        # Loudness range: 3 s short-term windows every 100 ms (EBU Tech 3342).
        lra = None
        if len(powers) >= 30:
            short = np.convolve(powers, np.ones(30) / 30, mode="valid")
            with np.errstate(divide="ignore"):
                short_lufs = -0.691 + 10 * np.log10(short)
            kept = short[short_lufs > ABSOLUTE_GATE_LUFS]
            if len(kept):
                gate = _lufs(float(kept.mean())) - 20.0
                values = short_lufs[(short_lufs > ABSOLUTE_GATE_LUFS) & (short_lufs > gate)]
                if len(values):
                    lra = float(np.percentile(values, 95) - np.percentile(values, 10))
        return integrated, lra

    def result(self) -> Measurements:
        if self._true_peak_enabled and self._factor > 1 and self.frames:
            self._feed_true_peak(np.zeros((self._context, self.channels), dtype=np.float32))
        for carry in self._clip_carry:
            if carry >= CLIP_RUN:
                self.clipped_runs += 1
        self._clip_carry[:] = 0
        integrated, lra = self._integrated()
        duration = self.frames / self.sample_rate if self.sample_rate else 0.0
        if self._first_sound is None:
            leading = trailing = duration
        else:
            leading = self._first_sound / self.sample_rate
            trailing = (self.frames - 1 - self._last_sound) / self.sample_rate
        return Measurements(
            sample_rate=self.sample_rate,
            channels=self.channels,
            frames=self.frames,
            duration=duration,
            integrated_lufs=round(integrated, 2) if integrated is not None else None,
            loudness_range_lu=round(lra, 2) if lra is not None else None,
            true_peak_dbtp=round(_db(self._true_peak), 2)
            if self._true_peak > 0 and self._true_peak_enabled
            else None,
            sample_peak_dbfs=round(_db(self._sample_peak), 2) if self._sample_peak > 0 else None,
            clipped_runs=int(self.clipped_runs),
            clipped_samples=int(self.clipped_samples),
            leading_silence=round(leading, 3),
            trailing_silence=round(trailing, 3),
        )


def measure_array(samples: np.ndarray, sample_rate: int) -> Measurements:
    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim == 1:
        samples = samples[:, None]
    meter = SignalMeter(sample_rate, samples.shape[1])
    for start in range(0, len(samples), 1 << 16):  # blocks keep the oversampling cache-friendly
        meter.feed(samples[start : start + (1 << 16)])
    return meter.result()


def integrated_loudness(samples: np.ndarray, sample_rate: int) -> float | None:
    return measure_array(samples, sample_rate).integrated_lufs
