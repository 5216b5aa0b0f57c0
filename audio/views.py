"""Serving protected media behind signed URLs (see ``audio.services.audio_url_sign``).

``GET|HEAD /media/s/<token>/<path>``:

- 403 when the token is tampered with or expired, or bound to another user than the one
  authenticated (session or API token), or when ``path`` is not part of the signed object;
- 404 when the object or the file is gone;
- Range requests: 206 with ``Content-Range`` for ``bytes=a-b``, ``bytes=a-`` and suffix ranges
  ``bytes=-n``; 416 with ``Content-Range: bytes */size`` when unsatisfiable; 200 (the whole
  file) without Range, or for malformed and multi-range requests (which servers may ignore);
- with ``MEDIA_ACCEL_REDIRECT`` on, nginx sends the bytes (and handles ranges) via
  ``X-Accel-Redirect`` under ``MEDIA_ACCEL_PREFIX``;
- HLS playlists on S3 are rewritten so segments are presigned S3 URLs (child playlists stay
  relative, served here with the same token).
"""

import hashlib
import posixpath
import re
from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from audio import storage
from audio.access import ASSET, AccessDenied, token_read
from audio.models import AudioAsset, Rendition
from audio.services import content_type_for, download_filename

CHUNK = 64 * 1024
HLS_SUFFIXES = (".m3u8", ".ts", ".m4s", ".aac", ".mp4")


def _requesting_user_id(request) -> str | None:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return str(user.pk)
    if request.META.get("HTTP_AUTHORIZATION"):
        from knox.auth import TokenAuthentication
        from rest_framework.exceptions import AuthenticationFailed

        try:
            authenticated = TokenAuthentication().authenticate(request)
        except AuthenticationFailed:
            return None
        if authenticated:
            return str(authenticated[0].pk)
    return None


def _resolve(grant, path: str) -> tuple[object, AudioAsset, str]:
    """(object, asset, storage name) for ``path`` inside the granted object."""
    if grant.kind == ASSET:
        asset = AudioAsset.objects.filter(pk=grant.object_id).first()
        if asset is None or not asset.original:
            raise Http404("No such media.")
        name = asset.original.name
        obj = asset
    else:
        rendition = Rendition.objects.select_related("asset").filter(pk=grant.object_id).first()
        if rendition is None:
            raise Http404("No such media.")
        asset = rendition.asset
        if asset.purpose == AudioAsset.Purpose.DELIVERY and asset.status != AudioAsset.Status.READY:
            raise AccessDenied("blocked")
        obj = rendition
        if rendition.is_hls:
            normalised = posixpath.normpath(path)
            if (
                normalised.startswith(("/", ".."))
                or normalised == "."
                or not normalised.endswith(HLS_SUFFIXES)
                or "\\" in normalised
            ):
                raise AccessDenied("outside")
            return obj, asset, f"{rendition.folder}/{normalised}"
        name = rendition.file.name
    if path != posixpath.basename(name):
        raise AccessDenied("outside")
    return obj, asset, name


@require_safe
def media_serve(request, token: str, path: str):
    grant = token_read(token)  # AccessDenied (403) when tampered with or expired
    if grant.user_id is not None and grant.user_id != _requesting_user_id(request):
        raise AccessDenied("other user")
    obj, asset, name = _resolve(grant, path)
    store = asset.original.storage
    content_type = content_type_for(name)
    headers = {
        "Cache-Control": f"private, max-age={grant.remaining}",
        "X-Content-Type-Options": "nosniff",
    }
    if grant.download:
        filename = download_filename(asset, posixpath.basename(name))
        full_name = download_filename(asset, posixpath.basename(name), ascii_only=False)
        headers["Content-Disposition"] = (
            f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(full_name)}"
        )

    if name.endswith(".m3u8") and not storage.is_local(store):
        return _playlist_rewritten(request, store, name, grant, headers)
    if getattr(settings, "MEDIA_ACCEL_REDIRECT", False) and storage.is_local(store):
        if not store.exists(name):
            raise Http404("No such file.")
        response = HttpResponse(content_type=content_type)
        prefix = getattr(settings, "MEDIA_ACCEL_PREFIX", "/protected-media/").rstrip("/")
        response["X-Accel-Redirect"] = f"{prefix}/{quote(name)}"
        for key, value in headers.items():
            response[key] = value
        return response
    return ranged_response(
        request, store, name, content_type, headers=headers, etag_seed=_etag_seed(obj)
    )


def _etag_seed(obj) -> str:
    stamp = getattr(obj, "updated_at", None)
    return f"{obj.__class__.__name__}:{obj.pk}:{stamp.timestamp() if stamp else ''}"


_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
UNSATISFIABLE = "unsatisfiable"


def parse_range(header: str | None, size: int):
    """``None`` (serve everything), ``(start, end)`` inclusive, or ``UNSATISFIABLE``."""
    if not header:
        return None
    match = _RANGE_RE.match(header.strip().replace(" ", ""))
    if not match:
        return None  # malformed or several ranges: ignored, the whole file is sent
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            return UNSATISFIABLE
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # syntactically invalid: ignore
    if start >= size:
        return UNSATISFIABLE
    return start, min(end, size - 1)


def _file_chunks(handle, start: int, length: int):
    try:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            data = handle.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        handle.close()


def ranged_response(request, store, name: str, content_type: str, *, headers: dict, etag_seed: str):
    try:
        size = store.size(name)
    except (FileNotFoundError, OSError):
        raise Http404("No such file.") from None
    etag = '"' + hashlib.sha256(f"{etag_seed}:{name}:{size}".encode()).hexdigest()[:32] + '"'
    requested = request.META.get("HTTP_RANGE")
    if_range = request.META.get("HTTP_IF_RANGE")
    if requested and if_range and if_range.strip() != etag:
        requested = None  # the client's copy is stale: send it the whole file
    byte_range = parse_range(requested, size)

    if byte_range == UNSATISFIABLE:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        start, end = (0, size - 1) if byte_range is None else byte_range
        length = max(0, end - start + 1) if size else 0
        if request.method == "HEAD":
            response = HttpResponse(content_type=content_type)
        else:
            handle = store.open(name, "rb")
            response = StreamingHttpResponse(
                _file_chunks(handle, start, length), content_type=content_type
            )
        response["Content-Length"] = str(length)
        if byte_range is not None:
            response.status_code = 206
            response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Date"] = http_date()
    for key, value in headers.items():
        response[key] = value
    return response


_URI_ATTRIBUTE = re.compile(r'URI="([^"]+)"')


def _playlist_rewritten(request, store, name: str, grant, headers: dict):
    """An HLS playlist from remote storage with its segments as presigned URLs."""
    try:
        with store.open(name, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (FileNotFoundError, OSError):
        raise Http404("No such file.") from None
    base = posixpath.dirname(name)
    expire = max(1, grant.remaining)

    def rewrite(uri: str) -> str:
        if "://" in uri or uri.endswith(".m3u8"):
            return uri  # absolute, or a child playlist: served here with the same token
        target = posixpath.normpath(posixpath.join(base, uri))
        return store.url(
            target, parameters={"ResponseContentType": content_type_for(target)}, expire=expire
        )

    lines = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            lines.append(line)
        elif stripped.startswith("#"):
            lines.append(_URI_ATTRIBUTE.sub(lambda m: f'URI="{rewrite(m.group(1))}"', line))
        else:
            lines.append(rewrite(stripped))
    response = HttpResponse("\n".join(lines) + "\n", content_type="application/vnd.apple.mpegurl")
    for key, value in headers.items():
        response[key] = value
    response["Cache-Control"] = "private, no-store"
    return response
