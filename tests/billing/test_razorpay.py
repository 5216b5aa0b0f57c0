"""Razorpay through its real SDK (a fake requests adapter on its Session) and webhooks signed
exactly as Razorpay signs them."""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

import pytest

from billing import hooks, services
from billing.errors import ProviderError
from billing.models import (
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from billing.services.ledger import balance
from tests.billing.conftest import (
    RAZORPAY_KEY_ID,
    RAZORPAY_KEY_SECRET,
    next_id,
    post_razorpay,
    razorpay_event,
    razorpay_payment,
    razorpay_signature,
)

pytestmark = pytest.mark.django_db


def order_handler(request):
    data = request["json"]
    return 200, {
        "id": "order_R1",
        "entity": "order",
        "amount": data["amount"],
        "currency": data["currency"],
        "receipt": data["receipt"],
        "status": "created",
        "notes": data["notes"],
    }


@pytest.fixture
def checkout(razorpay_http, user):
    razorpay_http.on("POST", "/v1/orders", order_handler)
    return services.payment_checkout_start(
        payer=user,
        amount=300_000,
        currency="INR",
        purpose="order_deposit",
        reference="order-R",
        description="Deposit for a wedding song",
    )


def captured_event(payment_id="pay_R1", order_id="order_R1", amount=300_000):
    return razorpay_event(
        "payment.captured",
        {"payment": razorpay_payment(payment_id, order_id, amount=amount)},
    )


def test_an_order_is_created_and_the_client_gets_checkout_parameters(
    checkout, razorpay_http, user, client
):
    sent = razorpay_http.requests[0]
    assert (sent["method"], sent["path"]) == ("POST", "/v1/orders")
    assert sent["json"]["amount"] == 300_000 and sent["json"]["currency"] == "INR"
    assert sent["json"]["notes"]["encore_payment_id"] == str(checkout.payment_id)
    expected_auth = base64.b64encode(f"{RAZORPAY_KEY_ID}:{RAZORPAY_KEY_SECRET}".encode()).decode()
    assert sent["headers"]["Authorization"] == f"Basic {expected_auth}"

    params = checkout.client_params
    assert params["key"] == RAZORPAY_KEY_ID and params["order_id"] == "order_R1"
    assert params["amount"] == 300_000 and params["prefill"]["email"] == user.email
    assert Payment.objects.get().provider_order_id == "order_R1"

    client.force_login(user)
    page = client.get(urlsplit(checkout.url).path)
    assert page.status_code == 200
    assert "checkout.razorpay.com/v1/checkout.js" in page.content.decode()


def test_a_checkout_callback_with_razorpays_signature_authorizes_and_captures(
    checkout, razorpay_http, client, django_capture_on_commit_callbacks
):
    razorpay_http.on(
        "POST",
        "/v1/payments/pay_R1/capture",
        lambda request: (
            200,
            razorpay_payment("pay_R1", "order_R1", amount=request["json"]["amount"]),
        ),
    )
    signature = hmac.new(
        RAZORPAY_KEY_SECRET.encode(), b"order_R1|pay_R1", hashlib.sha256
    ).hexdigest()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/billing/pay/{checkout.pk}/callback/",
            {
                "razorpay_order_id": "order_R1",
                "razorpay_payment_id": "pay_R1",
                "razorpay_signature": signature,
            },
        )

    assert response.status_code == 302
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.CAPTURED
    assert payment.provider_payment_id == "pay_R1"
    capture = razorpay_http.requests[-1]
    assert capture["path"] == "/v1/payments/pay_R1/capture"
    assert capture["json"] == {"currency": "INR", "amount": 300_000}
    assert balance(code="escrow:order:order-R", currency="INR") == 300_000


def test_a_callback_with_a_forged_signature_changes_nothing(checkout, client):
    response = client.post(
        f"/billing/pay/{checkout.pk}/callback/",
        {
            "razorpay_order_id": "order_R1",
            "razorpay_payment_id": "pay_R1",
            "razorpay_signature": "0" * 64,
        },
    )
    assert response.status_code == 400
    assert Payment.objects.get().status == PaymentStatus.CREATED


