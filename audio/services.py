"""Every write of the media pipeline.

Uploads: :func:`audio_asset_create` (validate, store, start processing) is the one way audio enters
the platform. Processing: :func:`audio_asset_process` starts the Celery chain probe -> QC ->
analyse -> renditions -> finalize (``audio.tasks``), whose tasks call the step services below.

Each step is recorded in :class:`~audio.models.PipelineStep`, unique per (asset, step, version)
and stamped with the content hash: a step already ``done`` for this content and version is
skipped, so re-running the chain (retries, duplicate deliveries, ``audio_reprocess``) never
redoes finished work. Heavy work (ffmpeg, librosa) happens outside transactions; results are
written under a row lock on the asset, and side effects (the next Celery chain, progress events
to the owner's Channels group) are sent on commit.
"""

import hashlib
import logging
import os
import posixpath
import tempfile
import time
import uuid
from collections.abc import Callable

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.realtime import user_event_push
from audio import analysis, conf, qc, storage, transcode
from audio.access import ASSET, RENDITION, Grant, token_make
from audio.errors import CorruptMedia, MediaUnavailable, PipelineError, ProcessingFailed
from audio.ffmpeg import PcmDecoder, ProbeFailed, probe
from audio.measure import SignalMeter
from audio.models import (
    AudioAnalysis,
    AudioAsset,
    PipelineStep,
    QualityCheck,
    QualityReport,
    Rendition,
)
from audio.registry import asset_outcome_notify
from audio.sniff import kind_for_format
from audio.validators import inspect_audio_file, spooled_upload

logger = logging.getLogger(__name__)

MP3_LADDER = (
    (Rendition.Kind.MP3_96, 96),
    (Rendition.Kind.MP3_160, 160),
    (Rendition.Kind.MP3_320, 320),
)
LOSSLESS_CODECS = ("flac", "alac", "wavpack", "tta", "ape")

# Raise a version when a step's output changes: assets re-run that step (and only that one).
STEP_VERSIONS = {
    "probe": 1,
    "qc": 1,
    "analyse": analysis.ANALYSER_VERSION,
    "render.mp3": 1,
    "render.hls": 1,
    "render.flac": 1,
    "render.preview": 1,
    "render.delivery": 1,
    "qc.delivery": 1,
}
# Overall progress (0..1) reached when each stage is done.
PROGRESS_AFTER = {"probe": 0.1, "qc": 0.15, "analyse": 0.35, "render": 0.95, "finalize": 1.0}

CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "audio/mp4",
}


def content_type_for(name: str) -> str:
    return CONTENT_TYPES.get(posixpath.splitext(name)[1].lower(), "application/octet-stream")


def asset_folder(asset) -> str:
    return f"audio/{asset.pk}"


# --- uploads --------------------------------------------------------------------------------


def audio_asset_create(
    *,
    owner,
    upload,
    purpose: str,
    preview_max_seconds: int | None = None,
    start_processing: bool = True,
) -> AudioAsset:
    """Validate an audio upload, store it and (on commit) start its pipeline.

    Raises :class:`audio.errors.MediaRejected` subclasses (413/415/400); a rejected upload leaves
    neither a file nor a row.
    """
    if purpose not in AudioAsset.Purpose.values:
        raise ValueError(f"unknown purpose {purpose!r}")
    max_bytes = int(conf.get("AUDIO_MAX_UPLOAD_BYTES"))
    with spooled_upload(upload, max_bytes=max_bytes) as (path, size, sha256):
        kind, result = inspect_audio_file(path, size=size)
        asset = AudioAsset(
            id=uuid.uuid4(),
            owner=owner,
            purpose=purpose,
            original_name=os.path.basename(str(getattr(upload, "name", "") or ""))[:255],
            format=kind.format,
            sha256=sha256,
            size=size,
            duration=result.duration,
            codec=result.codec[:32],
            sample_rate=result.sample_rate,
            channels=result.channels,
            bitrate=result.bit_rate,
            preview_max_seconds=preview_max_seconds
            if purpose == AudioAsset.Purpose.PREVIEW
            else None,
        )
        name = f"{asset_folder(asset)}/original.{kind.extension}"
        store = default_storage
        storage.put_file(store, name, path)
    asset.original = name
    try:
        with transaction.atomic():
            asset.save(force_insert=True)
            if start_processing:
                _queue(asset)
    except BaseException:
        storage.delete_quietly(store, name)
        raise
    return asset


