"""Quality checks: turning measurements (``audio.measure``) into verdicts people can act on.

Source checks run for every asset. For deliveries a failed check blocks the asset; for catalog
songs and previews the same findings are only warnings.
"""

from dataclasses import asdict, dataclass

from audio import conf

PASSED, WARNING, FAILED = "passed", "warning", "failed"


@dataclass
class Check:
    name: str
    status: str
    measured: float | None
    threshold: float | None
    unit: str
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


def _verdict(ok: bool, blocking: bool) -> str:
    if ok:
        return PASSED
    return FAILED if blocking else WARNING


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def source_checks(measurements: dict, *, blocking: bool) -> list[Check]:
    """Checks of the original as uploaded: sample rate, clipping, silence at the edges, level."""
    checks = []

    min_rate = int(conf.get("AUDIO_QC_MIN_SAMPLE_RATE"))
    rate = int(measurements.get("sample_rate") or 0)
    ok = rate >= min_rate
    message = (
        f"Sample rate {rate} Hz."
        if ok
        else f"The sample rate is {rate} Hz; at least {min_rate} Hz is needed. "
        "Export the track at 44.1 kHz or higher."
    )
    checks.append(Check("sample_rate", _verdict(ok, blocking), rate, min_rate, "Hz", message))

    max_runs = int(conf.get("AUDIO_QC_MAX_CLIPPED_RUNS"))
    runs = int(measurements.get("clipped_runs") or 0)
    ok = runs <= max_runs
    if not runs:
        message = "No clipping."
    elif ok:
        message = f"Clipping in {runs} place(s), within the tolerance."
    else:
        message = (
            f"The audio clips in {runs} places (three or more samples in a row at full "
            "scale). Lower the level before the final limiter and export again."
        )
    checks.append(Check("clipping", _verdict(ok, blocking), runs, max_runs, "runs", message))

    max_silence = float(conf.get("AUDIO_QC_MAX_EDGE_SILENCE_SECONDS"))
    for name, verb, edge in (
        ("leading_silence", "starts", "start"),
        ("trailing_silence", "ends", "end"),
    ):
        seconds = float(measurements.get(name) or 0.0)
        ok = seconds <= max_silence
        message = (
            f"{_seconds(seconds)} of digital silence at the {edge}."
            if ok
            else f"The track {verb} with {_seconds(seconds)} of digital silence; at most "
            f"{_seconds(max_silence)} is allowed. Trim the {edge}."
        )
        checks.append(
            Check(name, _verdict(ok, blocking), round(seconds, 3), max_silence, "s", message)
        )

    min_lufs = float(conf.get("AUDIO_QC_MIN_SOURCE_LUFS"))
    lufs = measurements.get("integrated_lufs")
    ok = lufs is not None and lufs >= min_lufs
    if lufs is None:
        message = "The recording is silent (no measurable loudness)."
    elif ok:
        message = f"Integrated loudness {lufs:.1f} LUFS."
    else:
        message = (
            f"The recording is too quiet ({lufs:.1f} LUFS; at least {min_lufs:.0f} LUFS is "
            "needed). Raising it to the delivery level would also raise its noise; export it "
            "louder."
        )
    checks.append(Check("loudness", _verdict(ok, blocking), lufs, min_lufs, "LUFS", message))
    return checks


FORMAT_LABELS = {"delivery_wav": "WAV", "delivery_mp3": "MP3", "delivery_flac": "FLAC"}
LOSSLESS = ("delivery_wav", "delivery_flac")


