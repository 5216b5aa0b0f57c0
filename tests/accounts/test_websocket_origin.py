"""ws/events/ from clients that send no Origin header (phone apps, CLIs, Subsonic clients).

They authenticate with their token; the origin check keeps protecting cookie sessions.
"""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from accounts.services import api_token_issue
from config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

HOST_ONLY = [(b"host", b"127.0.0.1:8000")]


async def connect(path, headers):
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await communicator.connect(timeout=5)
    return communicator, connected, code


async def closed_after_handshake_with(path, headers):
    """The close code of a connection the server accepts and then closes at once.

    Closing after the handshake is what lets a browser read the code: a close before it reaches
    the client as an HTTP 403 and close code 1006.
    """
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected, "refused at the handshake: the client would see 1006, not a close code"
    output = await communicator.receive_output(timeout=5)
    assert output["type"] == "websocket.close", output
    return output["code"]


async def session_cookie(client, user) -> bytes:
    await database_sync_to_async(client.force_login)(user)
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return f"{settings.SESSION_COOKIE_NAME}={value}".encode()


async def test_a_token_client_without_origin_is_authenticated_by_its_token(user):
    token = await database_sync_to_async(api_token_issue)(user=user)

    communicator, connected, _ = await connect(f"/ws/events/?token={token}", HOST_ONLY)

    assert connected
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "hello",
        "user_id": str(user.pk),
    }
    await communicator.disconnect()


async def test_a_bad_token_without_origin_is_closed_with_4401():
    assert await closed_after_handshake_with("/ws/events/?token=" + "b" * 64, HOST_ONLY) == 4401


async def test_a_cookie_without_origin_is_refused(user, client):
    cookie = await session_cookie(client, user)

    _, connected, _ = await connect("/ws/events/", [*HOST_ONLY, (b"cookie", cookie)])

    assert not connected


async def test_without_origin_the_token_decides_not_a_cookie(user, musician, client):
    """A bad token next to someone's session cookie must not fall back to the cookie."""
    cookie = await session_cookie(client, musician)

    code = await closed_after_handshake_with(
        "/ws/events/?token=" + "c" * 64, [*HOST_ONLY, (b"cookie", cookie)]
    )

    assert code == 4401


async def test_a_cookie_from_a_foreign_origin_is_still_refused(user, client):
    cookie = await session_cookie(client, user)

    _, connected, _ = await connect(
        "/ws/events/",
        [(b"origin", b"http://evil.example"), *HOST_ONLY, (b"cookie", cookie)],
    )

    assert not connected