def _queue(asset: AudioAsset) -> None:
    """Announce the asset as queued; send its chain to the workers once the transaction commits."""
    _progress_push(asset, step="queued", status="queued", progress=0.0)
    asset_id = str(asset.pk)

    def start():
        from audio.tasks import pipeline_start

        pipeline_start(asset_id)

    transaction.on_commit(start)


def audio_asset_process(*, asset: AudioAsset, force_steps=(), inline: bool = False) -> AudioAsset:
    """(Re)start the pipeline. Finished steps are skipped unless named in ``force_steps``
    ("probe", "qc", "analyse", "render"; a name covers its sub-steps, e.g. "render.hls").
    ``inline`` runs the whole chain here and now instead of queueing it (no worker needed)."""
    with transaction.atomic():
        locked = AudioAsset.objects.select_for_update().get(pk=asset.pk)
        if force_steps:
            selection = Q()
            for name in force_steps:
                selection |= Q(step=name) | Q(step__startswith=f"{name}.")
            PipelineStep.objects.filter(asset=locked).filter(selection).delete()
        locked.status = AudioAsset.Status.PENDING
        locked.failure_code = ""
        locked.failure_reason = ""
        locked.current_step = ""
        locked.progress = 0.0
        locked.save(
            update_fields=[
                "status",
                "failure_code",
                "failure_reason",
                "current_step",
                "progress",
                "updated_at",
            ]
        )
        if inline:
            _progress_push(locked, step="queued", status="queued", progress=0.0)
        else:
            _queue(locked)
    if inline:
        from audio.tasks import pipeline_start

        pipeline_start(str(locked.pk), inline=True)
        locked.refresh_from_db()
    return locked


def audio_asset_delete(*, asset: AudioAsset) -> None:
    """Delete the asset, its rows and (after commit) every file it has in storage."""
    with transaction.atomic():
        locked = AudioAsset.objects.select_for_update().get(pk=asset.pk)
        folder = asset_folder(locked)
        store = locked.original.storage
        locked.delete()
        transaction.on_commit(lambda: storage.delete_tree(store, folder))


# --- step bookkeeping -----------------------------------------------------------------------


class AssetGone(Exception):
    """The asset was deleted (or stopped) while a step was running."""


def _lock(asset_id) -> AudioAsset:
    try:
        return AudioAsset.objects.select_for_update().get(pk=asset_id)
    except AudioAsset.DoesNotExist:
        raise AssetGone(str(asset_id)) from None


def _progress_push(asset, *, step: str, status: str, progress: float, **extra) -> None:
    event = {
        "type": "audio.progress",
        "asset_id": str(asset.pk),
        "step": step,
        "status": status,
        "progress": round(min(1.0, max(0.0, progress)), 3),
        **extra,
    }
    user_event_push(user_id=asset.owner_id, event=event)


def _done_step(asset, step: str) -> PipelineStep | None:
    return PipelineStep.objects.filter(
        asset_id=asset.pk,
        step=step,
        version=STEP_VERSIONS[step],
        sha256=asset.sha256,
        status=PipelineStep.Status.DONE,
    ).first()


def _skip_if_done(asset, step: str, progress: float) -> bool:
    if _done_step(asset, step) is None:
        return False
    with transaction.atomic():
        locked = _lock(asset.pk)
        locked.progress = max(locked.progress, progress)
        locked.save(update_fields=["progress", "updated_at"])
        _progress_push(locked, step=step, status="skipped", progress=locked.progress)
    return True


def _step_start(asset, step: str, progress: float) -> None:
    with transaction.atomic():
        locked = _lock(asset.pk)
        if locked.status == AudioAsset.Status.FAILED:
            raise AssetGone(f"{asset.pk} has failed")
        row, _created = PipelineStep.objects.select_for_update().get_or_create(
            asset=locked, step=step, version=STEP_VERSIONS[step], defaults={"sha256": locked.sha256}
        )
        row.sha256 = locked.sha256
        row.status = PipelineStep.Status.RUNNING
        row.attempts += 1
        row.error = ""
        row.started_at = timezone.now()
        row.finished_at = None
        row.save()
        locked.status = AudioAsset.Status.PROCESSING
        locked.current_step = step
        locked.save(update_fields=["status", "current_step", "updated_at"])
        _progress_push(locked, step=step, status="started", progress=locked.progress)


