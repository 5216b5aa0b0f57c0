"""The chat's REST mirror, attachments (checked by content), dispute evidence and the digest."""

import io
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from audio.models import AudioAsset
from orders import services, tasks
from orders.models import ChatAttachment, ChatMessage, ChatPointer, OrderStatus
from orders.services import chat
from tests.audio.conftest import upload_of
from tests.factories import UserFactory
from tests.orders.chat_helpers import chat_order
from tests.orders.conftest import client_for

pytestmark = pytest.mark.django_db


def post_message(client, order, body="Hello", **extra):
    data = {"client_msg_id": str(uuid.uuid4()), "body": body, **extra}
    return client.post(
        f"/api/orders/{order.pk}/messages", data, content_type="application/json"
    ), data


def said(order, sender, body="hi", n=1):
    return [
        services.chat_message_send(
            order=order, sender=sender, client_msg_id=uuid.uuid4(), body=f"{body}{i}"
        )[0]
        for i in range(n)
    ]


def png_bytes(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, "PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def attach(client, order, content: bytes, name: str, content_type="application/octet-stream"):
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(f"/api/orders/{order.pk}/attachments", {"file": upload})


# --- messages -----------------------------------------------------------------------------------


def test_post_then_get_after_an_id(django_capture_on_commit_callbacks):
    order = chat_order()
    customer = client_for(order.customer)
    first = said(order, order.musician, n=2)

    response, data = post_message(customer, order, "  Can we add a bridge?  ")
    assert response.status_code == 201, response.content
    message = response.json()
    assert message["body"] == "Can we add a bridge?"
    assert message["client_msg_id"] == data["client_msg_id"]
    assert message["sender"]["role"] == "customer"

    listed = client_for(order.musician).get(
        f"/api/orders/{order.pk}/messages?after_id={first[0].pk}"
    )
    assert listed.status_code == 200
    page = listed.json()
    assert [m["id"] for m in page["results"]] == [first[1].pk, message["id"]]
    assert page["next"] is None
    assert page["unread"] == 1  # the customer's message, for the musician
    assert page["read"][str(order.customer.pk)] == message["id"]


def test_get_pages_with_next_in_a_bounded_number_of_queries(django_assert_max_num_queries):
    order = chat_order()
    sent = said(order, order.customer, n=7)
    client = client_for(order.musician)
    url = f"/api/orders/{order.pk}/messages?limit=3"
    seen = []
    while url:
        with django_assert_max_num_queries(12):
            page = client.get(url).json()
        seen += [m["id"] for m in page["results"]]
        url = page["next"]
    assert seen == [m.pk for m in sent]


def test_the_same_client_msg_id_posted_twice_is_one_message():
    order = chat_order()
    client = client_for(order.customer)
    response, data = post_message(client, order, "once")
    again = client.post(
        f"/api/orders/{order.pk}/messages",
        {**data, "body": "twice"},
        content_type="application/json",
    )
    assert again.status_code == 200
    assert again.json() == response.json()
    assert ChatMessage.objects.filter(order=order).count() == 1


def test_the_rest_mirror_answers_429_past_the_rate():
    order = chat_order()
    client = client_for(order.customer)
    for i in range(chat.CHAT_RATE_LIMIT):
        assert post_message(client, order, f"m{i}")[0].status_code == 201
    refused, _ = post_message(client, order, "too many")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 10
    assert ChatMessage.objects.filter(order=order).count() == chat.CHAT_RATE_LIMIT


def test_the_rate_is_per_person_across_orders_and_frees_up():
    order = chat_order()
    other = chat_order(customer=order.customer)
    said(order, order.customer, n=15)
    said(other, order.customer, n=5)
    with pytest.raises(chat.ChatRateLimited):
        said(other, order.customer)
    ChatMessage.objects.update(created_at=timezone.now() - timedelta(seconds=11))
    assert said(other, order.customer)


def test_outsiders_get_404_and_bad_bodies_400():
    order = chat_order()
    outsider = client_for(UserFactory())
    assert outsider.get(f"/api/orders/{order.pk}/messages").status_code == 404
    assert post_message(outsider, order)[0].status_code == 404
    client = client_for(order.customer)
    for body in (
        {"client_msg_id": "x", "body": "hi"},
        {"client_msg_id": str(uuid.uuid4()), "body": ""},
        {"client_msg_id": str(uuid.uuid4()), "body": "x" * 5001},
        {"client_msg_id": str(uuid.uuid4()), "body": "x", "attachments": ["a"]},
    ):
        response = client.post(
            f"/api/orders/{order.pk}/messages", body, content_type="application/json"
        )
        assert response.status_code == 400, body
        assert response.json()["code"]
    assert client.get(f"/api/orders/{order.pk}/messages?after_id=-1").status_code == 400
    assert client.get(f"/api/orders/{order.pk}/messages?after_id=x").status_code == 400
    assert not ChatMessage.objects.exists()


def test_read_mirror_moves_the_pointer():
    order = chat_order()
    messages = said(order, order.musician, n=3)
    client = client_for(order.customer)
    response = client.post(
        f"/api/orders/{order.pk}/messages/read",
        {"up_to_id": messages[1].pk},
        content_type="application/json",
    )
    assert response.json() == {"up_to_id": messages[1].pk}
    assert client.get(f"/api/orders/{order.pk}/messages").json()["unread"] == 1


# --- attachments --------------------------------------------------------------------------------


def test_an_image_and_a_pdf_are_attached_and_served_to_the_order_only():
    order = chat_order()
    customer = client_for(order.customer)
    image = attach(customer, order, png_bytes(), "photo.jpg", "image/jpeg")  # the name lies
    pdf = attach(customer, order, PDF, "lyrics.pdf")
    assert image.status_code == 201, image.content
    assert image.json()["kind"] == "image" and image.json()["content_type"] == "image/png"
    assert pdf.status_code == 201 and pdf.json()["kind"] == "pdf"

    # Before it is sent, an attachment is its uploader's alone.
    url = image.json()["url"]
    assert client_for(order.musician).get(url).status_code == 404

    response, _ = post_message(
        customer, order, "", attachments=[image.json()["id"], pdf.json()["id"]]
    )
    assert response.status_code == 201, response.content
    assert [a["kind"] for a in response.json()["attachments"]] == ["image", "pdf"]

    served = client_for(order.musician).get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == png_bytes()
    assert client_for(UserFactory()).get(url).status_code == 404


def test_wrong_types_and_oversize_files_are_refused(settings, monkeypatch):
    order = chat_order()
    client = client_for(order.customer)
    text = attach(client, order, b"just some words, not a file we take\n" * 10, "notes.pdf")
    assert text.status_code == 415, text.content
    truncated = attach(client, order, b"%PDF-1.4\n" + b"x" * 100, "cut.pdf")
    assert truncated.status_code == 415
    fake_png = attach(client, order, b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "x.png")
    assert fake_png.status_code in (400, 415)
    monkeypatch.setattr(chat, "PDF_MAX_BYTES", 100)
    big_pdf = attach(client, order, PDF + b"%" * 200 + b"\n%%EOF", "big.pdf")
    assert big_pdf.status_code == 413
    settings.AUDIO_IMAGE_MAX_SIDE = 4
    wide = attach(client, order, png_bytes((16, 16)), "wide.png")
    assert wide.status_code in (400, 413)
    assert not ChatAttachment.objects.exists()
    assert attach(client_for(UserFactory()), order, PDF, "x.pdf").status_code == 404


def test_audio_goes_through_the_media_pipeline(sources, django_capture_on_commit_callbacks):
    order = chat_order()
    client = client_for(order.musician)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/orders/{order.pk}/attachments", {"file": upload_of(sources.music_mp3)}
        )
    assert response.status_code == 201, response.content
    attachment = ChatAttachment.objects.get(pk=response.json()["id"])
    assert attachment.kind == "audio"
    asset = AudioAsset.objects.get(pk=attachment.asset_id)
    assert asset.status == AudioAsset.Status.READY  # the pipeline ran (eagerly, on commit)
    assert asset.renditions.exists()
    said_with = services.chat_message_send(
        order=order,
        sender=order.musician,
        client_msg_id=uuid.uuid4(),
        body="A first idea",
        attachments=[attachment.pk],
    )[0]
    served = client_for(order.customer).get(chat.attachment_url(attachment))
    assert served.status_code == 302 and "/media/" in served["Location"]
    assert said_with.attachments.get() == attachment


