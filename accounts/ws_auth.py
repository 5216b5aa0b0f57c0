"""Websocket authentication: the session cookie, or ``?token=<api token>``.

A token that does not authenticate leaves the scope anonymous and marks it, so the consumer
closes with 4401 instead of silently treating the caller as a guest.
"""

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser
from knox.auth import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


@database_sync_to_async
def _user_for_token(token: str):
    try:
        user, _auth_token = TokenAuthentication().authenticate_credentials(token.encode())
    except AuthenticationFailed:
        return None
    return user


class TokenQueryAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode(errors="replace"))
        tokens = query.get("token")
        if tokens:
            user = await _user_for_token(tokens[0][:200])
            scope = dict(scope)
            if user is None:
                scope["user"] = AnonymousUser()
                scope["auth_error"] = "invalid_token"
            else:
                scope["user"] = user
        return await super().__call__(scope, receive, send)


def SessionOrTokenAuthMiddlewareStack(inner):  # noqa: N802 - named like channels' own stacks
    return AuthMiddlewareStack(TokenQueryAuthMiddleware(inner))
