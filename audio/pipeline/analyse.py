"""The analysis step: tempo, key and descriptors (``audio.analysis``), kept per asset."""

from django.db import transaction

from audio import analysis, storage
from audio.models import AudioAnalysis, AudioAsset
from audio.pipeline.steps import (
    PROGRESS_AFTER,
    asset_lock,
    probe_measurements,
    source_kind,
    step_finish,
    step_skip_if_done,
    step_start,
)

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
    if step_skip_if_done(asset, step, PROGRESS_AFTER[step]):
        return None
    step_start(asset, step, PROGRESS_AFTER["qc"])
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
        measurements = probe_measurements(asset)
        store = asset.original.storage
        with storage.local_path(store, asset.original.name) as path:
            result = analysis.analyse_file(
                path,
                demuxer=source_kind(asset).demuxer,
                duration=asset.duration,
                loudness_lufs=measurements.get("integrated_lufs"),
                peak_dbfs=measurements.get("sample_peak_dbfs"),
            )
        values = {name: getattr(result, name) for name in ANALYSIS_FIELDS}
        reused_from = None
    with transaction.atomic():
        locked = asset_lock(asset.pk)
        record, _ = AudioAnalysis.objects.update_or_create(
            asset=locked,
            defaults={
                **values,
                "sha256": locked.sha256,
                "analyser_version": analysis.ANALYSER_VERSION,
            },
        )
        step_finish(
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