def test_only_my_unsent_attachments_of_this_order_can_be_sent():
    order = chat_order()
    other_order = chat_order(customer=order.customer)
    customer = client_for(order.customer)
    mine = attach(customer, order, PDF, "a.pdf").json()["id"]
    theirs = attach(client_for(order.musician), order, PDF, "b.pdf").json()["id"]
    elsewhere = attach(customer, other_order, PDF, "c.pdf").json()["id"]

    for ids in ([theirs], [elsewhere], [mine, theirs], [999_999]):
        response, _ = post_message(customer, order, "see attached", attachments=ids)
        assert response.status_code == 400, ids
        assert response.json()["errors"] == {"attachments": [response.json()["detail"]]}
    assert post_message(customer, order, "ok", attachments=[mine])[0].status_code == 201
    again, _ = post_message(customer, order, "again", attachments=[mine])  # already sent
    assert again.status_code == 400
    assert ChatMessage.objects.filter(order=order).count() == 1
    assert ChatAttachment.objects.get(pk=theirs).message is None


# --- dispute evidence ---------------------------------------------------------------------------


def test_chat_messages_are_evidence_in_a_dispute():
    order = chat_order()
    promise = said(order, order.musician, "I will deliver on Friday")[0]
    elsewhere = said(chat_order(), UserFactory(is_staff=True))[0]
    services.order_open_dispute(
        order=order, actor=order.customer, reason="The song never came, as promised."
    )
    client = client_for(order.customer)
    url = f"/api/orders/{order.pk}/dispute_evidence"

    refused = client.post(
        url, {"text": "See", "messages": [elsewhere.pk]}, content_type="application/json"
    )
    assert refused.status_code == 400 and "messages" in refused.json()["errors"]
    added = client.post(
        url,
        {"text": "The musician promised Friday.", "messages": [promise.pk]},
        content_type="application/json",
    )
    assert added.status_code == 201, added.content
    assert added.json()["messages"] == [promise.pk]
    detail = client.get(f"/api/orders/{order.pk}").json()
    evidence = detail["disputes"][0]["evidence"]
    assert evidence[-1]["messages"] == [promise.pk]


