"""Errors of the media pipeline.

Upload rejections are Django ``ValidationError`` subclasses carrying ``code`` and ``http_status``
(413 too large, 415 unsupported or not audio, 400 unreadable or out of limits), so forms can show
them and API layers can map them with :meth:`MediaRejected.as_api_exception`.

Processing errors split into two families: :class:`TransientMediaError` (retried with backoff)
and :class:`PipelineError` (never retried: the asset fails with ``reason``, written for people).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework.exceptions import APIException


class MediaRejected(ValidationError):
    """An upload the platform does not accept. Nothing was stored."""

    http_status = 400
    default_code = "invalid_media"

    def __init__(self, message: str, *, code: str | None = None, params: dict | None = None):
        super().__init__(message, code=code or self.default_code, params=params)

    @property
    def detail(self) -> str:
        return self.messages[0]

    def as_api_exception(self):
        """A DRF exception with the right status; the project handler renders ``{detail, code}``."""
        error = APIException(detail=self.detail, code=self.code)
        error.status_code = self.http_status
        return error


class UploadTooLarge(MediaRejected):
    http_status = 413
    default_code = "file_too_large"


class UnsupportedMedia(MediaRejected):
    http_status = 415
    default_code = "unsupported_media_type"


class UnreadableMedia(MediaRejected):
    http_status = 400
    default_code = "unreadable_media"


class DurationOutOfRange(UnreadableMedia):
    default_code = "duration_out_of_range"


class ImageTooLarge(MediaRejected):
    """Too many pixels or too wide/high (the byte size limit is :class:`UploadTooLarge`)."""

    http_status = 400
    default_code = "image_too_large"


class PipelineError(Exception):
    """A processing failure that retrying cannot fix. ``reason`` is shown to the owner."""

    code = "processing_failed"

    def __init__(self, reason: str, *, code: str | None = None, detail: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail  # technical detail (ffmpeg's message) for logs and the step record
        if code:
            self.code = code


class CorruptMedia(PipelineError):
    code = "corrupt_media"


class ProcessingFailed(PipelineError):
    code = "processing_failed"


class ToolMissing(PipelineError):
    code = "tool_missing"


class TransientMediaError(Exception):
    """Storage hiccups, full disks, killed or timed-out processes: worth another try."""


class MediaUnavailable(PermissionDenied):
    """The object exists but may not be handed out (e.g. a delivery blocked by its checks)."""
