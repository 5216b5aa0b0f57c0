"""The signed token inside a media URL: a short-lived bearer capability for one object.

A token is Django-signed (``SECRET_KEY``, salted) JSON naming the object (an asset's original or
a rendition), the expiry, whether it is a download, and the person it was issued to. Whoever
holds the URL may fetch that object until it expires, with no cookie or API token, exactly as
with an S3 presigned URL or a CDN signed URL: media players, download managers and clients that
follow a redirect without their credentials all work. The person it was issued to is kept for
the access log only; any change to the token breaks the signature.

It travels in the URL path (``/media/s/<token>/<file>``), so the files an HLS playlist names
relatively are fetched with the same token; the view only serves files inside the object.
"""

import time
from dataclasses import dataclass

from django.core import signing
from django.core.exceptions import PermissionDenied

SALT = "audio.media-url"
VERSION = 1
ASSET, RENDITION = "a", "r"


@dataclass(frozen=True)
class Grant:
    issued_to: str | None  # the person's id, for the access log; None: issued to nobody
    kind: str  # ASSET (the original) or RENDITION
    object_id: str
    expires_at: int  # Unix time
    download: bool = False

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
    if not isinstance(payload, list) or len(payload) != 6 or payload[0] != VERSION:
        raise AccessDenied("invalid")
    _version, issued_to, kind, object_id, expires_at, download = payload
    if kind not in (ASSET, RENDITION) or not isinstance(expires_at, int):
        raise AccessDenied("invalid")
    grant = Grant(
        issued_to=issued_to or None,
        kind=kind,
        object_id=object_id,
        expires_at=expires_at,
        download=bool(download),
    )
    if expires_at <= (now if now is not None else time.time()):
        raise AccessDenied("expired", grant=grant)
    return grant
