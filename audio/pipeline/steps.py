"""What every step of the pipeline shares: its version, progress events, the asset lock, and the
record of its start and finish.

Each step is recorded in :class:`~audio.models.PipelineStep`, unique per (asset, step, version)
and stamped with the content hash: a step already ``done`` for this content and version is
skipped, so re-running the chain (retries, duplicate deliveries, ``audio_reprocess``) never
redoes finished work. Heavy work (ffmpeg, librosa) happens outside transactions; results are
written under a row lock on the asset, and progress events reach the owner's Channels group.
"""

from django.db import transaction
from django.utils import timezone

from accounts.realtime import user_event_push
from audio import analysis
from audio.errors import PipelineError
from audio.models import AudioAsset, PipelineStep
from audio.sniff import kind_for_format

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


class AssetGone(Exception):
    """The asset was deleted (or stopped) while a step was running."""


def asset_lock(asset_id) -> AudioAsset:
    """The asset, locked for the rest of the transaction; AssetGone when it was deleted."""
    try:
        return AudioAsset.objects.select_for_update().get(pk=asset_id)
    except AudioAsset.DoesNotExist:
        raise AssetGone(str(asset_id)) from None


def progress_push(asset, *, step: str, status: str, progress: float, **extra) -> None:
    """Tell the owner's open pages how far the asset got (``audio.progress``)."""
    event = {
        "type": "audio.progress",
        "asset_id": str(asset.pk),
        "step": step,
        "status": status,
        "progress": round(min(1.0, max(0.0, progress)), 3),
        **extra,
    }
    user_event_push(user_id=asset.owner_id, event=event)


def step_done(asset, step: str) -> PipelineStep | None:
    """The step's record when it is done for this content and this version of the step."""
    return PipelineStep.objects.filter(
        asset_id=asset.pk,
        step=step,
        version=STEP_VERSIONS[step],
        sha256=asset.sha256,
        status=PipelineStep.Status.DONE,
    ).first()


def step_skip_if_done(asset, step: str, progress: float) -> bool:
    if step_done(asset, step) is None:
        return False
    with transaction.atomic():
        locked = asset_lock(asset.pk)
        locked.progress = max(locked.progress, progress)
        locked.save(update_fields=["progress", "updated_at"])
        progress_push(locked, step=step, status="skipped", progress=locked.progress)
    return True


def step_start(asset, step: str, progress: float) -> None:
    with transaction.atomic():
        locked = asset_lock(asset.pk)
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
        progress_push(locked, step=step, status="started", progress=locked.progress)


def step_finish(
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
        progress_push(locked, step=step, status="done", progress=locked.progress)


def source_kind(asset):
    """The container of the asset's original (its ffmpeg demuxer and file extension)."""
    return kind_for_format(asset.format)


def probe_measurements(asset) -> dict:
    """What the probe measured of the whole source (loudness, peaks, clipping, silence)."""
    row = step_done(asset, "probe")
    if row is None:
        raise PipelineError("The file was not examined yet.", code="out_of_order")
    return row.result.get("measurements", {})