def _step_finish(
    locked: AudioAsset,
    step: str,
    *,
    progress: float,
    result: dict | None = None,
    failed: bool = False,
) -> None:
    """Record the step's outcome; call inside the transaction holding the asset's lock."""
    PipelineStep.objects.filter(asset=locked, step=step, version=STEP_VERSIONS[step]).update(
        status=PipelineStep.Status.FAILED if failed else PipelineStep.Status.DONE,
        result=result or {},
        finished_at=timezone.now(),
    )
    if not failed:
        locked.progress = max(locked.progress, progress)
        locked.save(update_fields=["progress", "updated_at"])
        _progress_push(locked, step=step, status="done", progress=locked.progress)


def _fail_locked(
    locked: AudioAsset, *, code: str, reason: str, step: str = "", detail: str = ""
) -> None:
    # A task names its stage ("render"); the step running in it may be finer ("render.hls").
    if locked.current_step and (
        not step or locked.current_step.split(".")[0] == step.split(".")[0]
    ):
        step = locked.current_step
    locked.status = AudioAsset.Status.FAILED
    locked.failure_code = code[:40]
    locked.failure_reason = reason
    locked.current_step = step
    locked.save(
        update_fields=["status", "failure_code", "failure_reason", "current_step", "updated_at"]
    )
    PipelineStep.objects.filter(asset=locked).filter(
        Q(status=PipelineStep.Status.RUNNING) | Q(step=step, status=PipelineStep.Status.FAILED)
    ).update(
        status=PipelineStep.Status.FAILED,
        error=(detail or reason)[:10000],
        finished_at=timezone.now(),
    )
    _progress_push(
        locked,
        step=step or "pipeline",
        status="failed",
        progress=locked.progress,
        reason=reason,
        code=code,
    )
    asset_outcome_notify(asset=locked, outcome="failed")


def audio_asset_fail(
    *, asset: AudioAsset, code: str, reason: str, step: str = "", detail: str = ""
) -> AudioAsset | None:
    """Mark the asset failed with a reason written for its owner (no retry will follow)."""
    with transaction.atomic():
        try:
            locked = _lock(asset.pk)
        except AssetGone:
            return None
        if locked.status != AudioAsset.Status.FAILED:
            _fail_locked(locked, code=code, reason=reason, step=step, detail=detail)
    return locked


def _source_kind(asset):
    return kind_for_format(asset.format)


def _probe_measurements(asset) -> dict:
    row = _done_step(asset, "probe")
    if row is None:
        raise PipelineError("The file was not examined yet.", code="out_of_order")
    return row.result.get("measurements", {})


def _fmt_seconds(value: float) -> str:
    minutes, seconds = divmod(value, 60)
    return f"{int(minutes)}:{seconds:04.1f}" if minutes else f"{seconds:.1f} s"


# --- probe ----------------------------------------------------------------------------------


def measure_file(
    path,
    *,
    demuxer,
    sample_rate: int,
    channels: int,
    what: str,
    true_peak: bool = True,
    meter: bool = True,
) -> tuple[dict, list[str]]:
    """Decode the whole file once: (measurements, decoder complaints). The measurements always
    hold ``duration``, ``frames`` and ``pcm_sha256`` (a digest of the decoded samples); with
    ``meter`` also loudness, peaks, clipping and silence (``audio.measure``)."""
    channels = min(max(channels or 2, 1), 2)
    signal_meter = SignalMeter(sample_rate, channels, true_peak=true_peak) if meter else None
    digest = hashlib.sha256()
    with PcmDecoder(
        path, sample_rate=sample_rate, channels=channels, demuxer=demuxer, what=what
    ) as decoder:
        for block in decoder:
            digest.update(block.tobytes())
            if signal_meter is not None:
                signal_meter.feed(block)
    if signal_meter is not None:
        measurements = signal_meter.result().as_dict()
    else:
        measurements = {
            "sample_rate": sample_rate,
            "channels": channels,
            "frames": decoder.frames,
            "duration": decoder.frames / sample_rate,
        }
    measurements["pcm_sha256"] = digest.hexdigest()
    return measurements, decoder.errors