def delivery_checks(
    by_kind: dict[str, dict], *, lossless_identical: bool | None = None
) -> list[Check]:
    """Checks of the normalised delivery set, ``{rendition kind: measurements}``;
    ``lossless_identical``: whether the FLAC decodes to exactly the WAV's samples."""
    target = float(conf.get("AUDIO_DELIVERY_TARGET_LUFS"))
    tolerance = float(conf.get("AUDIO_DELIVERY_LOUDNESS_TOLERANCE_LU"))
    ceiling = float(conf.get("AUDIO_DELIVERY_TRUE_PEAK_DBTP"))
    duration_tolerance = float(conf.get("AUDIO_QC_DURATION_TOLERANCE_SECONDS"))
    checks = []

    readings, worst = [], 0.0
    for kind, m in by_kind.items():
        lufs = m.get("integrated_lufs")
        deviation = abs(lufs - target) if lufs is not None else float("inf")
        worst = max(worst, deviation)
        readings.append(
            f"{FORMAT_LABELS.get(kind, kind)} {lufs:.1f} LUFS"
            if lufs is not None
            else f"{FORMAT_LABELS.get(kind, kind)} silent"
        )
    ok = worst <= tolerance
    checks.append(
        Check(
            "normalised_loudness",
            PASSED if ok else FAILED,
            round(worst, 2) if worst != float("inf") else None,
            tolerance,
            "LU",
            f"{', '.join(readings)} (target {target:g} LUFS, within {tolerance:g} LU)."
            if ok
            else f"After normalisation the loudness is off target: {', '.join(readings)} "
            f"(needed: {target:g} LUFS within {tolerance:g} LU).",
        )
    )

    peaks = {kind: m.get("true_peak_dbtp") for kind, m in by_kind.items()}
    lossless_peak = max(
        (p for k, p in peaks.items() if k in LOSSLESS and p is not None), default=None
    )
    lossy_peak = max(
        (p for k, p in peaks.items() if k not in LOSSLESS and p is not None), default=None
    )
    highest = max((p for p in (lossless_peak, lossy_peak) if p is not None), default=None)
    readings = ", ".join(
        f"{FORMAT_LABELS.get(k, k)} {p:.1f} dBTP" for k, p in peaks.items() if p is not None
    )
    if lossless_peak is not None and lossless_peak > ceiling:
        status = FAILED
        message = f"The true peak is above {ceiling:g} dBTP: {readings}."
    elif lossy_peak is not None and lossy_peak > ceiling:
        status = WARNING
        message = (
            f"The MP3's encoding overshoots the {ceiling:g} dBTP ceiling slightly: {readings}."
        )
    else:
        status = PASSED
        message = f"True peak within {ceiling:g} dBTP: {readings}."
    checks.append(Check("true_peak", status, highest, ceiling, "dBTP", message))

    durations = {kind: m.get("duration") or 0.0 for kind, m in by_kind.items()}
    spread = max(durations.values()) - min(durations.values()) if durations else 0.0
    ok = spread <= duration_tolerance
    readings = ", ".join(f"{FORMAT_LABELS.get(k, k)} {d:.3f} s" for k, d in durations.items())
    checks.append(
        Check(
            "duration_match",
            PASSED if ok else FAILED,
            round(spread, 4),
            duration_tolerance,
            "s",
            f"Durations agree: {readings}."
            if ok
            else f"The formats differ in length by {spread:.2f} s ({readings}).",
        )
    )
    if lossless_identical is not None:
        checks.append(
            Check(
                "lossless_match",
                PASSED if lossless_identical else FAILED,
                1.0 if lossless_identical else 0.0,
                1.0,
                "",
                "The FLAC decodes to exactly the WAV's samples."
                if lossless_identical
                else "The FLAC does not decode to the same samples as the WAV.",
            )
        )
    return checks


def overall(checks: list[Check]) -> str:
    statuses = {check.status for check in checks}
    if FAILED in statuses:
        return FAILED
    if WARNING in statuses:
        return WARNING
    return PASSED


def failure_reason(checks: list[Check], *, stage: str) -> str:
    problems = [check.message for check in checks if check.status == FAILED]
    heading = (
        "The delivery is blocked by its quality checks"
        if stage == "delivery"
        else ("The recording did not pass the delivery quality checks")
    )
    return f"{heading}: " + " ".join(problems)
