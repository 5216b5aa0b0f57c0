"""In-app notifications reach the person's open pages over ws/events/ after the commit."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import transaction

from accounts.services import api_token_issue
from config.asgi import application
from notifications.services import notifications_mark_all_read, notify
from tests.notifications.conftest import sample_context

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1:8000")]


async def connect(user):
    token = await database_sync_to_async(api_token_issue)(user=user)
    communicator = WebsocketCommunicator(application, f"/ws/events/?token={token}", HEADERS)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.receive_json_from(timeout=5)  # hello
    return communicator


async def test_a_notification_is_pushed_after_commit(user, musician):
    mine = await connect(user)
    theirs = await connect(musician)

    def place_order():
        with transaction.atomic():
            notify("order.placed", recipient=user, context=sample_context("order.placed"))

    await database_sync_to_async(place_order)()

    event = await mine.receive_json_from(timeout=5)
    assert event["type"] == "notification"
    assert event["unread"] == 1
    assert event["notification"]["title"] == "Order placed: Song for Mum & Dad"
    assert event["notification"]["link"] == "/orders/42/"
    assert await theirs.receive_nothing(timeout=0.2)

    await database_sync_to_async(notifications_mark_all_read)(user=user)
    assert await mine.receive_json_from(timeout=5) == {"type": "notification.read", "unread": 0}
    await mine.disconnect()
    await theirs.disconnect()


async def test_nothing_is_pushed_when_the_caller_rolls_back(user):
    mine = await connect(user)

    def fail():
        try:
            with transaction.atomic():
                notify("order.placed", recipient=user, context=sample_context("order.placed"))
                raise RuntimeError("payment declined")
        except RuntimeError:
            pass

    await database_sync_to_async(fail)()

    assert await mine.receive_nothing(timeout=0.3)
    await mine.disconnect()