def audio_asset_probe(*, asset: AudioAsset) -> None:
    """Read the stream's parameters and decode the whole file once (this is where damaged or
    cut-off files are caught), metering it for the quality checks."""
    step = "probe"
    if _skip_if_done(asset, step, PROGRESS_AFTER[step]):
        return
    _step_start(asset, step, 0.0)
    kind = _source_kind(asset)
    store = asset.original.storage
    with storage.local_path(store, asset.original.name) as path:
        try:
            meta = probe(path, demuxer=kind.demuxer)
        except ProbeFailed:
            raise CorruptMedia(
                "The file could not be read as audio any more; it may be damaged. Upload it again.",
                detail="probe failed",
            ) from None
        if not meta.sample_rate:
            raise CorruptMedia("The audio stream has no sample rate; the file is damaged.")
        try:
            # No true peak here: no source check uses it, and it is the costliest measurement.
            measurements, errors = measure_file(
                path,
                demuxer=kind.demuxer,
                sample_rate=meta.sample_rate,
                channels=meta.channels or 2,
                what="decode the audio",
                true_peak=False,
            )
        except ProcessingFailed as exc:
            raise CorruptMedia(
                "The audio could not be decoded: the file is damaged. "
                "Export it again and re-upload it.",
                detail=exc.detail,
            ) from None
    decoded = measurements["duration"]
    if decoded <= 0:
        raise CorruptMedia("No audio could be decoded from the file: it is damaged or empty.")
    announced = meta.duration
    if announced and decoded < announced - max(0.5, 0.02 * announced):
        raise CorruptMedia(
            "The file ends early: its header announces "
            f"{_fmt_seconds(announced)} of audio but only "
            f"{_fmt_seconds(decoded)} could be decoded. The upload was probably cut off; export it "
            f"again and upload the complete file.",
            code="truncated",
            detail=f"announced={announced} decoded={decoded}",
        )
    if len(errors) > 50:
        raise CorruptMedia(
            f"The audio is damaged: the decoder reported {len(errors)} errors. Export it again.",
            detail="\n".join(errors[-4:]),
        )
    result = {"probe": meta.as_dict(), "measurements": measurements, "decoder_errors": errors[-20:]}
    with transaction.atomic():
        locked = _lock(asset.pk)
        locked.duration = round(decoded, 3)
        locked.codec = (meta.codec or locked.codec)[:32]
        locked.sample_rate = meta.sample_rate
        locked.channels = meta.channels
        locked.bitrate = meta.bit_rate or locked.bitrate
        locked.save(
            update_fields=["duration", "codec", "sample_rate", "channels", "bitrate", "updated_at"]
        )
        _step_finish(locked, step, progress=PROGRESS_AFTER[step], result=result)
    asset.duration = locked.duration


# --- quality checks -------------------------------------------------------------------------


def _report_save(locked: AudioAsset, *, stage: str, checks: list, blocking: bool) -> QualityReport:
    report, _ = QualityReport.objects.update_or_create(
        asset=locked, stage=stage, defaults={"status": qc.overall(checks), "blocking": blocking}
    )
    report.checks.all().delete()
    QualityCheck.objects.bulk_create(
        QualityCheck(
            report=report,
            name=check.name,
            status=check.status,
            measured=check.measured,
            threshold=check.threshold,
            unit=check.unit,
            message=check.message,
        )
        for check in checks
    )
    return report


def audio_asset_qc(*, asset: AudioAsset) -> QualityReport | None:
    """Check the source (sample rate, clipping, edge silence, level). A failure blocks deliveries
    (the asset fails with every reason); elsewhere the findings are warnings."""
    step = "qc"
    if _skip_if_done(asset, step, PROGRESS_AFTER[step]):
        return None
    _step_start(asset, step, PROGRESS_AFTER["probe"])
    measurements = _probe_measurements(asset)
    blocking = asset.purpose == AudioAsset.Purpose.DELIVERY
    checks = qc.source_checks(measurements, blocking=blocking)
    with transaction.atomic():
        locked = _lock(asset.pk)
        report = _report_save(
            locked, stage=QualityReport.Stage.SOURCE, checks=checks, blocking=blocking
        )
        blocked = blocking and report.status == qc.FAILED
        # A blocking verdict is recorded as a failed step, so a reprocess checks again.
        _step_finish(
            locked,
            step,
            progress=PROGRESS_AFTER[step],
            failed=blocked,
            result={"status": report.status, "checks": [c.as_dict() for c in checks]},
        )
        if blocked:
            _fail_locked(
                locked,
                code="qc_failed",
                reason=qc.failure_reason(checks, stage="source"),
                step=step,
            )
    return report


# --- analysis -------------------------------------------------------------------------------


ANALYSIS_FIELDS = (
    "tempo_bpm",
    "tempo_alt_bpm",
    "key",
    "mode",
    "key_confidence",
    "loudness_lufs",
    "peak_dbfs",
    "energy",
    "danceability",
    "acousticness",
    "valence",
    "mood",
    "analysed_seconds",
    "window_start",
    "features",
)


