"""Warm librosa (numba) once per worker process, before tasks arrive.

librosa's first analysis compiles numba kernels (tens of seconds cold; a few seconds when
``NUMBA_CACHE_DIR`` holds them). Prefork children warm up on ``worker_process_init``; pools
without child processes (solo, threads) warm up once on ``worker_init``. Workers started by
``celery.contrib.testing`` inside a test run are left alone. ``AudioConfig.ready()`` connects
the handlers (:func:`connect`).
"""

import logging

from celery.signals import worker_init, worker_process_init

from audio import analysis, conf

logger = logging.getLogger(__name__)


def _warm() -> None:
    if not conf.get("AUDIO_WARM_ON_WORKER_START"):
        return
    try:
        analysis.warm_up()
    except Exception:  # a failed warm-up only costs the first task some seconds
        logger.exception("librosa warm-up failed")


def warm_prefork_child(**kwargs):
    _warm()


def warm_single_process_worker(sender=None, **kwargs):
    if type(sender).__module__.startswith("celery.contrib.testing"):
        return  # in-process test workers: the test session warms up once itself
    pool = getattr(sender, "pool_cls", None)
    module = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    if "prefork" not in str(module):
        _warm()


def connect() -> None:
    worker_process_init.connect(warm_prefork_child, weak=False, dispatch_uid="audio.warm.child")
    worker_init.connect(warm_single_process_worker, weak=False, dispatch_uid="audio.warm.worker")
