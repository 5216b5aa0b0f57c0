"""What the chat tests share: an order with its two people, and websocket connections to it."""

import uuid

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from accounts.services import api_token_issue
from config.asgi import application
from orders.models import OrderStatus
from tests.factories import MusicianFactory, UserFactory
from tests.orders.factories import OrderFactory

HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


def chat_order(**kwargs):
    return OrderFactory(
        status=OrderStatus.IN_PROGRESS,
        customer=kwargs.pop("customer", None) or UserFactory(display_name="Nina"),
        musician=kwargs.pop("musician", None) or MusicianFactory(display_name="Asha"),
        **kwargs,
    )


async def open_socket(user, order_id, *, token: str | None = None):
    """A connection to ws/orders/<id>/ (by token, as a phone app); (communicator, connected)."""
    if token is None and user is not None:
        token = await database_sync_to_async(api_token_issue)(user=user)
    query = f"?token={token}" if token else ""
    communicator = WebsocketCommunicator(application, f"/ws/orders/{order_id}/{query}", HEADERS)
    connected, _ = await communicator.connect(timeout=5)
    return communicator, connected


async def joined(user, order):
    """A connection that passed the hello."""
    communicator, connected = await open_socket(user, order.pk)
    assert connected
    hello = await communicator.receive_json_from(timeout=5)
    assert hello["type"] == "hello", hello
    return communicator


async def events_until(communicator, done, timeout=5):
    """Events received until `done(events)` holds."""
    events = []
    while not done(events):
        events.append(await communicator.receive_json_from(timeout=timeout))
    return events


def send_frame(body="Hello", client_msg_id=None, attachments=None):
    frame = {
        "type": "message.send",
        "client_msg_id": str(client_msg_id or uuid.uuid4()),
        "body": body,
    }
    if attachments is not None:
        frame["attachments"] = attachments
    return frame