def audio_asset_analyse(*, asset: AudioAsset) -> AudioAnalysis | None:
    """Tempo, key and descriptors (``audio.analysis``). The same content analysed before by the
    same analyser version is copied, not analysed again."""
    step = "analyse"
    if _skip_if_done(asset, step, PROGRESS_AFTER[step]):
        return None
    _step_start(asset, step, PROGRESS_AFTER["qc"])
    previous = (
        AudioAnalysis.objects.filter(
            sha256=asset.sha256, analyser_version=analysis.ANALYSER_VERSION
        )
        .exclude(asset_id=asset.pk)
        .order_by("-created_at")
        .first()
    )
    if previous is not None:
        values = {name: getattr(previous, name) for name in ANALYSIS_FIELDS}
        reused_from = str(previous.asset_id)
    else:
        measurements = _probe_measurements(asset)
        store = asset.original.storage
        with storage.local_path(store, asset.original.name) as path:
            result = analysis.analyse_file(
                path,
                demuxer=_source_kind(asset).demuxer,
                duration=asset.duration,
                loudness_lufs=measurements.get("integrated_lufs"),
                peak_dbfs=measurements.get("sample_peak_dbfs"),
            )
        values = {name: getattr(result, name) for name in ANALYSIS_FIELDS}
        reused_from = None
    with transaction.atomic():
        locked = _lock(asset.pk)
        record, _ = AudioAnalysis.objects.update_or_create(
            asset=locked,
            defaults={
                **values,
                "sha256": locked.sha256,
                "analyser_version": analysis.ANALYSER_VERSION,
            },
        )
        _step_finish(
            locked,
            step,
            progress=PROGRESS_AFTER[step],
            result={
                "reused_from": reused_from,
                "tempo_bpm": values["tempo_bpm"],
                "key": values["key"],
            },
        )
    return record


# --- renditions -----------------------------------------------------------------------------


def _rendition_save(
    locked: AudioAsset, *, kind: str, name: str, size: int, folder: str = "", **fields
) -> Rendition:
    defaults = {
        "folder": folder,
        "size": size,
        "content_type": fields.pop("content_type", None) or content_type_for(name),
        "file": name,
        **fields,
    }
    rendition, _ = Rendition.objects.update_or_create(asset=locked, kind=kind, defaults=defaults)
    return rendition


def _store_outputs(asset, outputs: dict[str, str]) -> dict[str, tuple[str, int]]:
    """Upload local files, ``{storage name: local path}``; ``{name: (name, size)}``."""
    store = asset.original.storage
    return {name: (name, storage.put_file(store, name, path)) for name, path in outputs.items()}


def _finish_render(asset, step: str, progress: float, write, cleanup) -> None:
    """Write the rendition rows under the asset lock; if the asset vanished, remove the files."""
    try:
        with transaction.atomic():
            locked = _lock(asset.pk)
            result = write(locked) or {}
            _step_finish(locked, step, progress=progress, result=result)
    except AssetGone:
        cleanup()
        raise


def _render_mp3(asset, step, progress):
    folder = asset_folder(asset)
    with (
        storage.local_path(asset.original.storage, asset.original.name) as src,
        tempfile.TemporaryDirectory() as tmp,
    ):
        local = {kbps: os.path.join(tmp, f"{kind}.mp3") for kind, kbps in MP3_LADDER}
        transcode.mp3_ladder(
            src, demuxer=_source_kind(asset).demuxer, outputs=local, channels=asset.channels
        )
        stored = _store_outputs(
            asset, {f"{folder}/{kind}.mp3": local[kbps] for kind, kbps in MP3_LADDER}
        )

    def write(locked):
        for kind, kbps in MP3_LADDER:
            name, size = stored[f"{folder}/{kind}.mp3"]
            _rendition_save(
                locked,
                kind=kind,
                name=name,
                size=size,
                bitrate=kbps * 1000,
                duration=locked.duration,
                sample_rate=transcode.OUTPUT_RATE,
            )
        return {"files": sorted(stored)}

    _finish_render(
        asset,
        step,
        progress,
        write,
        lambda: [storage.delete_quietly(asset.original.storage, n) for n in stored],
    )