def test_the_order_page_offers_chat_messages_as_evidence_and_quotes_them():
    order = chat_order()
    promise = said(order, order.musician, "I will deliver on Friday")[0]
    services.order_open_dispute(
        order=order, actor=order.customer, reason="The song never came, as promised."
    )
    client = client_for(order.customer)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert f'name="messages" value="{promise.pk}"' in page
    assert "I will deliver on Friday0" in page

    bad = client.post(
        f"/orders/{order.pk}/dispute_evidence/",
        {"text": "See the chat", "messages": "x"},
    )
    assert bad.status_code == 400 and "Choose messages from the list." in bad.content.decode()
    added = client.post(
        f"/orders/{order.pk}/dispute_evidence/",
        {"text": "The musician promised Friday.", "messages": [str(promise.pk)]},
    )
    assert added.status_code == 302
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "evidence-quotes" in page and "Musician," in page


def test_my_orders_show_each_orders_unread_messages_until_read(django_assert_max_num_queries):
    order = chat_order()
    quiet = chat_order(customer=order.customer)
    said(order, order.customer, "Mine")  # one's own messages are never unread
    said(order, order.musician, "News", n=3)
    client = client_for(order.customer)
    with django_assert_max_num_queries(9):
        html = client.get("/orders/").content.decode()
    assert "3 unread messages" in html and html.count('data-testid="row-unread"') == 1
    assert quiet.title in html
    # Answering is reading: the musician who wrote after the customer has nothing unread.
    assert "unread" not in client_for(order.musician).get("/orders/").content.decode()

    chat.chat_read_mark(order=order, user=order.customer, up_to_id=ChatMessage.objects.last().pk)
    assert 'data-testid="row-unread"' not in client.get("/orders/").content.decode()