def test_payment_captured_webhook_fills_the_escrow_and_tells_orders_once(checkout, client):
    calls = []

    def deposit(*, event, payment, **details):
        calls.append((event, payment.reference))

    hooks.register("order_deposit", deposit)
    try:
        event = captured_event()
        first = post_razorpay(client, event, event_id="evt_R1")
        duplicate = post_razorpay(client, event, event_id="evt_R1")
        redelivered_as_new_event = post_razorpay(client, event, event_id="evt_R2")
    finally:
        hooks.unregister("order_deposit", deposit)

    assert first.status_code == 200 and first.json()["status"] == "processed"
    assert duplicate.json()["duplicate"] is True
    assert redelivered_as_new_event.json()["duplicate"] is False
    assert calls == [("captured", "order-R")]
    assert WebhookEvent.objects.count() == 2
    assert LedgerTransaction.objects.count() == 1
    assert balance(code="escrow:order:order-R", currency="INR") == 300_000


def test_a_failed_attempt_then_a_successful_one_ends_captured(checkout, client):
    failed = razorpay_event(
        "payment.failed",
        {"payment": razorpay_payment("pay_F", "order_R1", amount=300_000, status="failed")},
    )
    assert post_razorpay(client, captured_event("pay_OK")).status_code == 200
    assert post_razorpay(client, failed).status_code == 200  # arrives late

    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.CAPTURED
    assert payment.provider_payment_id == "pay_OK"


def test_a_capture_for_the_wrong_amount_is_recorded_as_a_failure(checkout, client):
    response = post_razorpay(client, captured_event(amount=1))
    assert response.status_code == 200
    assert response.json()["status"] == "failed"
    event = WebhookEvent.objects.get()
    assert "amount_mismatch" in event.last_error or "reports 1" in event.last_error
    assert not LedgerTransaction.objects.exists()


@pytest.mark.parametrize("problem", ["forged", "tampered", "no_event_id", "stale", "no_signature"])
def test_webhooks_that_are_not_razorpays_are_refused(checkout, client, problem):
    event = captured_event()
    body = json.dumps(event)
    headers = {
        "HTTP_X_RAZORPAY_SIGNATURE": razorpay_signature(body),
        "HTTP_X_RAZORPAY_EVENT_ID": next_id("evt"),
    }
    if problem == "forged":
        headers["HTTP_X_RAZORPAY_SIGNATURE"] = razorpay_signature(body, secret="attacker")
    elif problem == "tampered":
        body = body.replace("300000", "3000000")
    elif problem == "no_event_id":
        del headers["HTTP_X_RAZORPAY_EVENT_ID"]
    elif problem == "stale":
        event["created_at"] = int(time.time()) - 4 * 86400
        body = json.dumps(event)
        headers["HTTP_X_RAZORPAY_SIGNATURE"] = razorpay_signature(body)
    elif problem == "no_signature":
        del headers["HTTP_X_RAZORPAY_SIGNATURE"]

    response = client.post(
        "/api/billing/webhooks/razorpay", data=body, content_type="application/json", **headers
    )

    assert response.status_code == 400
    assert set(response.json()) == {"detail", "code"}
    assert not WebhookEvent.objects.exists()
    assert Payment.objects.get().status == PaymentStatus.CREATED


def _refund_handler(request):
    return 200, {
        "id": next_id("rfnd"),
        "entity": "refund",
        "amount": request["json"]["amount"],
        "currency": "INR",
        "payment_id": request["path"].split("/")[3],
        "notes": request["json"]["notes"],
        "status": "processed",
    }


