"""Upload validation used by every upload on the platform (songs, drafts, finals, covers, avatars).

Audio: size first (413), then the container from the content's first bytes (415), then ffprobe
(or ffmpeg alone) must read an audio stream from it (400 unreadable, 415 when it is a video or
holds no audio), then the duration limits (400). The file name and the browser's content type
are never trusted. Images: Pillow, through ``accounts.validators.validate_image_upload``.
"""

import hashlib
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from accounts.validators import validate_image_upload
from audio import conf
from audio.errors import (
    DurationOutOfRange,
    ImageTooLarge,
    MediaRejected,
    UnreadableMedia,
    UnsupportedMedia,
    UploadTooLarge,
)
from audio.ffmpeg import ProbeFailed, ProbeResult, probe
from audio.sniff import MediaKind, sniff_path

ACCEPTED = "MP3, WAV, M4A/AAC, FLAC or Ogg"


@dataclass
class UploadInspection:
    kind: MediaKind
    probe: ProbeResult
    size: int
    sha256: str
    original_name: str


def _upload_size(upload) -> int | None:
    size = getattr(upload, "size", None)
    return int(size) if size is not None else None


def _too_large(size: int, limit: int) -> UploadTooLarge:
    return UploadTooLarge(
        "The file is %(size)s; the limit is %(limit)s.",
        params={"size": filesizeformat(size), "limit": filesizeformat(limit)},
    )


@contextmanager
def spooled_upload(upload, *, max_bytes: int):
    """Copy the upload to a private temporary file, hashing it on the way; yields
    ``(path, size, sha256)`` and removes the copy afterwards, whatever happens."""
    declared = _upload_size(upload)
    if declared is not None and declared > max_bytes:
        raise _too_large(declared, max_bytes)
    digest = hashlib.sha256()
    size = 0
    handle, path = tempfile.mkstemp(prefix="encore-upload-")
    try:
        with os.fdopen(handle, "wb") as target:
            if hasattr(upload, "seek"):
                upload.seek(0)
            chunks = (
                upload.chunks()
                if hasattr(upload, "chunks")
                else iter(lambda: upload.read(1 << 20), b"")
            )
            for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:  # the declared size lied, or there was none
                    raise _too_large(size, max_bytes)
                digest.update(chunk)
                target.write(chunk)
        if hasattr(upload, "seek"):
            upload.seek(0)
        yield path, size, digest.hexdigest()
    finally:
        os.unlink(path)


def inspect_audio_file(path, *, size: int) -> tuple[MediaKind, ProbeResult]:
    """Everything but the size limit, on a local copy of the upload."""
    if size == 0:
        raise UnreadableMedia("The file is empty.", code="empty_file")
    kind = sniff_path(path)
    if kind is None:
        raise UnsupportedMedia(f"This is not an audio file we accept. Upload {ACCEPTED}.")
    try:
        result = probe(path, demuxer=kind.demuxer, timeout=60)
    except ProbeFailed as exc:
        if exc.no_audio:
            raise UnsupportedMedia(f"The file holds no audio. Upload {ACCEPTED}.") from None
        raise UnreadableMedia(
            "The file looks like %(format)s but could not be read; it may be damaged. "
            "Export it again.",
            params={"format": kind.format.upper()},
        ) from None
    if result.has_video:
        raise UnsupportedMedia(
            f"Video files are not accepted. Upload {ACCEPTED} audio.", code="video_not_accepted"
        )
    if not any(name in kind.container_names for name in result.container.split(",")):
        raise UnsupportedMedia(f"This is not an audio file we accept. Upload {ACCEPTED}.")
    if not result.sample_rate or not result.channels:
        raise UnreadableMedia(
            "The audio stream could not be read; it may be damaged. Export it again."
        )
    minimum = float(conf.get("AUDIO_MIN_DURATION_SECONDS"))
    maximum = float(conf.get("AUDIO_MAX_DURATION_SECONDS"))
    if result.duration is None:
        raise UnreadableMedia("The length of the recording could not be read; it may be damaged.")
    if not minimum <= result.duration <= maximum:
        raise DurationOutOfRange(
            "The recording lasts %(duration)s s; it must last between %(min)s and %(max)s s.",
            params={
                "duration": f"{result.duration:.1f}",
                "min": f"{minimum:g}",
                "max": f"{maximum:g}",
            },
        )
    return kind, result


def audio_upload_validate(*, upload) -> UploadInspection:
    """Validate an audio upload without storing it; raises a :class:`MediaRejected` subclass."""
    max_bytes = int(conf.get("AUDIO_MAX_UPLOAD_BYTES"))
    with spooled_upload(upload, max_bytes=max_bytes) as (path, size, sha256):
        kind, result = inspect_audio_file(path, size=size)
    return UploadInspection(
        kind=kind, probe=result, size=size, sha256=sha256, original_name=_display_name(upload)
    )


def _display_name(upload) -> str:
    name = os.path.basename(str(getattr(upload, "name", "") or ""))
    return name[:255]


_IMAGE_ERRORS = {
    "file_too_large": UploadTooLarge,
    "invalid_image": UnsupportedMedia,
    "unsupported_image_format": UnsupportedMedia,
    "image_too_large": ImageTooLarge,
}


def image_upload_validate(
    *, upload, max_bytes: int | None = None, max_side: int | None = None
) -> str:
    """Covers and avatars: a real JPEG/PNG/WebP/GIF within the limits; returns Pillow's format.

    The checks are ``accounts.validators.validate_image_upload``'s; its errors come back as the
    same 413/415/400 family as audio rejections.
    """
    try:
        return validate_image_upload(
            upload,
            max_bytes=max_bytes or int(conf.get("AUDIO_IMAGE_MAX_BYTES")),
            max_side=max_side or int(conf.get("AUDIO_IMAGE_MAX_SIDE")),
        )
    except MediaRejected:
        raise
    except ValidationError as error:
        exception = _IMAGE_ERRORS.get(error.code, UnsupportedMedia)
        raise exception(error.messages[0], code=error.code) from None
