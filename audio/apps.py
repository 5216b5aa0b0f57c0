import contextlib
import os
import sys

from django.apps import AppConfig

from audio import celery_signals, conf


class AudioConfig(AppConfig):
    name = "audio"
    verbose_name = "Media pipeline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # numba (under librosa) caches compiled kernels here; it reads the variable when it is
        # first imported, which happens later (librosa is imported lazily by the analysis).
        if "numba" not in sys.modules:
            cache_dir = conf.numba_cache_dir()
            os.environ.setdefault("NUMBA_CACHE_DIR", cache_dir)
            # Read-only file systems are fine: numba then compiles in memory only.
            with contextlib.suppress(OSError):
                os.makedirs(os.environ["NUMBA_CACHE_DIR"], exist_ok=True)
        celery_signals.connect()
