"""SMS and WhatsApp through the real twilio SDK, with a fake at its HTTP boundary."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Delivery, DeliveryStatus, Preference, WhatsAppInbound
from notifications.services import notify
from notifications.tasks import deliver, retry_countdown
from tests.notifications.conftest import ACCOUNT_SID, AUTH_TOKEN, CALLBACK_URL, sample_context

pytestmark = pytest.mark.django_db


def queue_sms(person, event="order.draft_ready", **context):
    """Record the deliveries without running the after-commit dispatch; return the SMS row."""
    notify(event, recipient=person, context=sample_context(event, **context))
    return Delivery.objects.get(recipient=person, channel="sms")


def test_an_sms_goes_through_the_sdk_and_is_logged(verified, twilio):
    delivery = queue_sms(verified)
    sid = twilio.accept()

    deliver.apply(args=[delivery.pk])

    (request,) = twilio.requests
    assert request["method"] == "POST"
    assert request["uri"] == (
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    )
    assert request["auth"] == (ACCOUNT_SID, AUTH_TOKEN)
    assert request["data"]["To"] == verified.phone_number
    assert request["data"]["From"] == "+15005550006"
    assert request["data"]["StatusCallback"] == CALLBACK_URL
    assert request["data"]["Body"] == (
        'Encore: Nina sent a draft of "Song for Mum & Dad". '
        "Listen: http://127.0.0.1:8000/orders/42/"
    )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert (delivery.provider, delivery.provider_id) == ("twilio", sid)
    assert delivery.attempts == 1
    assert delivery.to == verified.phone_number


def test_a_permanent_error_fails_at_once_without_retry(verified, twilio):
    delivery = queue_sms(verified)
    twilio.fail(400, 21211, "The 'To' number is not a valid phone number.")

    deliver.apply(args=[delivery.pk])

    assert len(twilio.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.error_code == "21211"
    assert "not a valid phone number" in delivery.last_error
    assert delivery.attempts == 1


def test_an_unsubscribed_number_is_permanent_too(verified, twilio):
    delivery = queue_sms(verified)
    twilio.fail(400, 21610, "Attempt to send to unsubscribed recipient")

    deliver.apply(args=[delivery.pk])

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code, delivery.attempts) == ("failed", "21610", 1)


def test_a_transient_error_is_retried_then_sent_once(verified, twilio, retrying_worker):
    delivery = queue_sms(verified)
    twilio.fail(503, 20503, "Service unavailable")
    twilio.hang()
    sid = twilio.accept()

    deliver.apply(args=[delivery.pk])

    assert len(twilio.messages) == 3  # two failed tries, one message accepted
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.provider_id == sid
    assert delivery.attempts == 3
    assert delivery.last_error == ""


def test_retries_are_bounded(verified, twilio, settings, retrying_worker):
    settings.NOTIFICATIONS_MAX_RETRIES = 2
    delivery = queue_sms(verified)
    for _ in range(3):
        twilio.fail(500, 20500, "Internal error")

    deliver.apply(args=[delivery.pk])

    assert len(twilio.requests) == 3  # the first try and two retries
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 3
    assert delivery.error_code == "20500"


def test_the_retry_decision_uses_exponential_backoff(settings, monkeypatch):
    settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS = 30
    settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS = 600

    for retries, ceiling in [(0, 30), (1, 60), (2, 120), (3, 240), (4, 480), (5, 600), (9, 600)]:
        delays = {retry_countdown(retries) for _ in range(20)}
        assert all(ceiling // 2 <= delay <= ceiling for delay in delays), (retries, delays)


def test_a_task_that_runs_twice_sends_once(verified, twilio):
    delivery = queue_sms(verified)
    twilio.accept()

    deliver.apply(args=[delivery.pk])
    deliver.apply(args=[delivery.pk])  # a redelivered message (acks_late) or a duplicate

    assert len(twilio.messages) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_task_for_a_delivery_being_sent_does_nothing(verified, twilio):
    delivery = queue_sms(verified)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING)

    deliver.apply(args=[delivery.pk])

    assert twilio.requests == []


def test_a_number_unverified_after_queueing_is_not_texted(verified, twilio):
    delivery = queue_sms(verified)
    verified.phone_verified_at = None
    verified.save()

    deliver.apply(args=[delivery.pk])

    assert twilio.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == ("failed", "phone_unverified")


def test_messaging_service_is_used_when_there_is_no_from_number(verified, twilio, settings):
    settings.TWILIO_SMS_FROM = ""
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "2" * 32
    delivery = queue_sms(verified)
    twilio.accept()

    deliver.apply(args=[delivery.pk])

    assert twilio.messages[0]["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in twilio.messages[0]


def whatsapp_delivery(person):
    Preference.objects.create(
        user=person, event="order.draft_ready", channel="whatsapp", enabled=True
    )
    notify("order.draft_ready", recipient=person, context=sample_context("order.draft_ready"))
    return Delivery.objects.get(recipient=person, channel="whatsapp")


def test_whatsapp_inside_the_24_hour_window_is_free_form(verified, twilio):
    WhatsAppInbound.objects.create(
        phone_number=verified.phone_number, last_inbound_at=timezone.now() - timedelta(hours=2)
    )
    delivery = whatsapp_delivery(verified)
    twilio.accept()

    deliver.apply(args=[delivery.pk])

    message = twilio.messages[0]
    assert message["To"] == f"whatsapp:{verified.phone_number}"
    assert message["From"] == "whatsapp:+14155238886"
    assert message["Body"].startswith("Encore: Nina sent a draft")
    assert "ContentSid" not in message


def test_whatsapp_outside_the_window_uses_the_approved_template(verified, twilio, settings):
    settings.TWILIO_WHATSAPP_CONTENT_SIDS = {"order.draft_ready": "HX" + "3" * 32}
    WhatsAppInbound.objects.create(
        phone_number=verified.phone_number, last_inbound_at=timezone.now() - timedelta(hours=25)
    )
    delivery = whatsapp_delivery(verified)
    twilio.accept()

    deliver.apply(args=[delivery.pk])

    message = twilio.messages[0]
    assert message["ContentSid"] == "HX" + "3" * 32
    assert json.loads(message["ContentVariables"]) == {
        "1": verified.display_name,
        "2": "Nina",
        "3": "Song for Mum & Dad",
        "4": "http://127.0.0.1:8000/orders/42/",
    }
    assert "Body" not in message
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_whatsapp_outside_the_window_without_a_template_fails_permanently(verified, twilio):
    delivery = whatsapp_delivery(verified)

    deliver.apply(args=[delivery.pk])

    assert twilio.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == ("failed", "no_template")


def test_without_twilio_sms_and_whatsapp_are_written_to_the_log(verified, no_twilio, caplog):
    delivery = queue_sms(verified)
    whatsapp = whatsapp_delivery(verified)

    with caplog.at_level(logging.INFO, logger="notifications.providers"):
        deliver.apply(args=[delivery.pk])
        deliver.apply(args=[whatsapp.pk])

    for row in (delivery, whatsapp):
        row.refresh_from_db()
        assert (row.status, row.provider, row.provider_id) == ("logged", "log", "")
    assert f"sms (log only, Twilio not configured) to {verified.phone_number}" in caplog.text
    assert "Encore: Nina sent a draft" in caplog.text
    assert "whatsapp (log only" in caplog.text


def test_a_transient_error_asks_celery_for_a_delayed_retry(verified, twilio):
    from celery.exceptions import Retry

    delivery = queue_sms(verified)
    twilio.fail(502, 20500, "Bad gateway")

    with pytest.raises(Retry) as retry:
        deliver.apply(args=[delivery.pk])

    assert 15 <= retry.value.when <= 30  # the first backoff step (30 s with jitter)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED  # back in the queue for the retry
    assert delivery.attempts == 1
    assert delivery.error_code == "20500"


def test_a_transient_error_after_commit_never_breaks_the_caller(
    verified, twilio, django_capture_on_commit_callbacks
):
    twilio.fail(500, 20500, "Internal error")

    with django_capture_on_commit_callbacks(execute=True):
        notify("order.draft_ready", recipient=verified, context=sample_context("order.draft_ready"))

    sms = Delivery.objects.get(channel="sms")
    assert sms.status == DeliveryStatus.QUEUED  # picked up again by notifications.redispatch_stale


def test_stale_queued_deliveries_are_queued_again_and_sent_once(verified, twilio):
    from notifications.tasks import redispatch_stale

    delivery = queue_sms(verified)  # its task was never queued (as if the broker was down)
    Delivery.objects.filter(pk=delivery.pk).update(updated_at=timezone.now() - timedelta(minutes=6))
    twilio.accept()

    redispatch_stale.apply()
    redispatch_stale.apply()

    assert len(twilio.messages) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


def test_a_delivery_left_sending_by_a_dead_worker_is_failed_not_resent(verified, twilio):
    from notifications.tasks import redispatch_stale

    delivery = queue_sms(verified)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENDING, updated_at=timezone.now() - timedelta(hours=1)
    )

    redispatch_stale.apply()

    assert twilio.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.error_code) == ("failed", "interrupted")