def _render_hls(asset, step, progress):
    store = asset.original.storage
    folder = f"{asset_folder(asset)}/hls"
    bitrates = [int(b) for b in conf.get("AUDIO_HLS_BITRATES_KBPS")]
    with (
        storage.local_path(store, asset.original.name) as src,
        tempfile.TemporaryDirectory() as tmp,
    ):
        info = transcode.hls_ladder(
            src,
            demuxer=_source_kind(asset).demuxer,
            directory=tmp,
            bitrates=bitrates,
            segment_seconds=float(conf.get("AUDIO_HLS_SEGMENT_SECONDS")),
            channels=asset.channels,
        )
        storage.delete_tree(store, folder)  # segments of an earlier, longer version must not linger
        names, total = storage.put_tree(store, folder, tmp)

    def write(locked):
        _rendition_save(
            locked,
            kind=Rendition.Kind.HLS,
            name=f"{folder}/{info['master']}",
            folder=folder,
            size=total,
            bitrate=max(bitrates) * 1000,
            duration=locked.duration,
            sample_rate=transcode.OUTPUT_RATE,
            details={**info, "files": len(names)},
        )
        return {"files": len(names), "bytes": total}

    _finish_render(asset, step, progress, write, lambda: storage.delete_tree(store, folder))


def _render_flac(asset, step, progress):
    name = f"{asset_folder(asset)}/lossless.flac"
    with (
        storage.local_path(asset.original.storage, asset.original.name) as src,
        tempfile.TemporaryDirectory() as tmp,
    ):
        out = os.path.join(tmp, "lossless.flac")
        transcode.flac(src, demuxer=_source_kind(asset).demuxer, out=out, channels=asset.channels)
        stored = _store_outputs(asset, {name: out})

    def write(locked):
        _rendition_save(
            locked,
            kind=Rendition.Kind.FLAC,
            name=name,
            size=stored[name][1],
            duration=locked.duration,
            sample_rate=locked.sample_rate,
        )
        return {"files": [name]}

    _finish_render(
        asset, step, progress, write, lambda: storage.delete_quietly(asset.original.storage, name)
    )


def _render_preview(asset, step, progress):
    name = f"{asset_folder(asset)}/preview.mp3"
    bitrate = int(conf.get("AUDIO_PREVIEW_BITRATE_KBPS"))
    max_seconds = asset.preview_max_seconds or conf.get("AUDIO_PREVIEW_MAX_SECONDS")
    with (
        storage.local_path(asset.original.storage, asset.original.name) as src,
        tempfile.TemporaryDirectory() as tmp,
    ):
        out = os.path.join(tmp, "preview.mp3")
        details = transcode.preview(
            src,
            demuxer=_source_kind(asset).demuxer,
            out=out,
            duration=asset.duration,
            bitrate_kbps=bitrate,
            max_seconds=max_seconds,
            watermark=transcode.Watermark.from_settings(),
        )
        stored = _store_outputs(asset, {name: out})

    def write(locked):
        length = details["truncated_at"] or locked.duration
        _rendition_save(
            locked,
            kind=Rendition.Kind.PREVIEW_MP3,
            name=name,
            size=stored[name][1],
            bitrate=bitrate * 1000,
            duration=length,
            sample_rate=transcode.OUTPUT_RATE,
            details=details,
        )
        return details

    _finish_render(
        asset, step, progress, write, lambda: storage.delete_quietly(asset.original.storage, name)
    )


DELIVERY_FILES = (
    (Rendition.Kind.DELIVERY_WAV, "delivery.wav"),
    (Rendition.Kind.DELIVERY_MP3, "delivery.mp3"),
    (Rendition.Kind.DELIVERY_FLAC, "delivery.flac"),
)


def _render_delivery(asset, step, progress):
    """Two-pass loudness normalisation to the target (-14 LUFS, true peak under -1 dBTP), then
    WAV 16-bit/44.1 kHz, MP3 320 kbps and FLAC from the same master."""
    folder = asset_folder(asset)
    target, ceiling = transcode.loudnorm_targets()
    demuxer = _source_kind(asset).demuxer
    with (
        storage.local_path(asset.original.storage, asset.original.name) as src,
        tempfile.TemporaryDirectory() as tmp,
    ):
        local = {kind: os.path.join(tmp, filename) for kind, filename in DELIVERY_FILES}
        first = transcode.loudnorm_measure(src, demuxer=demuxer, target=target, true_peak=ceiling)
        second = transcode.loudnorm_apply(
            src,
            demuxer=demuxer,
            out_wav=local[Rendition.Kind.DELIVERY_WAV],
            measured=first,
            target=target,
            true_peak=ceiling,
            channels=asset.channels,
        )
        transcode.delivery_encodes(
            local[Rendition.Kind.DELIVERY_WAV],
            mp3_out=local[Rendition.Kind.DELIVERY_MP3],
            flac_out=local[Rendition.Kind.DELIVERY_FLAC],
        )
        stored = _store_outputs(
            asset, {f"{folder}/{filename}": local[kind] for kind, filename in DELIVERY_FILES}
        )
    channels = min(asset.channels or 2, 2)
    bitrates = {
        Rendition.Kind.DELIVERY_WAV: transcode.OUTPUT_RATE * 16 * channels,
        Rendition.Kind.DELIVERY_MP3: 320_000,
        Rendition.Kind.DELIVERY_FLAC: None,
    }
    loudnorm = {
        "target_lufs": target,
        "true_peak_ceiling": ceiling,
        "measured": first,
        "applied": second,
    }

    def write(locked):
        for kind, filename in DELIVERY_FILES:
            name, size = stored[f"{folder}/{filename}"]
            _rendition_save(
                locked,
                kind=kind,
                name=name,
                size=size,
                bitrate=bitrates[kind],
                sample_rate=transcode.OUTPUT_RATE,
                details={"loudnorm": loudnorm},
            )
        return {
            "normalization_type": second.get("normalization_type"),
            "input_i": first.get("input_i"),
        }

    _finish_render(
        asset,
        step,
        progress,
        write,
        lambda: [storage.delete_quietly(asset.original.storage, n) for n in stored],
    )


