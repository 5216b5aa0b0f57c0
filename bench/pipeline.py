"""Media pipeline benchmark: a synthesised 3-minute track through the catalog ingest and the
delivery set, against the bare ffmpeg/librosa work that makes the same outputs.

    .venv/bin/python bench/pipeline.py [--seconds 180] [--repeat 1]

It sets Django up by itself: a temporary MEDIA_ROOT and SQLite database (tables made from the
models), eager Celery (the chain runs inline, as a worker would run it), no services needed.

Printed figures:
- pipeline: upload validation + storage + probe/QC metering + analysis + renditions + delivery
  checks + database writes, for two uploads of the track (catalog, then delivery);
- bare: the same ffmpeg commands and the same librosa analysis called directly on the file;
- ratio = pipeline / bare (target <= 1.3);
- cpu time: the same comparison in CPU seconds (this process and its ffmpeg children), which
  other load on the machine hardly moves;
- warm analysis: librosa on the 120 s window once numba is warm (target <= 5 s).
"""

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORK = Path(tempfile.mkdtemp(prefix="encore-bench-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
os.environ["MEDIA_ROOT"] = str(WORK / "media")
os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'bench.sqlite3'}"
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
os.environ.pop("REDIS_URL", None)
os.environ.pop("AWS_STORAGE_BUCKET_NAME", None)
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.files import File  # noqa: E402
from django.core.management import call_command  # noqa: E402


class _NoMigrations(dict):
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


def _database() -> None:
    """Tables straight from the models: the benchmark does not depend on migration history."""
    settings.MIGRATION_MODULES = _NoMigrations()
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)


def synthesise(path: Path, seconds: float, sr: int = 44100) -> Path:
    """A song-like stereo track: chords with harmonics, a bass line, noise-burst drums at
    110 BPM, a hi-hat, and slow level changes between sections."""
    rng = np.random.default_rng(2024)
    t_beat = 60.0 / 110
    total = int(seconds * sr)
    out = np.zeros(total, dtype=np.float32)
    chords = [(57, (0, 3, 7)), (53, (0, 4, 7)), (48, (0, 4, 7)), (55, (0, 4, 7))]
    bar = int(4 * t_beat * sr)
    t = np.arange(bar) / sr
    envelope = np.exp(-t * 0.6)
    for index, start in enumerate(range(0, total, bar)):
        root, intervals = chords[index % len(chords)]
        block = np.zeros(bar, dtype=np.float64)
        for interval in intervals:
            f = 440.0 * 2 ** ((root + interval - 69) / 12)
            block += sum(
                a * np.sin(2 * np.pi * f * h * t) for h, a in ((1, 1.0), (2, 0.4), (3, 0.2))
            )
        bass = 440.0 * 2 ** ((root - 12 - 69) / 12)
        block += 0.9 * np.sin(2 * np.pi * bass * t)
        block *= envelope
        end = min(total, start + bar)
        out[start:end] += block[: end - start].astype(np.float32) * (0.6 + 0.3 * np.sin(index / 5))
    kick = np.sin(2 * np.pi * 60 * np.arange(int(0.12 * sr)) / sr) * np.exp(
        -np.arange(int(0.12 * sr)) / (0.03 * sr)
    )
    hat = rng.normal(0, 0.3, int(0.03 * sr)) * np.exp(-np.arange(int(0.03 * sr)) / (0.005 * sr))
    for k in range(int(seconds / t_beat * 2)):
        s = int(k * t_beat / 2 * sr)
        if k % 2 == 0:
            e = min(total, s + len(kick))
            out[s:e] += 2.0 * kick[: e - s].astype(np.float32)
        e = min(total, s + len(hat))
        out[s:e] += hat[: e - s].astype(np.float32)
    out = 0.8 * out / np.abs(out).max()
    stereo = np.stack([out, np.roll(out, 90) * 0.92], axis=1)
    sf.write(str(path), stereo, sr, subtype="PCM_16")
    return path


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg): unlike wall time, barely
    moved by other load on the machine."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def bare_work(src: Path, scratch: Path) -> dict:
    """The ffmpeg and librosa work behind the same outputs, with nothing around it."""
    from audio import analysis, conf, transcode
    from audio.ffmpeg import probe

    timings = {}
    scratch.mkdir(parents=True, exist_ok=True)
    duration = probe(src, demuxer="wav").duration
    cpu_started = cpu_seconds()

    started = time.perf_counter()
    analysis.analyse_file(src, demuxer="wav", duration=duration)
    timings["analysis"] = time.perf_counter() - started

    started = time.perf_counter()
    transcode.mp3_ladder(
        src,
        demuxer="wav",
        outputs={k: str(scratch / f"{k}.mp3") for k in (96, 160, 320)},
        channels=2,
    )
    hls = scratch / "hls"
    hls.mkdir()
    transcode.hls_ladder(
        src,
        demuxer="wav",
        directory=str(hls),
        bitrates=[int(b) for b in conf.get("AUDIO_HLS_BITRATES_KBPS")],
        segment_seconds=float(conf.get("AUDIO_HLS_SEGMENT_SECONDS")),
        channels=2,
    )
    transcode.flac(src, demuxer="wav", out=str(scratch / "lossless.flac"), channels=2)
    timings["catalog renditions"] = time.perf_counter() - started

    started = time.perf_counter()
    target, ceiling = transcode.loudnorm_targets()
    measured = transcode.loudnorm_measure(src, demuxer="wav", target=target, true_peak=ceiling)
    wav = scratch / "delivery.wav"
    transcode.loudnorm_apply(
        src,
        demuxer="wav",
        out_wav=str(wav),
        measured=measured,
        target=target,
        true_peak=ceiling,
        channels=2,
    )
    transcode.delivery_encodes(
        wav, mp3_out=str(scratch / "delivery.mp3"), flac_out=str(scratch / "delivery.flac")
    )
    timings["delivery set"] = time.perf_counter() - started
    timings["total"] = sum(timings.values())
    timings["cpu"] = cpu_seconds() - cpu_started
    return timings


