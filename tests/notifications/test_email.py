"""Email through Django's locmem backend: the rendered text and HTML, headers, unsubscribe."""

import json
import re

import pytest
from django.core import mail, signing
from django.test import Client

from notifications import catalogue, rendering
from notifications.models import Channel, Delivery, DeliveryStatus, Preference
from notifications.services import notify
from tests.notifications.conftest import sample_context

pytestmark = pytest.mark.django_db

UNSUBSCRIBE_PATH = re.compile(r"https?://[^/]+(/notifications/unsubscribe/[^/\s>]+/)")


def send(event, person, capture, **context):
    with capture(execute=True):
        notify(event, recipient=person, context=sample_context(event, **context))
    return mail.outbox[-1]


def test_an_order_email_has_text_and_html_from_the_templates(
    user, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://encore.example.com"

    message = send(
        "order.offer",
        user,
        django_capture_on_commit_callbacks,
        occasion="wedding",
        amount_minor=250000,
        currency="INR",
    )

    assert message.to == [user.email]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "New order for you: “Song for Mum & Dad”"
    # Plain text: nothing HTML-escaped, absolute links, the money and the deadline formatted.
    assert f"Hello {user.display_name}," in message.body
    assert "Asha would like you to make “Song for Mum & Dad” for a wedding." in message.body
    assert "You would earn ₹2,500.00." in message.body
    assert "The offer is open until " in message.body and " UTC." in message.body
    assert "See the offer:\nhttps://encore.example.com/orders/42/" in message.body
    assert "&amp;" not in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Song for Mum &amp; Dad" in html
    assert 'href="https://encore.example.com/orders/42/"' in html
    assert "See the offer" in html


def test_html_escapes_what_people_typed(user, django_capture_on_commit_callbacks):
    message = send(
        "order.revision_requested",
        user,
        django_capture_on_commit_callbacks,
        customer_name="<script>alert(1)</script>",
        notes="More <b>drums</b>",
    )

    html = message.alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "More &lt;b&gt;drums&lt;/b&gt;" in html
    assert "More <b>drums</b>" in message.body  # the text part is plain text


def test_the_delivery_log_records_the_email(user, django_capture_on_commit_callbacks):
    message = send("order.placed", user, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get(channel=Channel.EMAIL)
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider == "locmem"
    assert delivery.provider_id == message.extra_headers["Message-ID"]
    assert delivery.to == user.email
    assert delivery.attempts == 1
    assert delivery.sent_at is not None


def test_non_critical_email_carries_a_one_click_unsubscribe(
    user, django_capture_on_commit_callbacks
):
    message = send("order.draft_ready", user, django_capture_on_commit_callbacks)

    header = message.extra_headers["List-Unsubscribe"]
    assert header.startswith("<http") and header.endswith(">")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert UNSUBSCRIBE_PATH.search(message.body)
    assert "Unsubscribe from these emails" in message.alternatives[0][0]


def test_the_unsubscribe_link_works_without_login(user, django_capture_on_commit_callbacks):
    message = send("order.draft_ready", user, django_capture_on_commit_callbacks)
    path = UNSUBSCRIBE_PATH.search(message.body).group(1)
    anonymous = Client(enforce_csrf_checks=True)

    confirm = anonymous.get(path)
    assert confirm.status_code == 200
    assert "Stop these emails?" in confirm.content.decode()
    assert not Preference.objects.exists()  # a GET (a link scanner) changes nothing

    done = anonymous.post(path)
    assert done.status_code == 200
    assert "You are unsubscribed" in done.content.decode()
    assert (
        Preference.objects.get(user=user, event="order.draft_ready", channel="email").enabled
        is False
    )

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            "order.draft_ready",
            recipient=user,
            context=sample_context("order.draft_ready", url="/orders/99/"),
        )
    assert mail.outbox == []
    assert Delivery.objects.filter(channel="in_app").count() == 2  # the rest still arrives


def test_mail_clients_one_click_post_unsubscribes(user, django_capture_on_commit_callbacks):
    message = send("order.placed", user, django_capture_on_commit_callbacks)
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    path = UNSUBSCRIBE_PATH.search(url).group(1)

    response = Client(enforce_csrf_checks=True).post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 200
    assert not Preference.objects.get(user=user, event="order.placed").enabled


def test_a_tampered_unsubscribe_link_is_rejected(user, django_capture_on_commit_callbacks):
    message = send("order.draft_ready", user, django_capture_on_commit_callbacks)
    path = UNSUBSCRIBE_PATH.search(message.body).group(1)
    token = path.rstrip("/").rsplit("/", 1)[1]
    # Point the payload at another event (or person), keeping the original signature.
    _payload, timestamp, signature = token.split(":")
    forged = ":".join(
        [
            signing.b64_encode(json.dumps([str(user.pk), "order.placed"]).encode()).decode(),
            timestamp,
            signature,
        ]
    )

    for bad in (forged, token[:-2] + "xx", "nonsense"):
        response = Client().post(f"/notifications/unsubscribe/{bad}/")
        assert response.status_code == 400
        assert "This link does not work" in response.content.decode()
    assert not Preference.objects.exists()


def test_critical_mail_has_no_unsubscribe_and_ignores_preferences(
    user, django_capture_on_commit_callbacks
):
    # Even a stored "off" (which the service refuses to write) would not stop it.
    Preference.objects.create(
        user=user, event="account.password_reset", channel="email", enabled=False
    )

    message = send("account.password_reset", user, django_capture_on_commit_callbacks)

    assert message.subject == "Reset your Encore password"
    assert "List-Unsubscribe" not in message.extra_headers
    assert "unsubscribe" not in message.body.lower()
    assert "security of your Encore account" in message.body
    assert "Choose a new password" in message.alternatives[0][0]


def test_sensitive_links_are_scrubbed_from_the_log_once_sent(
    user, django_capture_on_commit_callbacks
):
    send("account.password_reset", user, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get(event="account.password_reset")
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.context == {"reset_url": "[removed]"}


@pytest.mark.parametrize("event", sorted(catalogue.EVENTS))
def test_every_event_renders_on_every_channel(event, verified):
    event_type = catalogue.get(event)
    context = sample_context(event, phone_number=verified.phone_number)
    stored = {
        key: (value.isoformat() if hasattr(value, "isoformat") else value)
        for key, value in context.items()
    }
    full = rendering.template_context(
        event_type, verified, stored, unsubscribe_url="https://x.test/u/"
    )

    if Channel.EMAIL in event_type.channels:
        email = rendering.render_email(event_type, full)
        assert email.subject and "\n" not in email.subject and "{" not in email.subject
        assert f"Hello {verified.display_name}," in email.text
        assert "<p>" in email.html and "{{" not in email.html
    if event_type.channels & {Channel.SMS, Channel.WHATSAPP}:
        text = rendering.render_sms(event_type, full)
        assert 0 < len(text) <= 320 and "{" not in text
    if Channel.IN_APP in event_type.channels:
        in_app = rendering.render_in_app(event_type, stored, full)
        assert in_app.title and in_app.body
    assert len(rendering.whatsapp_variables(event_type, full)) == len(event_type.whatsapp_variables)
