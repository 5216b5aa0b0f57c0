"""Settings of the media pipeline, each with its default.

Every value can be overridden in ``config/settings.py`` (``AUDIO_*``); the functions read the
setting at call time so tests can change them with pytest-django's ``settings`` fixture.
"""

import os
from pathlib import Path

from django.conf import settings

MB = 1024 * 1024

DEFAULTS = {
    # uploads
    "AUDIO_MAX_UPLOAD_BYTES": 50 * MB,
    "AUDIO_MIN_DURATION_SECONDS": 1.0,
    "AUDIO_MAX_DURATION_SECONDS": 30 * 60.0,
    "AUDIO_IMAGE_MAX_BYTES": 10 * MB,
    "AUDIO_IMAGE_MAX_SIDE": 4096,
    # analysis
    "AUDIO_ANALYSIS_MAX_SECONDS": 120.0,
    "AUDIO_WARM_ON_WORKER_START": True,
    # catalog renditions (the MP3 ladder is fixed at 96/160/320 kbps: the tiers' qualities)
    "AUDIO_HLS_BITRATES_KBPS": (64, 128, 256),
    "AUDIO_HLS_SEGMENT_SECONDS": 6.0,
    "AUDIO_CATALOG_LOSSLESS": True,  # a FLAC rendition when the original is lossless
    # previews
    "AUDIO_PREVIEW_BITRATE_KBPS": 96,
    "AUDIO_PREVIEW_MAX_SECONDS": None,  # None: full length; an asset may set its own limit
    "AUDIO_PREVIEW_WATERMARK_FILE": "",  # a voice tag (any audio file on disk) instead of the tone
    "AUDIO_PREVIEW_WATERMARK_INTERVAL_SECONDS": 10.0,
    "AUDIO_PREVIEW_WATERMARK_OFFSET_SECONDS": 2.0,
    "AUDIO_PREVIEW_WATERMARK_TONE_HZ": 1000.0,
    "AUDIO_PREVIEW_WATERMARK_TONE_SECONDS": 0.6,
    "AUDIO_PREVIEW_WATERMARK_LEVEL_DBFS": -18.0,
    # deliveries
    "AUDIO_DELIVERY_TARGET_LUFS": -14.0,
    "AUDIO_DELIVERY_TRUE_PEAK_DBTP": -1.0,
    "AUDIO_DELIVERY_TRUE_PEAK_HEADROOM_DB": 0.3,  # margin for resampling, dither and encoding
    "AUDIO_DELIVERY_LOUDNESS_TOLERANCE_LU": 1.0,
    # quality checks
    "AUDIO_QC_MIN_SAMPLE_RATE": 44100,
    "AUDIO_QC_MAX_EDGE_SILENCE_SECONDS": 2.0,
    "AUDIO_QC_MIN_SOURCE_LUFS": -35.0,
    "AUDIO_QC_MAX_CLIPPED_RUNS": 0,
    "AUDIO_QC_DURATION_TOLERANCE_SECONDS": 0.1,
    # signed access: a signed URL is a bearer capability, so no URL lives long (an hour at most;
    # downloads are issued anew on each request instead)
    "AUDIO_SIGNED_URL_TTL_SECONDS": 600,
    "AUDIO_SIGNED_URL_MAX_TTL_SECONDS": 3600,
    # processes and tasks
    "AUDIO_FFMPEG_TIMEOUT_SECONDS": 900,
    "AUDIO_TASK_SOFT_TIME_LIMIT_SECONDS": 1500,
    "AUDIO_TASK_TIME_LIMIT_SECONDS": 1800,
    "AUDIO_TASK_MAX_RETRIES": 3,
    "AUDIO_TASK_RETRY_BACKOFF_SECONDS": 15,
    "AUDIO_TASK_RETRY_BACKOFF_MAX_SECONDS": 600,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])


def ffmpeg_binary_setting() -> str:
    """``FFMPEG_BINARY`` from the settings, else from the environment; empty when unset."""
    return getattr(settings, "FFMPEG_BINARY", None) or os.environ.get("FFMPEG_BINARY", "")


def ffprobe_binary_setting() -> str:
    return getattr(settings, "FFPROBE_BINARY", None) or os.environ.get("FFPROBE_BINARY", "")


def numba_cache_dir() -> str:
    """Where numba keeps compiled librosa kernels: ``NUMBA_CACHE_DIR``, else ``var/numba-cache``."""
    configured = getattr(settings, "NUMBA_CACHE_DIR", None) or os.environ.get("NUMBA_CACHE_DIR")
    if configured:
        return str(configured)
    var_dir = getattr(settings, "VAR_DIR", None) or Path(settings.BASE_DIR) / "var"
    return str(Path(var_dir) / "numba-cache")