DELIVERY_DEMUXERS = {"delivery_wav": "wav", "delivery_mp3": "mp3", "delivery_flac": "flac"}


def _qc_delivery(asset, step, progress):
    """Measure the delivery files as a listener's decoder reads them; a failure blocks.

    The WAV master and the MP3 are metered in full. The FLAC is lossless: it must decode to
    exactly the WAV's samples (compared by digest), so it shares the WAV's loudness and peaks.
    """
    renditions = {r.kind: r for r in asset.renditions.filter(kind__in=list(DELIVERY_DEMUXERS))}
    missing = [kind for kind in DELIVERY_DEMUXERS if kind not in renditions]
    if missing:
        raise PipelineError(
            f"The delivery files are incomplete ({', '.join(missing)}).", code="out_of_order"
        )
    by_kind = {}
    for kind, demuxer in DELIVERY_DEMUXERS.items():
        rendition = renditions[kind]
        with storage.local_path(rendition.file.storage, rendition.file.name) as path:
            by_kind[kind], _errors = measure_file(
                path,
                demuxer=demuxer,
                sample_rate=transcode.OUTPUT_RATE,
                channels=asset.channels or 2,
                what="check the delivery files",
                meter=kind != "delivery_flac",
            )
    wav, flac = by_kind["delivery_wav"], by_kind["delivery_flac"]
    identical = flac["pcm_sha256"] == wav["pcm_sha256"]
    by_kind["delivery_flac"] = {**wav, "duration": flac["duration"], "frames": flac["frames"]}
    checks = qc.delivery_checks(by_kind, lossless_identical=identical)
    with transaction.atomic():
        locked = _lock(asset.pk)
        for kind, m in by_kind.items():
            Rendition.objects.filter(pk=renditions[kind].pk).update(
                duration=m["duration"],
                loudness_lufs=m["integrated_lufs"],
                true_peak_dbtp=m["true_peak_dbtp"],
            )
        report = _report_save(
            locked, stage=QualityReport.Stage.DELIVERY, checks=checks, blocking=True
        )
        blocked = report.status == qc.FAILED
        _step_finish(
            locked,
            step,
            progress=progress,
            failed=blocked,
            result={"status": report.status, "checks": [c.as_dict() for c in checks]},
        )
        if blocked:
            _fail_locked(
                locked,
                code="qc_failed",
                reason=qc.failure_reason(checks, stage="delivery"),
                step=step,
            )


def render_plan(asset: AudioAsset) -> list[tuple[str, Callable]]:
    if asset.purpose == AudioAsset.Purpose.CATALOG:
        plan = [("render.mp3", _render_mp3), ("render.hls", _render_hls)]
        lossless = asset.codec.startswith("pcm_") or asset.codec in LOSSLESS_CODECS
        if lossless and conf.get("AUDIO_CATALOG_LOSSLESS"):
            plan.append(("render.flac", _render_flac))
        return plan
    if asset.purpose == AudioAsset.Purpose.PREVIEW:
        return [("render.preview", _render_preview)]
    return [("render.delivery", _render_delivery), ("qc.delivery", _qc_delivery)]


