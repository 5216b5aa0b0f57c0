"""The quality checks as a step: the source after the probe, and the delivery files after they
are rendered. The rules and thresholds live in ``audio.qc``; this records them as reports and
fails the asset where a check blocks (deliveries)."""

from django.db import transaction

from audio import qc, storage, transcode
from audio.errors import PipelineError
from audio.models import AudioAsset, QualityCheck, QualityReport, Rendition
from audio.pipeline.outcome import fail_locked
from audio.pipeline.probe import measure_file
from audio.pipeline.steps import (
    PROGRESS_AFTER,
    asset_lock,
    probe_measurements,
    step_finish,
    step_skip_if_done,
    step_start,
)


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


def _report_record(
    locked: AudioAsset, step: str, *, progress: float, stage: str, checks: list, blocking: bool
) -> QualityReport:
    """Save the stage's report and finish the step; a blocking verdict is recorded as a failed
    step (so a reprocess checks again) and fails the asset with every reason."""
    report = _report_save(locked, stage=stage, checks=checks, blocking=blocking)
    blocked = blocking and report.status == qc.FAILED
    step_finish(
        locked,
        step,
        progress=progress,
        failed=blocked,
        result={"status": report.status, "checks": [c.as_dict() for c in checks]},
    )
    if blocked:
        fail_locked(
            locked, code="qc_failed", reason=qc.failure_reason(checks, stage=stage), step=step
        )
    return report


def audio_asset_qc(*, asset: AudioAsset) -> QualityReport | None:
    """Check the source (sample rate, clipping, edge silence, level). A failure blocks deliveries
    (the asset fails with every reason); elsewhere the findings are warnings."""
    step = "qc"
    if step_skip_if_done(asset, step, PROGRESS_AFTER[step]):
        return None
    step_start(asset, step, PROGRESS_AFTER["probe"])
    measurements = probe_measurements(asset)
    blocking = asset.purpose == AudioAsset.Purpose.DELIVERY
    checks = qc.source_checks(measurements, blocking=blocking)
    with transaction.atomic():
        return _report_record(
            asset_lock(asset.pk),
            step,
            progress=PROGRESS_AFTER[step],
            stage=QualityReport.Stage.SOURCE,
            checks=checks,
            blocking=blocking,
        )


DELIVERY_DEMUXERS = {"delivery_wav": "wav", "delivery_mp3": "mp3", "delivery_flac": "flac"}


def delivery_check(asset, step, progress):
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
        locked = asset_lock(asset.pk)
        for kind, m in by_kind.items():
            Rendition.objects.filter(pk=renditions[kind].pk).update(
                duration=m["duration"],
                loudness_lufs=m["integrated_lufs"],
                true_peak_dbtp=m["true_peak_dbtp"],
            )
        _report_record(
            locked,
            step,
            progress=progress,
            stage=QualityReport.Stage.DELIVERY,
            checks=checks,
            blocking=True,
        )
