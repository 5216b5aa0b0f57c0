"""The unread-chat digest for a person who was offline."""

import pytest
from django.core import mail

from notifications.models import Delivery
from notifications.services import chat_digest_send

pytestmark = pytest.mark.django_db

CONVERSATIONS = [
    {
        "title": "Song for Mum",
        "count": 2,
        "url": "/orders/1/",
        "last_sender": "Nina",
        "last_excerpt": "Here is the first verse!",
    },
    {"title": "Wedding song", "count": 1, "url": "/orders/2/", "last_sender": "Asha"},
    {"title": "Old chat", "count": 0, "url": "/orders/3/"},
]


def test_the_digest_sums_up_unread_messages_once(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        chat_digest_send(recipient=user, conversations=CONVERSATIONS, up_to="m:99", url="/orders/")
        chat_digest_send(recipient=user, conversations=CONVERSATIONS, up_to="m:99", url="/orders/")

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "You have 3 unread messages on Encore"
    assert '- Song for Mum: 2 new, last from Nina: "Here is the first verse!"' in message.body
    assert "- Wedding song: 1 new, last from Asha" in message.body
    assert "Old chat" not in message.body
    assert "Here is the first verse!" in message.alternatives[0][0]
    assert list(Delivery.objects.values_list("channel", flat=True)) == ["email"]


def test_newer_messages_make_a_new_digest(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        chat_digest_send(recipient=user, conversations=CONVERSATIONS, up_to="m:99", url="/o/")
        chat_digest_send(recipient=user, conversations=CONVERSATIONS, up_to="m:105", url="/o/")

    assert len(mail.outbox) == 2


def test_nothing_unread_sends_nothing(user):
    assert (
        chat_digest_send(recipient=user, conversations=CONVERSATIONS[2:], up_to="x", url="/") == []
    )