def audio_asset_render(*, asset: AudioAsset) -> None:
    """Make the renditions of the asset's purpose, one idempotent sub-step at a time."""
    plan = render_plan(asset)
    start, end = PROGRESS_AFTER["analyse"], PROGRESS_AFTER["render"]
    for index, (step, work) in enumerate(plan):
        asset.refresh_from_db()
        if asset.status == AudioAsset.Status.FAILED:
            return
        progress = start + (end - start) * (index + 1) / len(plan)
        if _skip_if_done(asset, step, progress):
            continue
        _step_start(asset, step, progress)
        work(asset, step, progress)


def audio_asset_finalize(*, asset: AudioAsset) -> AudioAsset | None:
    """Mark the asset ready and tell the app that registered for its purpose."""
    with transaction.atomic():
        locked = _lock(asset.pk)
        if locked.status in (AudioAsset.Status.FAILED, AudioAsset.Status.READY):
            return locked  # failed, or a duplicate run of an already finished chain
        locked.status = AudioAsset.Status.READY
        locked.current_step = ""
        locked.progress = 1.0
        locked.processed_at = timezone.now()
        locked.save(
            update_fields=["status", "current_step", "progress", "processed_at", "updated_at"]
        )
        _progress_push(locked, step="finalize", status="ready", progress=1.0)
        asset_outcome_notify(asset=locked, outcome="ready")
    return locked


# --- signed access --------------------------------------------------------------------------


def audio_url_sign(*, user, obj, expires_in: int | None = None, download: bool = False) -> str:
    """A short-lived URL to an asset's original or to a rendition, bound to ``user`` and ``obj``.

    - local files: a Django-signed URL to ``audio.views.media_serve`` (Range requests served by
      Django, or by nginx through X-Accel-Redirect when ``MEDIA_ACCEL_REDIRECT`` is on); only the
      authenticated ``user`` may use it (``user=None`` makes a bearer URL for public material);
    - S3: a presigned (s3v4) URL for single files. A presigned URL cannot check who uses it, so
      it is bound to the object and expiry only; HLS playlists still go through the signed view,
      which rewrites segment references into presigned URLs.

    The caller decides who may hear what; this service only issues the URL. The default lifetime
    is ``AUDIO_SIGNED_URL_TTL_SECONDS`` plus the track's duration (enough to play it through).
    Delivery files of an asset that did not pass its checks are refused (MediaUnavailable).
    """
    if isinstance(obj, AudioAsset):
        asset, rendition, name = obj, None, obj.original.name
        field = obj.original
    elif isinstance(obj, Rendition):
        asset, rendition, name = obj.asset, obj, obj.file.name
        field = obj.file
        if asset.purpose == AudioAsset.Purpose.DELIVERY and asset.status != AudioAsset.Status.READY:
            raise MediaUnavailable("This delivery did not pass its quality checks.")
    else:
        raise TypeError("obj must be an AudioAsset or a Rendition")
    if expires_in is None:
        expires_in = int(conf.get("AUDIO_SIGNED_URL_TTL_SECONDS")) + int(asset.duration or 0)
    expires_in = min(int(expires_in), int(conf.get("AUDIO_SIGNED_URL_MAX_TTL_SECONDS")))
    if expires_in <= 0:
        raise ValueError("expires_in must be positive")
    filename = posixpath.basename(name)
    if storage.is_s3(field.storage) and not (rendition and rendition.is_hls):
        parameters = {
            "ResponseContentType": rendition.content_type if rendition else content_type_for(name)
        }
        if download:
            parameters["ResponseContentDisposition"] = (
                f'attachment; filename="{download_filename(asset, filename)}"'
            )
        return field.storage.url(name, parameters=parameters, expire=expires_in)
    grant = Grant(
        user_id=str(user.pk) if user is not None else None,
        kind=RENDITION if rendition else ASSET,
        object_id=str(rendition.pk if rendition else asset.pk),
        expires_at=int(time.time()) + expires_in,
        download=download,
    )
    return reverse("audio:media", kwargs={"token": token_make(grant), "path": filename})


def download_filename(asset: AudioAsset, filename: str, *, ascii_only: bool = True) -> str:
    """A friendly name for downloads: the upload's name with the served file's extension.
    ``ascii_only`` gives the plain ``filename=`` fallback; otherwise letters of any script stay
    (for RFC 6266 ``filename*``)."""
    stem = os.path.splitext(asset.original_name or "audio")[0]

    def keep(ch):
        return (ch.isascii() or not ascii_only) and (ch.isalnum() or ch in " -_.")

    safe = "".join(ch if keep(ch) else "_" for ch in stem).strip() or "audio"
    return f"{safe[:80]}{posixpath.splitext(filename)[1]}"
