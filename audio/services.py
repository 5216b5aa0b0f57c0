"""The writes other apps call on the media pipeline: an upload enters, is (re)processed, or is
deleted.

:func:`audio_asset_create` (validate, store, start processing) is the one way audio enters the
platform. Processing is the Celery chain of ``audio.tasks`` (probe -> QC -> analyse -> renditions
-> finalize), whose tasks run the steps in ``audio.pipeline``; this module queues that chain once
the transaction commits, so dependencies point one way:
``audio.services -> audio.tasks -> audio.pipeline``.

Signed URLs to the files are issued by ``audio.signing``; reads are in ``audio.selectors``.
"""

import os
import uuid

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q

from audio import conf, storage
from audio.models import AudioAsset, PipelineStep
from audio.pipeline.steps import progress_push
from audio.storage import asset_folder
from audio.tasks import pipeline_start
from audio.validators import inspect_audio_file, spooled_upload


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
    progress_push(asset, step="queued", status="queued", progress=0.0)
    asset_id = str(asset.pk)
    transaction.on_commit(lambda: pipeline_start(asset_id))


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
            progress_push(locked, step="queued", status="queued", progress=0.0)
        else:
            _queue(locked)
    if inline:
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
