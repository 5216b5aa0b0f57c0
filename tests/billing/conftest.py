"""Fixtures for billing: the real Stripe and Razorpay SDKs with fakes at the HTTP boundary,
webhook signatures made exactly as the providers make them, and the sandbox."""

import hashlib
import hmac
import itertools
import json
import time
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import stripe
from requests.adapters import BaseAdapter

from billing.providers import razorpay as razorpay_provider
from billing.providers import sandbox
from billing.providers import stripe as stripe_provider
from tests.billing.factories import no_provider_keys

STRIPE_KEY = "sk_test_encore"
STRIPE_WEBHOOK_SECRET = "whsec_test_encore_stripe"
STRIPE_PRICES = {
    "premium_individual": "price_individual",
    "premium_duo": "price_duo",
    "premium_family": "price_family",
    "premium_student": "price_student",
}
RAZORPAY_KEY_ID = "rzp_test_encore"
RAZORPAY_KEY_SECRET = "rzp_secret_encore"
RAZORPAY_WEBHOOK_SECRET = "rzp_whsec_encore"

_ids = itertools.count(1)


def next_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):014d}"


# --- signatures, as the providers make them -------------------------------------------------


def stripe_signature(payload: str, *, secret: str = STRIPE_WEBHOOK_SECRET, timestamp=None) -> str:
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"


def razorpay_signature(body: str, *, secret: str = RAZORPAY_WEBHOOK_SECRET) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


def post_stripe(client, event: dict, *, secret=STRIPE_WEBHOOK_SECRET, timestamp=None, body=None):
    payload = body if body is not None else json.dumps(event)
    return client.post(
        "/api/billing/webhooks/stripe",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload, secret=secret, timestamp=timestamp),
    )


def post_razorpay(client, event: dict, *, event_id=None, secret=RAZORPAY_WEBHOOK_SECRET, body=None):
    payload = body if body is not None else json.dumps(event)
    return client.post(
        "/api/billing/webhooks/razorpay",
        data=payload,
        content_type="application/json",
        HTTP_X_RAZORPAY_SIGNATURE=razorpay_signature(payload, secret=secret),
        HTTP_X_RAZORPAY_EVENT_ID=event_id or next_id("evt"),
    )


def post_sandbox(client, event_type: str, obj: dict, *, timestamp=None, secret=None, event_id=None):
    body = sandbox.event_body(event_type, obj, event_id=event_id)
    header = sandbox.sign(body.encode(), secret=secret, timestamp=timestamp)
    return client.post(
        "/api/billing/webhooks/sandbox",
        data=body,
        content_type="application/json",
        HTTP_ENCORE_SANDBOX_SIGNATURE=header,
    )


# --- Stripe's HTTP boundary -----------------------------------------------------------------


class FakeStripeHttp(stripe.HTTPClient):
    """Stripe's HTTP client, faked: records every request the SDK builds and answers from
    handlers keyed by (method, path)."""

    name = "fake"

    def __init__(self):
        super().__init__()
        self.requests: list[dict] = []
        self.handlers: dict = {}

    def on(self, method: str, path: str, handler):
        self.handlers[(method.lower(), path)] = handler

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        params = dict(parse_qsl(post_data or parts.query or "", keep_blank_values=True))
        record = {
            "method": method.lower(),
            "path": parts.path,
            "params": params,
            "headers": headers,
        }
        self.requests.append(record)
        handler = self.handlers.get((method.lower(), parts.path))
        if handler is None:
            body = {"error": {"type": "invalid_request_error", "message": f"no route {parts.path}"}}
            return json.dumps(body), 404, {"Request-Id": "req_fake"}
        status, body = handler(record)
        return json.dumps(body), status, {"Request-Id": "req_fake"}

    def request_stream(self, *args, **kwargs):  # pragma: no cover - not used
        raise NotImplementedError

    def close(self):
        pass


def stripe_subscription(
    sub_id: str,
    *,
    status: str = "active",
    user_id: str = "",
    plan: str = "premium_individual",
    customer: str = "cus_test",
    period_start: int | None = None,
    period_end: int | None = None,
    trial_end: int | None = None,
    cancel_at_period_end: bool = False,
    amount: int = 1099,
    currency: str = "usd",
    start_date: int | None = None,
    ended_at: int | None = None,
) -> dict:
    now = int(time.time())
    period_start = period_start if period_start is not None else now
    period_end = period_end if period_end is not None else period_start + 30 * 86400
    return {
        "id": sub_id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": now if status == "canceled" or cancel_at_period_end else None,
        "ended_at": ended_at if ended_at is not None else (now if status == "canceled" else None),
        "trial_end": trial_end,
        "start_date": start_date if start_date is not None else period_start,
        "metadata": {"encore_user": user_id, "encore_plan": plan} if user_id else {},
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{sub_id}",
                    "object": "subscription_item",
                    "quantity": 1,
                    "current_period_start": period_start,
                    "current_period_end": period_end,
                    "price": {
                        "id": STRIPE_PRICES.get(plan, "price_x"),
                        "object": "price",
                        "unit_amount": amount,
                        "currency": currency,
                    },
                }
            ],
        },
    }


