"""Twilio's status callbacks and inbound webhook, signed with the real RequestValidator."""

import pytest
from django.test import Client
from django.utils import timezone
from twilio.request_validator import RequestValidator

from notifications.models import Delivery, DeliveryStatus, WhatsAppInbound
from tests.notifications.conftest import ACCOUNT_SID, AUTH_TOKEN, CALLBACK_URL
from tests.notifications.factories import DeliveryFactory

pytestmark = pytest.mark.django_db

PATH = "/notifications/twilio/status"


def sign(url, params, token=AUTH_TOKEN):
    return RequestValidator(token).compute_signature(url, params)


def status_params(sid, status, **extra):
    return {
        "MessageSid": sid,
        "MessageStatus": status,
        "AccountSid": ACCOUNT_SID,
        "To": "+14155550000",
        "ApiVersion": "2010-04-01",
        **extra,
    }


@pytest.fixture
def twilio_client():
    # A plain client that enforces CSRF like a browser would not: the webhook must not need it.
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def sent_sms(twilio):
    return DeliveryFactory(
        status=DeliveryStatus.SENT, provider="twilio", provider_id="SM" + "a" * 32
    )


def post(client, params, signature, url=PATH):
    return client.post(url, params, HTTP_X_TWILIO_SIGNATURE=signature)


def test_a_signed_callback_updates_the_delivery(twilio_client, sent_sms):
    params = status_params(sent_sms.provider_id, "delivered")

    response = post(twilio_client, params, sign(CALLBACK_URL, params))

    assert response.status_code == 204
    sent_sms.refresh_from_db()
    assert sent_sms.status == DeliveryStatus.DELIVERED
    assert sent_sms.delivered_at is not None


def test_the_signature_may_cover_the_url_as_this_server_saw_it(twilio_client, sent_sms, settings):
    settings.TWILIO_STATUS_CALLBACK_URL = ""
    params = status_params(sent_sms.provider_id, "delivered")

    response = post(twilio_client, params, sign(f"http://testserver{PATH}", params))

    assert response.status_code == 204
    sent_sms.refresh_from_db()
    assert sent_sms.status == DeliveryStatus.DELIVERED


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda p: ("", p), id="no signature"),
        pytest.param(lambda p: ("bm90IGEgc2lnbmF0dXJl", p), id="garbage"),
        pytest.param(lambda p: (sign(CALLBACK_URL, p, token="another-token"), p), id="wrong key"),
        pytest.param(
            lambda p: (sign(CALLBACK_URL, p), {**p, "MessageStatus": "failed"}),
            id="tampered body",
        ),
        pytest.param(
            lambda p: (sign("https://evil.example.com/notifications/twilio/status", p), p),
            id="other url",
        ),
    ],
)
def test_a_forged_callback_is_refused_and_changes_nothing(twilio_client, sent_sms, forge):
    signature, params = forge(status_params(sent_sms.provider_id, "delivered"))
    before = Delivery.objects.values().get(pk=sent_sms.pk)

    response = post(twilio_client, params, signature)

    assert response.status_code == 403
    assert Delivery.objects.values().get(pk=sent_sms.pk) == before


def test_callbacks_are_refused_when_twilio_is_not_configured(twilio_client, sent_sms, settings):
    params = status_params(sent_sms.provider_id, "delivered")
    signature = sign(CALLBACK_URL, params)
    settings.TWILIO_AUTH_TOKEN = ""

    assert post(twilio_client, params, signature).status_code == 403


def test_a_replayed_callback_has_no_second_effect(twilio_client, sent_sms):
    failed = status_params(sent_sms.provider_id, "undelivered", ErrorCode="30003")
    signature = sign(CALLBACK_URL, failed)

    assert post(twilio_client, failed, signature).status_code == 204
    sent_sms.refresh_from_db()
    first = (sent_sms.status, sent_sms.error_code, sent_sms.last_error, sent_sms.updated_at)
    assert first[:2] == ("failed", "30003")

    assert post(twilio_client, failed, signature).status_code == 204
    sent_sms.refresh_from_db()
    assert (sent_sms.status, sent_sms.error_code, sent_sms.last_error, sent_sms.updated_at) == first


def test_statuses_only_move_forward(twilio_client, sent_sms):
    sid = sent_sms.provider_id

    for status in ["delivered", "sent", "queued", "failed"]:
        params = status_params(sid, status)
        assert post(twilio_client, params, sign(CALLBACK_URL, params)).status_code == 204

    sent_sms.refresh_from_db()
    assert sent_sms.status == DeliveryStatus.DELIVERED
    read = status_params(sid, "read")
    post(twilio_client, read, sign(CALLBACK_URL, read))
    sent_sms.refresh_from_db()
    assert sent_sms.status == DeliveryStatus.READ


def test_a_callback_for_an_unknown_message_is_accepted_and_ignored(twilio_client, twilio):
    params = status_params("SM" + "f" * 32, "delivered")

    response = post(twilio_client, params, sign(CALLBACK_URL, params))

    assert response.status_code == 204
    assert not Delivery.objects.exists()


def test_a_whatsapp_message_from_a_person_opens_the_window(twilio_client, twilio):
    url = "http://testserver/notifications/twilio/inbound"
    params = {
        "From": "whatsapp:+14155550123",
        "To": "whatsapp:+14155238886",
        "Body": "Hi!",
        "MessageSid": "SM" + "b" * 32,
        "AccountSid": ACCOUNT_SID,
    }

    forged = twilio_client.post(
        "/notifications/twilio/inbound", params, HTTP_X_TWILIO_SIGNATURE="forged"
    )
    assert forged.status_code == 403
    assert not WhatsAppInbound.objects.exists()

    response = twilio_client.post(
        "/notifications/twilio/inbound", params, HTTP_X_TWILIO_SIGNATURE=sign(url, params)
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    inbound = WhatsAppInbound.objects.get(phone_number="+14155550123")
    assert (timezone.now() - inbound.last_inbound_at).total_seconds() < 60
