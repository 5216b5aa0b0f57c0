"""Signed URLs to protected media (previews, finals, originals, renditions), and the names files
are downloaded under.

A signed URL is a short-lived bearer capability for one object, in every mode: whoever holds it
may fetch that object until it expires, with no cookie or API token (a phone's media player, a
download manager, a client following a redirect without its ``Authorization`` header). Who may
hear what is decided when the URL is issued, by the caller; the URL only carries that decision.
The person it was issued to is signed into it, for the access log:

- local files: ``/media/s/<token>/<file>``, the token from ``audio.access``; served by
  ``audio.views.media_serve`` (Range requests by Django, or by nginx through X-Accel-Redirect
  when ``MEDIA_ACCEL_REDIRECT`` is on), which logs each request with the person to
  ``audio.access``;
- S3: an s3v4 presigned URL for single files, with the person in the signed
  ``x-encore-issued-to`` query parameter, which S3 ignores for the request but writes into its
  server access log. HLS playlists still go through the signed view, which rewrites segment
  references into presigned URLs.

An HLS link may be limited to a listener's plan (``hls_max_kbps``): the ceiling is signed into
the token, and the view then lists only the variants at or under it in the master playlist and
refuses the playlists and segments of the others (``audio.access.hls_variants_within``). Only a
rendition that recorded its variants' bitrates can be limited; others are refused here rather
than served whole.

The default lifetime is ``AUDIO_SIGNED_URL_TTL_SECONDS`` plus the track's duration (enough to
play it through); no URL outlives ``AUDIO_SIGNED_URL_MAX_TTL_SECONDS``. Links that must last
(downloads) are issued anew on each request rather than made long-lived.
"""

import os
import posixpath
import time
from contextvars import ContextVar
from urllib.parse import quote

from django.urls import reverse

from audio import conf, storage
from audio.access import ASSET, RENDITION, Grant, hls_variants, token_make
from audio.errors import MediaUnavailable
from audio.models import AudioAsset, Rendition
from audio.storage import content_type_for

# S3 ignores query parameters starting with "x-" but logs them; signed, they cannot be changed.
ISSUED_TO_PARAMETER = "x-encore-issued-to"
_issued_to: ContextVar[str] = ContextVar("audio_presign_issued_to", default="")


def _issued_to_add(request, **kwargs) -> None:
    """botocore's ``before-sign`` hook: the person joins the query string before it is signed."""
    issued_to = _issued_to.get()
    if issued_to:
        request.params[ISSUED_TO_PARAMETER] = issued_to


def presigned_url(
    store, name: str, *, expires_in: int, issued_to: str | None, parameters: dict | None = None
) -> str:
    """An S3 presigned GET URL for ``name`` that carries the person it was issued to."""
    events = store.connection.meta.client.meta.events
    events.register("before-sign.s3.GetObject", _issued_to_add, unique_id=f"{__name__}.issued-to")
    token = _issued_to.set(issued_to or "")
    try:
        return store.url(name, parameters=parameters, expire=expires_in)
    finally:
        _issued_to.reset(token)


def audio_url_sign(
    *,
    user,
    obj,
    expires_in: int | None = None,
    download: bool = False,
    hls_max_kbps: int | None = None,
) -> str:
    """A short-lived bearer URL to an asset's original or to a rendition, issued to ``user``
    (``None`` for public material).

    The caller has decided that ``user`` may hear ``obj``. Delivery files of an asset that did
    not pass its checks are refused (MediaUnavailable); ``download`` makes the file arrive as an
    attachment under a friendly name. ``hls_max_kbps`` (HLS renditions only) limits the link to
    the variants at or under that bitrate (the lowest variant when none is); a rendition that
    did not record its variants cannot be limited (MediaUnavailable).
    """
    if isinstance(obj, AudioAsset):
        asset, rendition, field = obj, None, obj.original
    elif isinstance(obj, Rendition):
        asset, rendition, field = obj.asset, obj, obj.file
        if asset.purpose == AudioAsset.Purpose.DELIVERY and asset.status != AudioAsset.Status.READY:
            raise MediaUnavailable("This delivery did not pass its quality checks.")
    else:
        raise TypeError("obj must be an AudioAsset or a Rendition")
    if hls_max_kbps is not None:
        if rendition is None or not rendition.is_hls:
            raise ValueError("hls_max_kbps limits HLS renditions only")
        if not isinstance(hls_max_kbps, int) or isinstance(hls_max_kbps, bool) or hls_max_kbps <= 0:
            raise ValueError("hls_max_kbps must be a positive whole number")
        if not hls_variants(rendition.details):
            raise MediaUnavailable("This stream's variants are not recorded; it cannot be limited.")
    if expires_in is None:
        expires_in = int(conf.get("AUDIO_SIGNED_URL_TTL_SECONDS")) + int(asset.duration or 0)
    expires_in = min(int(expires_in), int(conf.get("AUDIO_SIGNED_URL_MAX_TTL_SECONDS")))
    if expires_in <= 0:
        raise ValueError("expires_in must be positive")
    issued_to = str(user.pk) if user is not None and user.pk is not None else None
    name = field.name
    filename = posixpath.basename(name)
    if storage.is_s3(field.storage) and not (rendition and rendition.is_hls):
        parameters = {
            "ResponseContentType": rendition.content_type if rendition else content_type_for(name)
        }
        if download:
            parameters["ResponseContentDisposition"] = content_disposition(asset, filename)
        return presigned_url(
            field.storage, name, expires_in=expires_in, issued_to=issued_to, parameters=parameters
        )
    grant = Grant(
        issued_to=issued_to,
        kind=RENDITION if rendition else ASSET,
        object_id=str(rendition.pk if rendition else asset.pk),
        expires_at=int(time.time()) + expires_in,
        download=download,
        hls_max_kbps=hls_max_kbps,
    )
    return reverse("audio:media", kwargs={"token": token_make(grant), "path": filename})


def download_filename(asset: AudioAsset, filename: str, *, ascii_only: bool = True) -> str:
    """A friendly name for downloads: the upload's name with the served file's extension.
    ``ascii_only`` gives the plain ``filename=`` fallback; otherwise letters of any script stay
    (for RFC 6266 ``filename*``)."""
    stem = os.path.splitext(asset.original_name or "audio")[0]

    def keep(ch):
        return (ch.isascii() or not ascii_only) and (ch.isalnum() or ch in " -_.")

    safe = "".join(ch if keep(ch) else "_" for ch in stem).strip() or "audio"
    return f"{safe[:80]}{posixpath.splitext(filename)[1]}"


def content_disposition(asset: AudioAsset, filename: str) -> str:
    """``attachment`` under the friendly name; ``filename*`` (RFC 6266) when it is not ASCII."""
    plain = download_filename(asset, filename)
    full = download_filename(asset, filename, ascii_only=False)
    header = f'attachment; filename="{plain}"'
    return header if full == plain else f"{header}; filename*=UTF-8''{quote(full)}"
