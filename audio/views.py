"""Serving protected media behind signed URLs (issued by ``audio.signing.audio_url_sign``).

``GET|HEAD /media/s/<token>/<path>``: the token is a bearer capability for one object, so no
session or API token is asked for. Each request is written to the ``audio.access`` log with the
person the URL was issued to.

- 403 (JSON ``{detail, code}``) when the token is tampered with (``link_invalid``) or expired
  (``link_expired``), when ``path`` is not part of the signed object (``link_invalid``), or when
  the object is a delivery that did not pass its checks (``media_unavailable``);
- 404 when the object or the file is gone;
- Range requests: 206 with ``Content-Range`` for ``bytes=a-b``, ``bytes=a-`` and suffix ranges
  ``bytes=-n``; 416 with ``Content-Range: bytes */size`` when unsatisfiable; 200 (the whole
  file) without Range, or for malformed and multi-range requests (which servers may ignore);
- with ``MEDIA_ACCEL_REDIRECT`` on, nginx sends the bytes (and handles ranges) via
  ``X-Accel-Redirect`` under ``MEDIA_ACCEL_PREFIX``;
- HLS playlists on S3 are rewritten so segments are presigned S3 URLs (child playlists stay
  relative, served here with the same token);
- an HLS token limited to a plan (``Grant.hls_max_kbps``) gets the master playlist rewritten
  here (never through X-Accel, on any storage) to list only the variants its ceiling admits, by
  the bitrates the rendition recorded; the playlists and segments of the other variants are
  refused (403 ``link_invalid``), so editing the master's URIs gains nothing.
"""

import hashlib
import logging
import posixpath
import re
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from audio import storage
from audio.access import ASSET, AccessDenied, Grant, hls_variants, hls_variants_within, token_read
from audio.models import AudioAsset, Rendition
from audio.signing import content_disposition, presigned_url
from audio.storage import content_type_for

CHUNK = 64 * 1024
HLS_SUFFIXES = (".m3u8", ".ts", ".m4s", ".aac", ".mp4")

access_log = logging.getLogger("audio.access")

REFUSALS = {
    "invalid": ("This link is not valid.", "link_invalid"),
    "outside": ("This link does not lead to that file.", "link_invalid"),
    "expired": ("This link has expired. Ask for a new one.", "link_expired"),
    "blocked": ("This delivery did not pass its quality checks.", "media_unavailable"),
}


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
            name = f"{rendition.folder}/{normalised}"
            if grant.hls_max_kbps is not None and not _hls_limit(rendition, grant).admits(name):
                raise AccessDenied("outside")
            return obj, asset, name
        name = rendition.file.name
    if path != posixpath.basename(name):
        raise AccessDenied("outside")
    return obj, asset, name


@dataclass(frozen=True)
class _HlsLimit:
    """What a limited HLS grant admits, as storage names: the master, the admitted variants'
    playlists and folders, and the refused variants' ones."""

    master: str
    playlists: frozenset[str]
    folders: frozenset[str]
    refused_playlists: frozenset[str]
    refused_folders: frozenset[str]

    def admits(self, name: str) -> bool:
        """The master, an admitted variant's playlist, or a file inside an admitted variant's
        folder and no refused variant's (a flat layout, where the rungs' segments share one
        folder, cannot be told apart and is refused)."""
        if name == self.master or name in self.playlists:
            return True
        if name in self.refused_playlists or _within(name, self.refused_folders):
            return False
        return _within(name, self.folders)


def _hls_limit(rendition: Rendition, grant: Grant) -> _HlsLimit:
    variants = hls_variants(rendition.details)
    admitted = hls_variants_within(variants, grant.hls_max_kbps)
    refused = [v for v in variants if v not in admitted]

    def names(chosen, attribute):
        values = (getattr(v, attribute) for v in chosen)
        return frozenset(f"{rendition.folder}/{value}" for value in values if value)

    return _HlsLimit(
        master=rendition.file.name,
        playlists=names(admitted, "playlist"),
        folders=names(admitted, "folder"),
        refused_playlists=names(refused, "playlist"),
        refused_folders=names(refused, "folder"),
    )


def _within(name: str, folders) -> bool:
    return any(name.startswith(f"{folder}/") for folder in folders)


def _log(request, grant: Grant | None, outcome: str, *, path: str, status: int) -> None:
    issued_to = grant.issued_to if grant else None
    target = f"{grant.kind}:{grant.object_id}" if grant else "-"
    access_log.info(
        "media %s issued_to=%s object=%s file=%s status=%s range=%s client=%s",
        outcome,
        issued_to or "-",
        target,
        path,
        status,
        request.META.get("HTTP_RANGE", "-"),
        request.META.get("REMOTE_ADDR", "-"),
        extra={
            "issued_to": issued_to,
            "media_object": target,
            "media_file": path,
            "media_status": status,
            "media_outcome": outcome,
            "media_max_kbps": grant.hls_max_kbps if grant else None,
        },
    )


