"""Websocket authentication: the session cookie, or ``?token=<api token>``.

A token that does not authenticate leaves the scope anonymous and marks it, so the consumer
closes with 4401 instead of silently treating the caller as a guest.

The origin check exists because browsers attach the session cookie to any page's websocket
(cross-site websocket hijacking). Browsers always send an ``Origin`` header; phone apps, CLIs
and Subsonic clients send none and authenticate with their token, which no other site can
attach. So a connection without an ``Origin`` is let through on its token alone, with its
cookies dropped, and every connection that carries an ``Origin`` is checked as before.
"""

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


def _query_token(scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
    tokens = query.get("token")
    return tokens[0][:200] if tokens else None


@database_sync_to_async
def _user_for_token(token: str):
    try:
        user, _auth_token = TokenAuthentication().authenticate_credentials(token.encode())
    except AuthenticationFailed:
        return None
    return user


class TokenQueryAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        token = _query_token(scope)
        if token:
            user = await _user_for_token(token)
            scope = dict(scope)
            if user is None:
                scope["user"] = AnonymousUser()
                scope["auth_error"] = "invalid_token"
            else:
                scope["user"] = user
        return await super().__call__(scope, receive, send)


def SessionOrTokenAuthMiddlewareStack(inner):  # noqa: N802 - named like channels' own stacks
    return AuthMiddlewareStack(TokenQueryAuthMiddleware(inner))


class OriginOrTokenValidator:
    """Checks the ``Origin`` of browser connections; clients without one pass on their token."""

    def __init__(self, inner):
        self.inner = inner
        self.origin_checked = AllowedHostsOriginValidator(inner)

    async def __call__(self, scope, receive, send):
        headers = scope.get("headers", [])
        has_origin = any(name == b"origin" for name, _value in headers)
        if not has_origin and _query_token(scope):
            without_cookies = [(name, value) for name, value in headers if name != b"cookie"]
            return await self.inner(dict(scope, headers=without_cookies), receive, send)
        return await self.origin_checked(scope, receive, send)
