"""The renditions of each purpose, one function per format (``audio.transcode`` runs ffmpeg):

- catalog: the MP3 ladder (96/160/320 kbps), the HLS AAC ladder, and FLAC when the source is
  lossless;
- preview: the watermarked, reduced (optionally truncated) MP3;
- delivery: loudness-normalised WAV, MP3 320 and FLAC from one master, then their checks.

Each format is a sub-step ("render.mp3", ...) with its own record, so a failed or forced one
runs again alone. Files are stored first; the rows are written under the asset lock, and the
files are removed again when the asset was deleted meanwhile.
"""

import os
import tempfile
from collections.abc import Callable

from django.db import transaction

from audio import conf, storage, transcode
from audio.models import AudioAsset, Rendition
from audio.pipeline.quality import delivery_check
from audio.pipeline.steps import (
    PROGRESS_AFTER,
    AssetGone,
    asset_lock,
    source_kind,
    step_finish,
    step_skip_if_done,
    step_start,
)
from audio.storage import asset_folder, content_type_for

MP3_LADDER = (
    (Rendition.Kind.MP3_96, 96),
    (Rendition.Kind.MP3_160, 160),
    (Rendition.Kind.MP3_320, 320),
)
LOSSLESS_CODECS = ("flac", "alac", "wavpack", "tta", "ape")


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


def _renditions_save(locked: AudioAsset, stored: dict, files, *, bitrates: dict, **fields) -> None:
    """One rendition per ``(kind, storage name)`` of ``files`` (as ``_store_outputs`` stored
    them), with the bitrate of its kind and the same other fields."""
    for kind, name in files:
        _rendition_save(
            locked, kind=kind, name=name, size=stored[name][1], bitrate=bitrates[kind], **fields
        )


def _finish_render(asset, step: str, progress: float, write, *, stored=(), cleanup=None) -> None:
    """Write the rendition rows under the asset lock; if the asset vanished, remove the files
    (the ``stored`` names, or whatever ``cleanup`` removes)."""
    try:
        with transaction.atomic():
            locked = asset_lock(asset.pk)
            result = write(locked) or {}
            step_finish(locked, step, progress=progress, result=result)
    except AssetGone:
        for name in stored:
            storage.delete_quietly(asset.original.storage, name)
        if cleanup is not None:
            cleanup()
        raise


def render_mp3(asset, step, progress):
    folder = asset_folder(asset)
    with (
        storage.local_path(asset.original.storage, asset.original.name) as src,
        tempfile.TemporaryDirectory() as tmp,
    ):
        local = {kbps: os.path.join(tmp, f"{kind}.mp3") for kind, kbps in MP3_LADDER}
        transcode.mp3_ladder(
            src, demuxer=source_kind(asset).demuxer, outputs=local, channels=asset.channels
        )
        stored = _store_outputs(
            asset, {f"{folder}/{kind}.mp3": local[kbps] for kind, kbps in MP3_LADDER}
        )

    def write(locked):
        _renditions_save(
            locked,
            stored,
            [(kind, f"{folder}/{kind}.mp3") for kind, _ in MP3_LADDER],
            bitrates={kind: kbps * 1000 for kind, kbps in MP3_LADDER},
            duration=locked.duration,
            sample_rate=transcode.OUTPUT_RATE,
        )
        return {"files": sorted(stored)}

    _finish_render(asset, step, progress, write, stored=stored)


def render_hls(asset, step, progress):
    store = asset.original.storage
    folder = f"{asset_folder(asset)}/hls"
    bitrates = [int(b) for b in conf.get("AUDIO_HLS_BITRATES_KBPS")]
    with (
        storage.local_path(store, asset.original.name) as src,
        tempfile.TemporaryDirectory() as tmp,
    ):
        info = transcode.hls_ladder(
            src,
            demuxer=source_kind(asset).demuxer,
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

    _finish_render(asset, step, progress, write, cleanup=lambda: storage.delete_tree(store, folder))


def render_flac(asset, step, progress):
    name = f"{asset_folder(asset)}/lossless.flac"
    with (
        storage.local_path(asset.original.storage, asset.original.name) as src,
        tempfile.TemporaryDirectory() as tmp,
    ):
        out = os.path.join(tmp, "lossless.flac")
        transcode.flac(src, demuxer=source_kind(asset).demuxer, out=out, channels=asset.channels)
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

    _finish_render(asset, step, progress, write, stored=stored)


def render_preview(asset, step, progress):
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
            demuxer=source_kind(asset).demuxer,
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

    _finish_render(asset, step, progress, write, stored=stored)


DELIVERY_FILES = (
    (Rendition.Kind.DELIVERY_WAV, "delivery.wav"),
    (Rendition.Kind.DELIVERY_MP3, "delivery.mp3"),
    (Rendition.Kind.DELIVERY_FLAC, "delivery.flac"),
)


def render_delivery(asset, step, progress):
    """Two-pass loudness normalisation to the target (-14 LUFS, true peak under -1 dBTP), then
    WAV 16-bit/44.1 kHz, MP3 320 kbps and FLAC from the same master."""
    folder = asset_folder(asset)
    target, ceiling = transcode.loudnorm_targets()
    demuxer = source_kind(asset).demuxer
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
        _renditions_save(
            locked,
            stored,
            [(kind, f"{folder}/{filename}") for kind, filename in DELIVERY_FILES],
            bitrates=bitrates,
            sample_rate=transcode.OUTPUT_RATE,
            details={"loudnorm": loudnorm},
        )
        return {
            "normalization_type": second.get("normalization_type"),
            "input_i": first.get("input_i"),
        }

    _finish_render(asset, step, progress, write, stored=stored)


def render_plan(asset: AudioAsset) -> list[tuple[str, Callable]]:
    """The (sub-step, function) pairs of the asset's purpose, in the order they run."""
    if asset.purpose == AudioAsset.Purpose.CATALOG:
        plan = [("render.mp3", render_mp3), ("render.hls", render_hls)]
        lossless = asset.codec.startswith("pcm_") or asset.codec in LOSSLESS_CODECS
        if lossless and conf.get("AUDIO_CATALOG_LOSSLESS"):
            plan.append(("render.flac", render_flac))
        return plan
    if asset.purpose == AudioAsset.Purpose.PREVIEW:
        return [("render.preview", render_preview)]
    return [("render.delivery", render_delivery), ("qc.delivery", delivery_check)]


def audio_asset_render(*, asset: AudioAsset) -> None:
    """Make the renditions of the asset's purpose, one idempotent sub-step at a time."""
    plan = render_plan(asset)
    start, end = PROGRESS_AFTER["analyse"], PROGRESS_AFTER["render"]
    for index, (step, work) in enumerate(plan):
        asset.refresh_from_db()
        if asset.status == AudioAsset.Status.FAILED:
            return
        progress = start + (end - start) * (index + 1) / len(plan)
        if step_skip_if_done(asset, step, progress):
            continue
        step_start(asset, step, progress)
        work(asset, step, progress)
