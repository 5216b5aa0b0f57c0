"""ws/orders/<id>/: the order chat over the Channels communicator, on the project's channel
layer (channels-redis on the embedded Redis server, or REDIS_URL)."""

import asyncio
import uuid

import pytest
from channels.db import database_sync_to_async

from orders import services
from orders.models import ChatMessage, ChatPointer, OrderStatus
from orders.services import chat
from tests.factories import UserFactory
from tests.orders.chat_helpers import chat_order, events_until, joined, open_socket, send_frame

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

db = database_sync_to_async


async def test_anonymous_callers_are_closed_with_4401():
    order = await db(chat_order)()
    communicator, connected = await open_socket(None, order.pk)
    assert connected  # accepted, then closed: the browser reads the code
    assert (await communicator.receive_output(timeout=5))["code"] == 4401
    communicator, connected = await open_socket(None, order.pk, token="not-a-token")
    assert (await communicator.receive_output(timeout=5))["code"] == 4401


async def test_outsiders_are_closed_with_4403_and_staff_get_in():
    order = await db(chat_order)()
    outsider = await db(UserFactory)()
    communicator, connected = await open_socket(outsider, order.pk)
    assert connected
    assert (await communicator.receive_output(timeout=5))["code"] == 4403
    communicator, _ = await open_socket(outsider, "not-a-uuid")
    assert (await communicator.receive_output(timeout=5))["code"] == 4403
    communicator, _ = await open_socket(outsider, uuid.uuid4())
    assert (await communicator.receive_output(timeout=5))["code"] == 4403

    staff = await db(UserFactory)(is_staff=True)
    watcher = await joined(staff, order)
    await watcher.disconnect()


async def test_a_message_is_stored_then_reaches_both_sides():
    order = await db(chat_order)()
    customer = await joined(order.customer, order)
    musician = await joined(order.musician, order)

    frame = send_frame("The chorus needs her name twice")
    await customer.send_json_to(frame)

    for side in (customer, musician):
        event = await side.receive_json_from(timeout=5)
        assert event["type"] == "message"
        message = event["message"]
        assert message["body"] == "The chorus needs her name twice"
        assert message["client_msg_id"] == frame["client_msg_id"]
        assert message["sender"] == {
            "id": str(order.customer.pk),
            "name": "Nina",
            "role": "customer",
        }
        assert message["attachments"] == []
    stored = await db(lambda: list(ChatMessage.objects.filter(order=order)))()
    assert [m.pk for m in stored] == [message["id"]]
    await customer.disconnect()
    await musician.disconnect()


async def test_the_same_client_msg_id_makes_one_message():
    order = await db(chat_order)()
    customer = await joined(order.customer, order)
    musician = await joined(order.musician, order)
    frame = send_frame("Once")

    await customer.send_json_to(frame)
    first = (await customer.receive_json_from(timeout=5))["message"]
    await musician.receive_json_from(timeout=5)
    await customer.send_json_to({**frame, "body": "Once, retried"})
    again = await customer.receive_json_from(timeout=5)

    assert again == {"type": "message", "message": first}  # the stored one, to the sender only
    assert await musician.receive_nothing(timeout=0.3)
    assert await db(ChatMessage.objects.filter(order=order).count)() == 1
    await customer.disconnect()
    await musician.disconnect()


async def test_sync_returns_exactly_the_missed_messages_in_order():
    order = await db(chat_order)()

    def sent(n):
        return [
            services.chat_message_send(
                order=order, sender=order.musician, client_msg_id=uuid.uuid4(), body=f"m{i}"
            )[0].pk
            for i in range(n)
        ]

    seen = await db(sent)(3)
    missed = await db(sent)(5)
    customer = await joined(order.customer, order)
    await customer.send_json_to({"type": "sync", "after_id": seen[-1]})
    events = await events_until(customer, lambda e: e and e[-1]["type"] == "sync.done")

    assert [e["message"]["id"] for e in events[:-1]] == missed
    assert [e["message"]["body"] for e in events[:-1]] == ["m0", "m1", "m2", "m3", "m4"]
    assert events[-1] == {"type": "sync.done", "last_id": missed[-1], "unread": 8}
    await customer.disconnect()


async def test_sync_pages_through_more_than_a_batch(monkeypatch):
    from orders import consumers

    monkeypatch.setattr(consumers, "SYNC_BATCH", 4)
    order = await db(chat_order)()

    def sent():
        return [
            services.chat_message_send(
                order=order, sender=order.musician, client_msg_id=uuid.uuid4(), body=str(i)
            )[0].pk
            for i in range(9)
        ]

    ids = await db(sent)()
    customer = await joined(order.customer, order)
    await customer.send_json_to({"type": "sync", "after_id": 0})
    events = await events_until(customer, lambda e: e and e[-1]["type"] == "sync.done")
    assert [e["message"]["id"] for e in events[:-1]] == ids
    await customer.disconnect()


async def test_bad_frames_get_error_events():
    order = await db(chat_order)()
    customer = await joined(order.customer, order)
    cases = [
        ({"type": "message.send", "client_msg_id": "nope", "body": "x"}, "invalid"),
        ({"type": "message.send", "client_msg_id": str(uuid.uuid4()), "body": ""}, "invalid"),
        ({"type": "message.send", "client_msg_id": str(uuid.uuid4()), "body": 5}, "invalid"),
        (send_frame("x" * 5001), "invalid"),
        (send_frame("x", attachments="1"), "invalid"),
        ({"type": "typing", "state": "maybe"}, "invalid"),
        ({"type": "read", "up_to_id": "1"}, "invalid"),
        ({"type": "sync", "after_id": -1}, "invalid"),
        ({"type": "dance"}, "unknown_type"),
    ]
    for frame, code in cases:
        await customer.send_json_to(frame)
        event = await customer.receive_json_from(timeout=5)
        assert event["type"] == "error" and event["code"] == code, (frame, event)
        assert event["detail"]
    await customer.send_to(text_data="not json")
    assert (await customer.receive_json_from(timeout=5))["code"] == "invalid_message"
    assert await db(ChatMessage.objects.count)() == 0
    await customer.disconnect()


