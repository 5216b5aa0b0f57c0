"""The pipeline as a Celery chain: probe -> qc -> analyse -> render -> finalize.

Every task is ``acks_late`` (a worker dying mid-step leaves the message to be redelivered), has
soft and hard time limits, and is idempotent (finished steps are skipped, see
``audio.pipeline.steps``). Each task runs one step of ``audio.pipeline``; uploads are queued here
by ``audio.services`` (:func:`pipeline_start`). Errors are sorted three ways:

- transient (storage or database hiccups, a full disk, a killed or timed-out ffmpeg): retried
  with exponential backoff and jitter, at most ``AUDIO_TASK_MAX_RETRIES`` times, after which the
  asset fails with a "try again later" reason;
- the input itself (damaged, cut off, failing delivery checks): no retry, the asset fails at once
  with a reason its owner can act on;
- the soft time limit: the asset fails with a "took too long" reason.

A failed asset stops the chain: the remaining tasks see its status and return immediately.
"""

import logging
import random
import subprocess

from botocore.exceptions import BotoCoreError, ClientError
from celery import chain, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError, OperationalError

from audio import conf
from audio.errors import PipelineError, TransientMediaError
from audio.models import AudioAsset
from audio.pipeline.analyse import audio_asset_analyse
from audio.pipeline.outcome import audio_asset_fail, audio_asset_finalize
from audio.pipeline.probe import audio_asset_probe
from audio.pipeline.quality import audio_asset_qc
from audio.pipeline.rendering import audio_asset_render
from audio.pipeline.steps import AssetGone

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (
    TransientMediaError,
    OSError,
    subprocess.TimeoutExpired,
    OperationalError,
    InterfaceError,
    BotoCoreError,
    ClientError,
)

REASON_UNAVAILABLE = (
    "A temporary problem on our side kept this file from being processed, even after several "
    "attempts. Please try again later."
)
REASON_TIMEOUT = (
    "Processing this file took too long and was stopped. Try a shorter file or ask support."
)
REASON_INTERNAL = (
    "Something went wrong on our side while processing this file. We have been notified."
)

TASK_OPTIONS = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "max_retries": int(conf.get("AUDIO_TASK_MAX_RETRIES")),
    "soft_time_limit": int(conf.get("AUDIO_TASK_SOFT_TIME_LIMIT_SECONDS")),
    "time_limit": int(conf.get("AUDIO_TASK_TIME_LIMIT_SECONDS")),
}


def retry_countdown(retries: int) -> float:
    """Exponential backoff with full jitter, capped."""
    base = float(conf.get("AUDIO_TASK_RETRY_BACKOFF_SECONDS"))
    cap = float(conf.get("AUDIO_TASK_RETRY_BACKOFF_MAX_SECONDS"))
    return min(cap, base * 2**retries) * (0.5 + random.random() / 2)  # noqa: S311 - not crypto


def _stop_chain(task) -> None:
    task.request.chain = None  # a worker runs no further links; eager runs see the status


def run_step(task, asset_id: str, step: str, service) -> str:
    asset = AudioAsset.objects.filter(pk=asset_id).first()
    if asset is None:
        logger.info("audio %s: asset %s is gone, stopping", step, asset_id)
        _stop_chain(task)
        return "gone"
    if asset.status == AudioAsset.Status.FAILED:
        _stop_chain(task)
        return "stopped"
    retries = task.request.retries or 0
    while True:
        try:
            service(asset=asset)
        except AssetGone:
            _stop_chain(task)
            return "gone"
        except PipelineError as exc:
            logger.warning(
                "audio %s failed for %s: %s (%s)", step, asset_id, exc.reason, exc.detail
            )
            audio_asset_fail(
                asset=asset, code=exc.code, reason=exc.reason, step=step, detail=exc.detail
            )
            _stop_chain(task)
            return "failed"
        except SoftTimeLimitExceeded:
            logger.warning("audio %s timed out for %s", step, asset_id)
            audio_asset_fail(asset=asset, code="timeout", reason=REASON_TIMEOUT, step=step)
            _stop_chain(task)
            return "failed"
        except TRANSIENT_ERRORS as exc:
            if retries >= task.max_retries:
                logger.error(
                    "audio %s for %s still failing after %d retries: %r",
                    step,
                    asset_id,
                    retries,
                    exc,
                )
                audio_asset_fail(
                    asset=asset,
                    code="unavailable",
                    reason=REASON_UNAVAILABLE,
                    step=step,
                    detail=repr(exc),
                )
                _stop_chain(task)
                return "failed"
            countdown = retry_countdown(retries)
            logger.info(
                "audio %s for %s: %r, retry %d in %.0f s",
                step,
                asset_id,
                exc,
                retries + 1,
                countdown,
            )
            if task.request.is_eager:
                # Inline (eager) runs have no broker to come back through: retry right here.
                retries += 1
                asset = AudioAsset.objects.filter(pk=asset_id).first() or asset
                continue
            raise task.retry(exc=exc, countdown=countdown) from None
        except Exception as exc:
            logger.exception("audio %s crashed for %s", step, asset_id)
            audio_asset_fail(
                asset=asset, code="internal", reason=REASON_INTERNAL, step=step, detail=repr(exc)
            )
            _stop_chain(task)
            return "failed"
        break
    if AudioAsset.objects.filter(pk=asset_id, status=AudioAsset.Status.FAILED).exists():
        _stop_chain(task)  # a blocking quality check
        return "failed"
    return "done"


@shared_task(name="audio.probe", **TASK_OPTIONS)
def probe(self, asset_id: str) -> str:
    return run_step(self, asset_id, "probe", audio_asset_probe)


@shared_task(name="audio.qc", **TASK_OPTIONS)
def quality_check(self, asset_id: str) -> str:
    return run_step(self, asset_id, "qc", audio_asset_qc)


@shared_task(name="audio.analyse", **TASK_OPTIONS)
def analyse(self, asset_id: str) -> str:
    return run_step(self, asset_id, "analyse", audio_asset_analyse)


@shared_task(name="audio.render", **TASK_OPTIONS)
def render(self, asset_id: str) -> str:
    return run_step(self, asset_id, "render", audio_asset_render)


@shared_task(name="audio.finalize", **TASK_OPTIONS)
def finalize(self, asset_id: str) -> str:
    return run_step(self, asset_id, "finalize", audio_asset_finalize)


def pipeline(asset_id: str):
    asset_id = str(asset_id)
    return chain(
        probe.si(asset_id),
        quality_check.si(asset_id),
        analyse.si(asset_id),
        render.si(asset_id),
        finalize.si(asset_id),
    )


def pipeline_start(asset_id: str, *, inline: bool = False) -> None:
    """Send the chain to the workers (or run it here with ``inline``)."""
    signature = pipeline(asset_id)
    if inline:
        signature.apply()
    else:
        signature.apply_async()