def test_staff_refund_in_part_then_in_full_through_razorpay(
    checkout, razorpay_http, client, api_client, staff
):
    post_razorpay(client, captured_event())
    razorpay_http.on("POST", "/v1/payments/pay_R1/refund", _refund_handler)
    api_client.force_authenticate(staff)
    payment = Payment.objects.get()

    part = api_client.post(
        f"/api/billing/payments/{payment.pk}/refund", {"amount": 100_000}, format="json"
    )
    rest = api_client.post(f"/api/billing/payments/{payment.pk}/refund", {}, format="json")
    too_much = api_client.post(
        f"/api/billing/payments/{payment.pk}/refund", {"amount": 1}, format="json"
    )

    assert part.status_code == 201 and part.json()["amount"] == 100_000
    assert rest.status_code == 201 and rest.json()["amount"] == 200_000
    assert too_much.status_code == 409 and too_much.json()["code"] == "already_refunded"
    sent = [r for r in razorpay_http.requests if r["path"].endswith("/refund")]
    assert [r["json"]["amount"] for r in sent] == [100_000, 200_000]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert balance(code="escrow:order:order-R", currency="INR") == 0

    # Razorpay's own refund.processed webhooks for them change nothing more.
    for refund in Refund.objects.all():
        post_razorpay(
            client,
            razorpay_event(
                "refund.processed",
                {
                    "refund": {
                        "id": refund.provider_refund_id,
                        "entity": "refund",
                        "amount": refund.amount,
                        "currency": "INR",
                        "payment_id": "pay_R1",
                        "notes": {"encore_refund_id": str(refund.pk)},
                        "status": "processed",
                    },
                    "payment": razorpay_payment("pay_R1", "order_R1", amount=300_000),
                },
            ),
        )
    assert Refund.objects.count() == 2
    assert balance(code="external:razorpay:refunds", currency="INR") == 300_000


def test_a_non_staff_cannot_refund(checkout, api_client, user):
    api_client.force_authenticate(user)
    response = api_client.post(
        f"/api/billing/payments/{checkout.payment_id}/refund", {}, format="json"
    )
    assert response.status_code == 403


def test_a_refund_razorpay_refuses_is_reversed(checkout, razorpay_http, client):
    post_razorpay(client, captured_event())
    razorpay_http.on(
        "POST",
        "/v1/payments/pay_R1/refund",
        lambda request: (
            400,
            {"error": {"code": "BAD_REQUEST_ERROR", "description": "Refund window over"}},
        ),
    )
    payment = Payment.objects.get()

    with pytest.raises(ProviderError):
        services.payment_refund(payment=payment, amount=50_000)

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED and payment.amount_refunded == 0
    assert Refund.objects.get().status == RefundStatus.FAILED
    assert balance(code="escrow:order:order-R", currency="INR") == 300_000


def test_a_refund_made_in_the_dashboard_arrives_by_webhook_and_implies_the_capture(
    checkout, client
):
    """Out of order: the refund event comes before the capture event."""
    refund_event = razorpay_event(
        "refund.processed",
        {
            "refund": {
                "id": "rfnd_D",
                "entity": "refund",
                "amount": 50_000,
                "currency": "INR",
                "payment_id": "pay_R1",
                "notes": [],
                "status": "processed",
            },
            "payment": razorpay_payment("pay_R1", "order_R1", amount=300_000),
        },
    )
    failed_event = razorpay_event(
        "refund.failed",
        {
            "refund": {
                "id": "rfnd_D",
                "entity": "refund",
                "amount": 50_000,
                "currency": "INR",
                "payment_id": "pay_R1",
                "notes": [],
                "status": "failed",
            },
            "payment": razorpay_payment("pay_R1", "order_R1", amount=300_000),
        },
    )
    assert post_razorpay(client, refund_event).json()["status"] == "processed"
    assert post_razorpay(client, captured_event()).json()["status"] == "processed"

    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert balance(code="escrow:order:order-R", currency="INR") == 250_000

    post_razorpay(client, failed_event)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED
    assert balance(code="escrow:order:order-R", currency="INR") == 300_000