def stripe_event(event_type: str, obj: dict, *, created=None, event_id=None) -> dict:
    return {
        "id": event_id or next_id("evt"),
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()) if created is None else int(created),
        "type": event_type,
        "livemode": False,
        "data": {"object": obj},
    }


def stripe_invoice(
    invoice_id, sub_id, *, user_id="", plan="premium_individual", amount=1099, paid=True
):
    return {
        "id": invoice_id,
        "object": "invoice",
        "customer": "cus_test",
        "currency": "usd",
        "amount_paid": amount if paid else 0,
        "amount_due": amount,
        "attempt_count": 1,
        "status": "paid" if paid else "open",
        "parent": {
            "type": "subscription_details",
            "subscription_details": {
                "subscription": sub_id,
                "metadata": {"encore_user": user_id, "encore_plan": plan} if user_id else {},
            },
        },
    }


@pytest.fixture
def stripe_http(settings, monkeypatch):
    """Stripe configured for subscriptions; its HTTP replaced by a FakeStripeHttp."""
    settings.STRIPE_SECRET_KEY = STRIPE_KEY
    settings.STRIPE_WEBHOOK_SECRET = STRIPE_WEBHOOK_SECRET
    settings.STRIPE_PRICE_IDS = dict(STRIPE_PRICES)
    settings.BILLING_PROVIDER = "auto"
    fake = FakeStripeHttp()
    monkeypatch.setattr(stripe_provider, "http_client", lambda: fake)
    return fake


# --- Razorpay's HTTP boundary ---------------------------------------------------------------


class FakeRazorpay(BaseAdapter):
    """A requests adapter mounted on the SDK's Session: sees the real requests the SDK builds."""

    def __init__(self):
        super().__init__()
        self.requests: list[dict] = []
        self.handlers: dict = {}

    def on(self, method: str, path: str, handler):
        self.handlers[(method.upper(), path)] = handler

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        body = request.body
        if isinstance(body, bytes):
            body = body.decode()
        data = json.loads(body) if body else {}
        record = {
            "method": request.method,
            "path": parts.path,
            "json": data,
            "headers": dict(request.headers),
        }
        self.requests.append(record)
        handler = self.handlers.get((request.method, parts.path))
        if handler is None:
            status, answer = (
                400,
                {"error": {"code": "BAD_REQUEST_ERROR", "description": f"no route {parts.path}"}},
            )
        else:
            status, answer = handler(record)
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(answer).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass


@pytest.fixture
def razorpay_http(settings, monkeypatch):
    """Razorpay configured for payments; a FakeRazorpay adapter mounted on its Session."""
    settings.RAZORPAY_KEY_ID = RAZORPAY_KEY_ID
    settings.RAZORPAY_KEY_SECRET = RAZORPAY_KEY_SECRET
    settings.RAZORPAY_WEBHOOK_SECRET = RAZORPAY_WEBHOOK_SECRET
    settings.BILLING_PROVIDER = "auto"
    fake = FakeRazorpay()
    session = requests.Session()
    session.mount("https://api.razorpay.com/", fake)
    monkeypatch.setattr(razorpay_provider, "session", lambda: session)
    return fake


def razorpay_event(event_type: str, entities: dict, *, created_at=None) -> dict:
    return {
        "entity": "event",
        "account_id": "acc_encore",
        "event": event_type,
        "contains": list(entities),
        "payload": {name: {"entity": entity} for name, entity in entities.items()},
        "created_at": int(time.time()) if created_at is None else int(created_at),
    }


def razorpay_payment(payment_id, order_id, *, amount, status="captured", currency="INR"):
    return {
        "id": payment_id,
        "entity": "payment",
        "amount": amount,
        "currency": currency,
        "status": status,
        "order_id": order_id,
        "captured": status == "captured",
        "error_description": "Card declined" if status == "failed" else None,
        "notes": [],
    }


@pytest.fixture
def sandbox_provider(settings):
    """Nothing configured: the embedded sandbox takes payments and subscriptions."""
    no_provider_keys(settings)
    return sandbox


@pytest.fixture(autouse=True)
def _billing_defaults(settings):
    settings.BILLING_CURRENCY = "INR"
    settings.BILLING_TRIAL_DAYS = 30
    settings.BILLING_GRACE_PERIOD_DAYS = 7
    settings.SITE_URL = "http://testserver"
