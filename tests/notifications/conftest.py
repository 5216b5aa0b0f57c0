"""Fixtures for notifications: Twilio through its real SDK with a fake HTTP client, and the
contexts every event needs."""

import json
import logging
from datetime import timedelta

import pytest
import requests
from django.utils import timezone
from twilio.http import HttpClient
from twilio.http.response import Response

from notifications import catalogue, providers
from tests.notifications.factories import VerifiedPhoneUserFactory

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-twilio-auth-token"
CALLBACK_URL = "https://encore.example.com/notifications/twilio/status"


class FakeTwilioHttp(HttpClient):
    """Twilio's HTTP boundary: records each request the SDK builds, answers from a script."""

    def __init__(self):
        super().__init__(logging.getLogger("tests.fake_twilio"), is_async=False)
        self.script: list = []
        self.requests: list[dict] = []
        self._count = 0

    # scripted answers -------------------------------------------------------------------
    def accept(self, status="queued"):
        self._count += 1
        sid = f"SM{self._count:032d}"
        body = {"sid": sid, "status": status, "account_sid": ACCOUNT_SID, "error_code": None}
        self.script.append(Response(201, json.dumps(body)))
        return sid

    def fail(self, status: int, code: int, message: str = "error"):
        body = {"code": code, "message": message, "status": status}
        self.script.append(Response(status, json.dumps(body)))

    def hang(self):
        self.script.append(requests.Timeout("read timed out"))

    # the HttpClient interface --------------------------------------------------------------
    def request(
        self,
        method,
        uri,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ):
        self.requests.append({"method": method, "uri": uri, "data": dict(data or {}), "auth": auth})
        if not self.script:
            raise AssertionError(f"unexpected Twilio request: {method} {uri} {data}")
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def messages(self) -> list[dict]:
        return [r["data"] for r in self.requests if r["uri"].endswith("/Messages.json")]


@pytest.fixture
def twilio(settings, monkeypatch):
    """Twilio configured, its HTTP replaced by a FakeTwilioHttp (returned)."""
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_SMS_FROM = "+15005550006"
    settings.TWILIO_WHATSAPP_FROM = "+14155238886"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_STATUS_CALLBACK_URL = CALLBACK_URL
    settings.TWILIO_WHATSAPP_CONTENT_SIDS = {}
    fake = FakeTwilioHttp()
    monkeypatch.setattr(providers, "http_client", lambda: fake)
    return fake


@pytest.fixture
def retrying_worker():
    """Eager tasks that retry like a worker does (eager propagation would raise the Retry)."""
    from config.celery import app

    previous = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = previous


@pytest.fixture
def no_twilio(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""


@pytest.fixture
def verified(db):
    """A person with a verified phone number and email."""
    return VerifiedPhoneUserFactory()


SAMPLE_VALUES = {
    "url": "/orders/42/",
    "order_title": "Song for Mum & Dad",
    "customer_name": "Asha",
    "musician_name": "Nina",
    "amount_minor": 250000,
    "currency": "INR",
    "stage": "Recording",
    "outcome": "refunded in full",
    "rating": 5,
    "accepted": True,
    "plan_name": "Family",
    "inviter_name": "Ravi",
    "verify_url": "https://encore.example.com/accounts/email/verify/abc/",
    "reset_url": "https://encore.example.com/accounts/password/reset/x/y/",
    "code": "123456",
    "phone_number": "+14155550000",
    "expires_minutes": 10,
    "total": 3,
    "reason": "The account is not active",
    "attempts": 5,
    "kind": "song",
    "title": "Midnight Rain",
    "conversations": [
        {"title": "Song for Mum", "count": 3, "url": "/orders/42/", "last_sender": "Nina"}
    ],
}


def sample_context(event: str, **overrides) -> dict:
    """A context with every key the event requires (datetimes for *_at keys)."""
    event_type = catalogue.get(event)
    context = {}
    for key in event_type.required:
        if key.endswith("_at"):
            context[key] = timezone.now() + timedelta(days=3)
        else:
            context[key] = SAMPLE_VALUES[key]
    context.update(overrides)
    return context
