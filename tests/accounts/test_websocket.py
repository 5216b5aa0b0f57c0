"""The personal event stream at ws/events/: who may connect and what reaches them."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from accounts.realtime import user_event_push
from accounts.services import api_token_issue
from config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


async def connect(path, headers=HEADERS):
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


async def test_anonymous_connection_is_closed_with_4401():
    assert await closed_after_handshake_with("/ws/events/", HEADERS) == 4401


async def test_unknown_token_is_closed_with_4401():
    assert await closed_after_handshake_with("/ws/events/?token=" + "a" * 64, HEADERS) == 4401


async def test_token_in_the_query_authenticates(user):
    token = await database_sync_to_async(api_token_issue)(user=user)

    communicator, connected, _ = await connect(f"/ws/events/?token={token}")

    assert connected
    assert await communicator.receive_json_from(timeout=5) == {
        "type": "hello",
        "user_id": str(user.pk),
    }
    await communicator.disconnect()


async def test_session_cookie_authenticates(user, client):
    await database_sync_to_async(client.force_login)(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    communicator, connected, _ = await connect(
        "/ws/events/", headers=[*HEADERS, (b"cookie", cookie.encode())]
    )

    assert connected
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["user_id"] == str(user.pk)
    await communicator.disconnect()


async def test_foreign_origin_is_refused(user):
    token = await database_sync_to_async(api_token_issue)(user=user)

    communicator, connected, _ = await connect(
        f"/ws/events/?token={token}",
        headers=[(b"origin", b"http://evil.example"), (b"host", b"127.0.0.1")],
    )

    assert not connected


async def test_pushed_events_reach_only_their_person(user, musician):
    token_a = await database_sync_to_async(api_token_issue)(user=user)
    token_b = await database_sync_to_async(api_token_issue)(user=musician)
    alice, _, _ = await connect(f"/ws/events/?token={token_a}")
    bob, _, _ = await connect(f"/ws/events/?token={token_b}")
    await alice.receive_json_from(timeout=5)
    await bob.receive_json_from(timeout=5)

    await database_sync_to_async(user_event_push)(
        user_id=user.pk, event={"type": "audio.progress", "step": "probe"}
    )

    assert await alice.receive_json_from(timeout=5) == {"type": "audio.progress", "step": "probe"}
    assert await bob.receive_nothing(timeout=0.3)
    await alice.disconnect()
    await bob.disconnect()


async def test_a_push_inside_a_rolled_back_transaction_is_never_sent(user):
    from django.db import transaction

    token = await database_sync_to_async(api_token_issue)(user=user)
    alice, _, _ = await connect(f"/ws/events/?token={token}")
    await alice.receive_json_from(timeout=5)

    def push_then_fail():
        try:
            with transaction.atomic():
                user_event_push(user_id=user.pk, event={"type": "never"})
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass

    await database_sync_to_async(push_then_fail)()

    assert await alice.receive_nothing(timeout=0.3)
    await alice.disconnect()


async def test_clients_can_ping_and_get_errors_for_unknown_messages(user):
    token = await database_sync_to_async(api_token_issue)(user=user)
    communicator, _, _ = await connect(f"/ws/events/?token={token}")
    await communicator.receive_json_from(timeout=5)

    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.send_json_to({"type": "shout"})
    assert (await communicator.receive_json_from(timeout=5))["code"] == "unknown_type"
    await communicator.disconnect()


async def test_malformed_frames_get_an_error_and_keep_the_connection(user):
    token = await database_sync_to_async(api_token_issue)(user=user)
    communicator, _, _ = await connect(f"/ws/events/?token={token}")
    await communicator.receive_json_from(timeout=5)

    for frame in ("{not json", "[1, 2]", '"text"'):
        await communicator.send_to(text_data=frame)
        assert (await communicator.receive_json_from(timeout=5))["code"] == "invalid_message"
    await communicator.send_to(bytes_data=b"\x00\x01")
    assert (await communicator.receive_json_from(timeout=5))["code"] == "invalid_message"

    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=5) == {"type": "pong"}
    await communicator.disconnect()
