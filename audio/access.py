"""The signed token inside a media URL: a short-lived bearer capability for one object.

A token is Django-signed (``SECRET_KEY``, salted) JSON naming the object (an asset's original or
a rendition), the expiry, whether it is a download, and the person it was issued to. Whoever
holds the URL may fetch that object until it expires, with no cookie or API token, exactly as
with an S3 presigned URL or a CDN signed URL: media players, download managers and clients that
follow a redirect without their credentials all work. The person it was issued to is kept for
the access log only; any change to the token breaks the signature.

It travels in the URL path (``/media/s/<token>/<file>``), so the files an HLS playlist names
relatively are fetched with the same token; the view only serves files inside the object.

An HLS grant may carry a ceiling, ``hls_max_kbps`` (the listener's plan): the token then admits
only the variants whose recorded bitrate (``Rendition.details["variants"]``, written by the
pipeline) is at or under it, or the lowest variant when none is, so that a free listener's link
cannot be edited into a premium one; :func:`hls_variants_within` is that rule.

Tokens are versioned. Version 2 added the ceiling; version 1 tokens (issued before, never with
a ceiling) are still read, as grants without one, until they expire.
"""

import posixpath
import time
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import PermissionDenied

SALT = "audio.media-url"
VERSION = 2
_READABLE = {1: 6, 2: 7}  # version -> payload length
ASSET, RENDITION = "a", "r"


@dataclass(frozen=True)
class Grant:
    issued_to: str | None  # the person's id, for the access log; None: issued to nobody
    kind: str  # ASSET (the original) or RENDITION
    object_id: str
    expires_at: int  # Unix time
    download: bool = False
    hls_max_kbps: int | None = None  # HLS only: the highest variant bitrate admitted

    @property
    def remaining(self) -> int:
        return max(0, int(self.expires_at - time.time()))


def token_make(grant: Grant) -> str:
    payload = [
        VERSION,
        grant.issued_to or "",
        grant.kind,
        str(grant.object_id),
        int(grant.expires_at),
        int(grant.download),
        grant.hls_max_kbps,
    ]
    return signing.dumps(payload, salt=SALT, compress=False)


class AccessDenied(PermissionDenied):
    """``reason``: invalid, expired, outside (a file not of the object), blocked. ``grant``: what
    the token said, when its signature held (for the access log)."""

    def __init__(self, reason: str, *, grant: Grant | None = None):
        super().__init__(reason)
        self.reason = reason
        self.grant = grant


def token_read(token: str, *, now: float | None = None) -> Grant:
    """The grant inside ``token``; raises :class:`AccessDenied` when tampered with or expired."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise AccessDenied("invalid") from None
    if not isinstance(payload, list) or not payload or _READABLE.get(payload[0]) != len(payload):
        raise AccessDenied("invalid")
    _version, issued_to, kind, object_id, expires_at, download, *rest = payload
    hls_max_kbps = rest[0] if rest else None
    if kind not in (ASSET, RENDITION) or not isinstance(expires_at, int):
        raise AccessDenied("invalid")
    if hls_max_kbps is not None and not _positive_int(hls_max_kbps):
        raise AccessDenied("invalid")
    grant = Grant(
        issued_to=issued_to or None,
        kind=kind,
        object_id=object_id,
        expires_at=expires_at,
        download=bool(download),
        hls_max_kbps=hls_max_kbps,
    )
    if expires_at <= (now if now is not None else time.time()):
        raise AccessDenied("expired", grant=grant)
    return grant


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True)
class HlsVariant:
    playlist: str  # relative to the rendition's folder, e.g. "64k/index.m3u8"
    bitrate: int  # bits per second, as the pipeline encoded it (not the playlist's BANDWIDTH)

    @property
    def folder(self) -> str:
        """The variant's own folder (its playlist and segments); "" when it sits at the top."""
        return posixpath.dirname(self.playlist)


def hls_variants(details: dict | None) -> list[HlsVariant]:
    """The variants an HLS rendition recorded (``details["variants"]``), lowest bitrate first;
    entries that do not name a playlist inside the folder and a bitrate are left out."""
    recorded = (details or {}).get("variants") if isinstance(details, dict) else None
    variants = []
    for entry in recorded if isinstance(recorded, list) else ():
        if not isinstance(entry, dict):
            continue
        playlist, bitrate = entry.get("playlist"), entry.get("bitrate")
        if not isinstance(playlist, str) or not _positive_int(bitrate):
            continue
        playlist = posixpath.normpath(playlist)
        if playlist.startswith(("/", "..")) or not playlist.endswith(".m3u8"):
            continue
        variants.append(HlsVariant(playlist=playlist, bitrate=bitrate))
    return sorted(variants, key=lambda v: (v.bitrate, v.playlist))


def hls_variants_within(variants: list[HlsVariant], max_kbps: int | None) -> list[HlsVariant]:
    """The variants a ceiling admits: those at or under it; the lowest alone when none is (a
    listener always gets something to play). No ceiling admits every variant."""
    if max_kbps is None:
        return list(variants)
    within = [v for v in variants if v.bitrate <= max_kbps * 1000]
    return within or list(variants[:1])
