"""Signed one-click unsubscribe links: one per person and event, for email."""

from django.core import signing
from django.urls import reverse

from notifications.rendering import absolute_url

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


def unsubscribe_token(*, user_id, event: str) -> str:
    # No expiry: a link in a mail from last year must still work.
    return signing.dumps([str(user_id), event], salt=UNSUBSCRIBE_SALT, compress=False)


def unsubscribe_url(*, user_id, event: str) -> str:
    token = unsubscribe_token(user_id=user_id, event=event)
    return absolute_url(reverse("notifications:unsubscribe", kwargs={"token": token}))


def read_unsubscribe_token(token: str) -> tuple[str, str]:
    """(user id, event) from a token; raises signing.BadSignature for anything forged."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if (
        not isinstance(data, list)
        or len(data) != 2
        or not all(isinstance(part, str) for part in data)
    ):
        raise signing.BadSignature("malformed unsubscribe token")
    return data[0], data[1]