@require_safe
def media_serve(request, token: str, path: str):
    grant = None
    try:
        grant = token_read(token)
        obj, asset, name = _resolve(grant, path)
    except AccessDenied as denied:
        detail, code = REFUSALS.get(denied.reason, REFUSALS["invalid"])
        _log(request, denied.grant or grant, f"refused:{denied.reason}", path=path, status=403)
        return JsonResponse({"detail": detail, "code": code}, status=403)
    except Http404:
        _log(request, grant, "missing", path=path, status=404)
        return JsonResponse({"detail": "No such media.", "code": "not_found"}, status=404)
    response = _serve(request, grant, obj, asset, name)
    _log(request, grant, "served", path=path, status=response.status_code)
    return response


def _serve(request, grant: Grant, obj, asset: AudioAsset, name: str):
    store = asset.original.storage
    content_type = content_type_for(name)
    headers = {
        "Cache-Control": f"private, max-age={grant.remaining}",
        "X-Content-Type-Options": "nosniff",
    }
    if grant.download:
        headers["Content-Disposition"] = content_disposition(asset, posixpath.basename(name))

    limit = None
    limited = grant.hls_max_kbps is not None and isinstance(obj, Rendition) and obj.is_hls
    if limited and name == obj.file.name:
        limit = _hls_limit(obj, grant)
    remote = not storage.is_local(store)
    if name.endswith(".m3u8") and (remote or limit is not None):
        return _playlist_rewritten(store, name, grant, headers, limit=limit, presign=remote)
    if getattr(settings, "MEDIA_ACCEL_REDIRECT", False) and storage.is_local(store):
        if not store.exists(name):
            return JsonResponse({"detail": "No such media.", "code": "not_found"}, status=404)
        response = HttpResponse(content_type=content_type)
        prefix = getattr(settings, "MEDIA_ACCEL_PREFIX", "/protected-media/").rstrip("/")
        response["X-Accel-Redirect"] = f"{prefix}/{quote(name)}"
        for key, value in headers.items():
            response[key] = value
        return response
    try:
        return ranged_response(
            request, store, name, content_type, headers=headers, etag_seed=_etag_seed(obj)
        )
    except Http404:
        return JsonResponse({"detail": "No such media.", "code": "not_found"}, status=404)


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


def _playlist_rewritten(
    store, name: str, grant: Grant, headers: dict, *, limit: _HlsLimit | None, presign: bool
):
    """An HLS playlist served by Django rather than as stored: with ``limit``, a master playlist
    keeps only the admitted variants (each ``#EXT-X-STREAM-INF`` goes with the URI after it;
    ``URI="..."`` tags of refused renditions go); with ``presign``, segments on remote storage
    become presigned URLs."""
    try:
        with store.open(name, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (FileNotFoundError, OSError):
        raise Http404("No such file.") from None
    base = posixpath.dirname(name)
    expire = max(1, grant.remaining)

    def target_of(uri: str) -> str:
        return posixpath.normpath(posixpath.join(base, uri))

    def admitted(uri: str) -> bool:
        if limit is None:
            return True
        if "://" in uri or uri.startswith("/"):
            return False  # not a file of this rendition: its rung cannot be known
        return limit.admits(target_of(uri))

    def rewrite(uri: str) -> str:
        if not presign or "://" in uri or uri.endswith(".m3u8"):
            return uri  # absolute, or a child playlist: served here with the same token
        target = target_of(uri)
        return presigned_url(
            store,
            target,
            expires_in=expire,
            issued_to=grant.issued_to,
            parameters={"ResponseContentType": content_type_for(target)},
        )

    lines = []
    variant_tag = None  # an #EXT-X-STREAM-INF waiting for the URI line that it describes
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            lines.append(line)
        elif stripped.startswith("#EXT-X-STREAM-INF"):
            variant_tag = line
        elif stripped.startswith("#"):
            uris = _URI_ATTRIBUTE.findall(line)
            if all(admitted(uri) for uri in uris):
                lines.append(_URI_ATTRIBUTE.sub(lambda m: f'URI="{rewrite(m.group(1))}"', line))
        else:
            if admitted(stripped):
                if variant_tag is not None:
                    lines.append(variant_tag)
                lines.append(rewrite(stripped))
            variant_tag = None
    response = HttpResponse("\n".join(lines) + "\n", content_type="application/vnd.apple.mpegurl")
    for key, value in headers.items():
        response[key] = value
    response["Cache-Control"] = "private, no-store"
    return response