# --- the unread digest --------------------------------------------------------------------------


def test_the_digest_beat_tells_offline_people_once(django_capture_on_commit_callbacks):
    order = chat_order()
    second = chat_order(customer=order.customer)
    said(order, order.musician, "First verse", n=2)
    said(second, second.musician, "Which key?")
    later = timezone.now() + timedelta(minutes=16)

    with django_capture_on_commit_callbacks(execute=True):
        assert services.chat_digests_send(now=later) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [order.customer.email]
    assert message.subject == "You have 3 unread messages on Encore"
    assert 'last from Asha: "First verse1"' in message.body

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.chat_digests.delay().get() == 0  # the beat's task: nothing new to tell
    assert len(mail.outbox) == 1

    said(order, order.musician, "Are you there?")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.chat_digests_send(now=later + timedelta(minutes=16)) == 1
    assert len(mail.outbox) == 2
    # Only the order with something new, counting all it has unread there.
    assert mail.outbox[1].subject == "You have 3 unread messages on Encore"
    assert 'last from Asha: "Are you there?0"' in mail.outbox[1].body
    assert "Which key" not in mail.outbox[1].body


def test_no_digest_too_early_while_online_or_once_read(django_capture_on_commit_callbacks):
    order = chat_order()
    last = said(order, order.musician, n=2)[-1]
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.chat_digests_send(now=now + timedelta(minutes=5)) == 0  # too recent
        chat.chat_seen_touch(order=order, user=order.customer)
        ChatPointer.objects.filter(user=order.customer).update(
            last_seen_at=now + timedelta(minutes=12)
        )
        assert services.chat_digests_send(now=now + timedelta(minutes=16)) == 0  # online
        services.chat_read_mark(order=order, user=order.customer, up_to_id=last.pk)
        ChatPointer.objects.filter(user=order.customer).update(last_seen_at=None)
        assert services.chat_digests_send(now=now + timedelta(minutes=30)) == 0  # read
    assert mail.outbox == []


def test_a_status_change_is_pushed_once_per_transition(
    monkeypatch, django_capture_on_commit_callbacks
):
    from orders import realtime

    pushed = []
    monkeypatch.setattr(realtime, "group_send_now", lambda order_id, event: pushed.append(event))
    order = chat_order()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_advance_stage(order=order, musician=order.musician)
    assert pushed == [
        {"type": "order.status", "status": OrderStatus.IN_PROGRESS, "stage": "composition"}
    ]


# --- the pages ----------------------------------------------------------------------------------


def test_the_order_page_loads_the_chat_for_both_sides(django_assert_max_num_queries):
    order = chat_order()
    mine = said(order, order.customer, "Her name is <b>Asha</b>", n=18)
    said(order, order.musician, "Got it", n=2)
    services.chat_read_mark(order=order, user=order.musician, up_to_id=mine[-1].pk)

    page = client_for(order.customer).get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert f'hx-get="/orders/{order.pk}/chat/"' in html
    assert "js/orders_chat.js" in html

    for person, unread in ((order.customer, 2), (order.musician, 0)):
        client = client_for(person)
        client.get("/")  # the session's own first queries are not the chat's
        with django_assert_max_num_queries(14):
            panel = client.get(f"/orders/{order.pk}/chat/", HTTP_HX_REQUEST="true")
        assert panel.status_code == 200
        text = panel.content.decode()
        assert text.count("data-message-id=") == 20
        assert "Her name is &lt;b&gt;Asha&lt;/b&gt;0" in text  # escaped
        assert f'data-last-id="{order.chat_messages.last().pk}"' in text
        assert (
            f'data-chat-unread data-testid="chat-unread" {"hidden" if not unread else ""}' in text
        )
    assert client_for(UserFactory()).get(f"/orders/{order.pk}/chat/").status_code == 404