def pipeline_work(src: Path, owner) -> dict:
    from audio.models import AudioAsset
    from audio.services import audio_asset_create

    timings = {}
    cpu_started = cpu_seconds()
    for purpose in ("catalog", "delivery"):
        started = time.perf_counter()
        with open(src, "rb") as handle:
            asset = audio_asset_create(
                owner=owner, upload=File(handle, name="track.wav"), purpose=purpose
            )
        asset.refresh_from_db()
        timings[purpose] = time.perf_counter() - started
        if asset.status != AudioAsset.Status.READY:
            raise SystemExit(f"{purpose} asset ended {asset.status}: {asset.failure_reason}")
        for step in asset.steps.order_by("started_at"):
            timings[f"{purpose}: {step.step}"] = (
                step.finished_at - step.started_at
            ).total_seconds()
    timings["total"] = timings["catalog"] + timings["delivery"]
    timings["cpu"] = cpu_seconds() - cpu_started
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument(
        "--repeat", type=int, default=1, help="Runs of each side; medians are printed."
    )
    args = parser.parse_args()

    from audio import analysis
    from audio.ffmpeg import ffmpeg_binary, ffprobe_binary

    _database()
    from accounts.models import User

    owner = User.objects.create_user(email="bench@example.com", password=None, display_name="Bench")
    src = synthesise(WORK / "track.wav", args.seconds)
    print(f"ffmpeg: {ffmpeg_binary()}  ffprobe: {ffprobe_binary() or '(none: ffmpeg fallback)'}")
    print(
        f"track: {args.seconds:.0f} s stereo 44.1 kHz 16-bit WAV, {src.stat().st_size / 1e6:.1f} MB"
    )

    started = time.perf_counter()
    analysis.warm_up()
    print(
        f"numba warm-up: {time.perf_counter() - started:.1f} s "
        f"(NUMBA_CACHE_DIR={os.environ.get('NUMBA_CACHE_DIR')})"
    )

    warm = []
    for _ in range(max(1, args.repeat)):
        started = time.perf_counter()
        analysis.analyse_file(src, demuxer="wav", duration=args.seconds)
        warm.append(time.perf_counter() - started)

    bare_runs, pipeline_runs = [], []
    for run in range(max(1, args.repeat)):
        bare_runs.append(bare_work(src, WORK / f"bare-{run}"))
        pipeline_runs.append(pipeline_work(src, owner))

    def median(runs, key):
        return statistics.median(r[key] for r in runs)

    bare_total = median(bare_runs, "total")
    pipeline_total = median(pipeline_runs, "total")
    print()
    print("bare ffmpeg/librosa work:")
    for key in ("analysis", "catalog renditions", "delivery set"):
        print(f"  {key:<20} {median(bare_runs, key):7.2f} s")
    print(f"  {'total':<20} {bare_total:7.2f} s")
    print("pipeline (upload -> ready, eager Celery chain):")
    for key in pipeline_runs[0]:
        if key not in ("total", "cpu"):
            print(f"  {key:<28} {median(pipeline_runs, key):7.2f} s")
    print(f"  {'total':<20} {pipeline_total:7.2f} s")
    print()
    ratio = pipeline_total / bare_total
    warm_analysis = statistics.median(warm)
    print(f"pipeline wall time     {pipeline_total:7.2f} s")
    print(f"bare work              {bare_total:7.2f} s")
    print(
        f"ratio                  {ratio:7.2f}   (target <= 1.3) {'OK' if ratio <= 1.3 else 'OVER'}"
    )
    bare_cpu, pipeline_cpu = median(bare_runs, "cpu"), median(pipeline_runs, "cpu")
    print(
        f"cpu time               {pipeline_cpu:7.2f} s vs {bare_cpu:.2f} s bare: ratio "
        f"{pipeline_cpu / bare_cpu:.2f} (not moved by other load; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(
        f"warm analysis (120 s)  {warm_analysis:7.2f} s (target <= 5 s) "
        f"{'OK' if warm_analysis <= 5 else 'OVER'}"
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
