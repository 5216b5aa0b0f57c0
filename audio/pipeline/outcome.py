"""How an asset ends: ready, or failed with a reason written for its owner. Either way the app
that registered for the asset's purpose (``audio.registry``) hears it in the same transaction."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audio.models import AudioAsset, PipelineStep
from audio.pipeline.steps import AssetGone, asset_lock, progress_push
from audio.registry import asset_outcome_notify


def fail_locked(
    locked: AudioAsset, *, code: str, reason: str, step: str = "", detail: str = ""
) -> None:
    """Mark the locked asset failed; call inside the transaction holding its lock."""
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
    progress_push(
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
            locked = asset_lock(asset.pk)
        except AssetGone:
            return None
        if locked.status != AudioAsset.Status.FAILED:
            fail_locked(locked, code=code, reason=reason, step=step, detail=detail)
    return locked


def audio_asset_finalize(*, asset: AudioAsset) -> AudioAsset | None:
    """Mark the asset ready and tell the app that registered for its purpose."""
    with transaction.atomic():
        locked = asset_lock(asset.pk)
        if locked.status in (AudioAsset.Status.FAILED, AudioAsset.Status.READY):
            return locked  # failed, or a duplicate run of an already finished chain
        locked.status = AudioAsset.Status.READY
        locked.current_step = ""
        locked.progress = 1.0
        locked.processed_at = timezone.now()
        locked.save(
            update_fields=["status", "current_step", "progress", "processed_at", "updated_at"]
        )
        progress_push(locked, step="finalize", status="ready", progress=1.0)
        asset_outcome_notify(asset=locked, outcome="ready")
    return locked
