"""Signed access tokens for protected media, bound to a user, an object and an expiry.

A token is Django-signed (``SECRET_KEY``, salted) JSON: any change to it breaks the signature.
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
    user_id: str | None  # None: anyone holding the URL (public material)
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
        grant.user_id or "",
        grant.kind,
        str(grant.object_id),
        int(grant.expires_at),
        int(grant.download),
    ]
    return signing.dumps(payload, salt=SALT, compress=False)


class AccessDenied(PermissionDenied):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def token_read(token: str, *, now: float | None = None) -> Grant:
    """The grant inside ``token``; raises :class:`AccessDenied` when tampered with or expired."""
    try:
        payload = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise AccessDenied("invalid") from None
    if not isinstance(payload, list) or len(payload) != 6 or payload[0] != VERSION:
        raise AccessDenied("invalid")
    _version, user_id, kind, object_id, expires_at, download = payload
    if kind not in (ASSET, RENDITION) or not isinstance(expires_at, int):
        raise AccessDenied("invalid")
    if expires_at <= (now if now is not None else time.time()):
        raise AccessDenied("expired")
    return Grant(
        user_id=user_id or None,
        kind=kind,
        object_id=object_id,
        expires_at=expires_at,
        download=bool(download),
    )