async def test_past_twenty_messages_in_ten_seconds_the_sender_is_refused():
    order = await db(chat_order)()
    customer = await joined(order.customer, order)
    for i in range(20):
        await customer.send_json_to(send_frame(f"n{i}"))
        assert (await customer.receive_json_from(timeout=5))["type"] == "message"
    refused = send_frame("one too many")
    await customer.send_json_to(refused)
    event = await customer.receive_json_from(timeout=5)

    assert event["type"] == "error" and event["code"] == "rate_limited"
    assert event["client_msg_id"] == refused["client_msg_id"]
    assert 1 <= event["retry_after"] <= 10
    assert await db(ChatMessage.objects.filter(order=order).count)() == 20
    # The other side is not limited by the customer's rate.
    musician = await joined(order.musician, order)
    await musician.send_json_to(send_frame("still here"))
    assert (await musician.receive_json_from(timeout=5))["type"] == "message"
    await customer.disconnect()
    await musician.disconnect()


async def test_typing_reaches_the_other_side_and_expires_by_itself(settings):
    settings.ORDERS_CHAT_TYPING_SECONDS = 0.5
    order = await db(chat_order)()
    customer = await joined(order.customer, order)
    musician = await joined(order.musician, order)

    await customer.send_json_to({"type": "typing", "state": "start"})
    start = await musician.receive_json_from(timeout=5)
    assert start["type"] == "typing" and start["state"] == "start"
    assert start["user"]["id"] == str(order.customer.pk)
    assert start["expires_in_ms"] == 500 and start["expires_at"]

    # No stop from the client: the server sends it once the time passed.
    loop = asyncio.get_running_loop()
    began = loop.time()
    stop = await musician.receive_json_from(timeout=5)
    assert stop["type"] == "typing" and stop["state"] == "stop"
    assert 0.4 <= loop.time() - began < 3
    pointer = await db(ChatPointer.objects.get)(order=order, user=order.customer)
    assert pointer.typing_until is None
    await customer.disconnect()
    await musician.disconnect()


async def test_a_renewed_typing_lasts_and_a_stop_is_sent_on_disconnect(settings):
    settings.ORDERS_CHAT_TYPING_SECONDS = 0.6
    order = await db(chat_order)()
    customer = await joined(order.customer, order)
    musician = await joined(order.musician, order)

    await customer.send_json_to({"type": "typing", "state": "start"})
    assert (await musician.receive_json_from(timeout=5))["state"] == "start"
    await asyncio.sleep(0.4)
    await customer.send_json_to({"type": "typing", "state": "start"})
    assert (await musician.receive_json_from(timeout=5))["state"] == "start"
    assert await musician.receive_nothing(timeout=0.35)  # the first start's time passed: renewed

    await customer.disconnect()
    assert (await musician.receive_json_from(timeout=5))["state"] == "stop"
    await musician.disconnect()


async def test_read_pointers_move_forward_and_count_unread():
    order = await db(chat_order)()

    def sent(n):
        return [
            services.chat_message_send(
                order=order, sender=order.musician, client_msg_id=uuid.uuid4(), body="hi"
            )[0].pk
            for _ in range(n)
        ]

    ids = await db(sent)(4)
    customer, customer_hello = await open_socket(order.customer, order.pk)
    hello = await customer.receive_json_from(timeout=5)
    assert hello["unread"] == 4
    assert hello["read"] == {str(order.musician.pk): ids[-1]}  # sending is reading
    musician = await joined(order.musician, order)

    await customer.send_json_to({"type": "read", "up_to_id": ids[1]})
    for side in (customer, musician):
        assert await side.receive_json_from(timeout=5) == {
            "type": "read",
            "user": {"id": str(order.customer.pk)},
            "up_to_id": ids[1],
        }
    await customer.send_json_to({"type": "read", "up_to_id": ids[0]})  # never back
    assert await musician.receive_nothing(timeout=0.3)
    await customer.send_json_to({"type": "read", "up_to_id": ids[-1] + 1000})  # not past the end
    assert (await musician.receive_json_from(timeout=5))["up_to_id"] == ids[-1]

    unread = await db(chat.selectors.chat_unread_count)(order, order.customer)
    assert unread == 0
    await customer.disconnect()
    await musician.disconnect()


async def test_the_order_status_is_pushed_when_it_changes():
    order = await db(chat_order)()
    customer = await joined(order.customer, order)

    await db(services.order_advance_stage)(order=order, musician=order.musician)
    assert await customer.receive_json_from(timeout=5) == {
        "type": "order.status",
        "status": OrderStatus.IN_PROGRESS,
        "stage": "composition",
    }

    await db(services.order_open_dispute)(
        order=order, actor=order.customer, reason="The musician stopped answering me."
    )
    event = await customer.receive_json_from(timeout=5)
    assert event["type"] == "order.status" and event["status"] == OrderStatus.DISPUTED
    await customer.disconnect()


async def test_a_connection_counts_as_seen():
    order = await db(chat_order)()
    customer = await joined(order.customer, order)
    pointer = await db(ChatPointer.objects.get)(order=order, user=order.customer)
    assert pointer.last_seen_at is not None
    await customer.send_json_to({"type": "ping"})
    assert await customer.receive_json_from(timeout=5) == {"type": "pong"}
    await customer.disconnect()
