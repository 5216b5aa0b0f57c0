"""The webhook endpoint's contract: verification, store once, failures retried, staff replay."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from billing import services, tasks
from billing.models import (
    BillingCustomer,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    WebhookEvent,
    WebhookStatus,
)
from billing.providers import sandbox
from billing.services.ledger import balance
from tests.billing.conftest import (
    post_sandbox,
    post_stripe,
    stripe_event,
    stripe_invoice,
)
from tests.billing.factories import PaymentFactory

pytestmark = pytest.mark.django_db


def sandbox_capture(payment: Payment, payment_id="pay_sbx_1") -> dict:
    return {
        "id": payment_id,
        "object": "payment",
        "checkout": payment.provider_order_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": "captured",
    }


# --- the sandbox's signature ----------------------------------------------------------------


def test_a_sandbox_event_signed_with_the_secret_is_processed(client, sandbox_provider):
    payment = PaymentFactory()
    response = post_sandbox(client, "payment.captured", sandbox_capture(payment))
    assert response.status_code == 200
    assert response.json()["status"] == "processed"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED


@pytest.mark.parametrize(
    ("problem", "code"),
    [
        ("forged", "invalid_signature"),
        ("tampered", "invalid_signature"),
        ("stale", "stale_signature"),
        ("future", "stale_signature"),
        ("missing", "missing_signature"),
        ("garbled", "invalid_signature"),
    ],
)
def test_sandbox_events_that_are_not_the_sandboxs_are_refused(
    client, sandbox_provider, problem, code
):
    payment = PaymentFactory()
    body = sandbox.event_body("payment.captured", sandbox_capture(payment))
    header = sandbox.sign(body.encode())
    if problem == "forged":
        header = sandbox.sign(body.encode(), secret="not-the-secret")
    elif problem == "tampered":
        body = body.replace(str(payment.amount), str(payment.amount * 10))
    elif problem == "stale":
        header = sandbox.sign(body.encode(), timestamp=time.time() - 301)
    elif problem == "future":
        header = sandbox.sign(body.encode(), timestamp=time.time() + 400)
    elif problem == "missing":
        header = ""
    elif problem == "garbled":
        header = "t=abc,v2=123"

    response = client.post(
        "/api/billing/webhooks/sandbox",
        data=body,
        content_type="application/json",
        HTTP_ENCORE_SANDBOX_SIGNATURE=header,
    )

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not WebhookEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED


def test_a_replayed_sandbox_event_is_a_200_no_op(client, sandbox_provider):
    payment = PaymentFactory()
    body = sandbox.event_body("payment.captured", sandbox_capture(payment))
    header = sandbox.sign(body.encode())
    responses = [
        client.post(
            "/api/billing/webhooks/sandbox/",
            data=body,
            content_type="application/json",
            HTTP_ENCORE_SANDBOX_SIGNATURE=header,
        )
        for _ in range(3)
    ]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.json()["duplicate"] for r in responses] == [False, True, True]
    assert WebhookEvent.objects.count() == 1
    assert LedgerTransaction.objects.count() == 1


def test_the_sandbox_endpoint_is_gone_when_real_providers_take_everything(client, settings):
    settings.STRIPE_SECRET_KEY = "sk_live_x"
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_live", "secret"
    body = sandbox.event_body("payment.captured", {"id": "pay_x", "checkout": "cs_x"})

    response = client.post(
        "/api/billing/webhooks/sandbox",
        data=body,
        content_type="application/json",
        HTTP_ENCORE_SANDBOX_SIGNATURE=sandbox.sign(body.encode()),
    )

    assert response.status_code == 404
    assert not WebhookEvent.objects.exists()


# --- the endpoint's other answers -----------------------------------------------------------


def test_unknown_providers_are_404(client):
    response = client.post(
        "/api/billing/webhooks/paypal", data="{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "unknown_provider"


def test_a_body_that_is_not_json_is_415(client, sandbox_provider):
    response = client.post("/api/billing/webhooks/sandbox", data="a=b", content_type="text/plain")
    assert response.status_code == 415


def test_a_huge_body_is_413(client, sandbox_provider, settings):
    settings.BILLING_WEBHOOK_MAX_BYTES = 1000
    response = client.post(
        "/api/billing/webhooks/sandbox",
        data="{" + " " * 2000 + "}",
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_webhooks_only_accept_post(client, sandbox_provider):
    assert client.get("/api/billing/webhooks/sandbox").status_code == 405


def test_a_signed_body_that_is_not_an_event_is_400(client, sandbox_provider):
    body = b'{"hello": "world"}'
    response = client.post(
        "/api/billing/webhooks/sandbox",
        data=body,
        content_type="application/json",
        HTTP_ENCORE_SANDBOX_SIGNATURE=sandbox.sign(body),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"


# --- failures, retries, replays -------------------------------------------------------------


def test_a_processing_failure_is_recorded_and_retried_by_the_task(client, user, stripe_http):
    # An invoice for a customer Encore does not know yet: it cannot be processed.
    invoice = stripe_invoice("in_late", "sub_late")
    invoice["customer"] = "cus_late"
    response = post_stripe(client, stripe_event("invoice.paid", invoice))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.FAILED
    assert event.attempts == 1
    assert "unknown_subscriber" in event.last_error or "unknown" in event.last_error
    assert event.next_attempt_at > timezone.now()
    assert not LedgerTransaction.objects.exists()

    # Not due yet: the task leaves it alone.
    assert tasks.retry_failed_webhooks() == 0

    # Later the customer is known (the checkout completed) and the retry is due.
    BillingCustomer.objects.create(user=user, provider="stripe", customer_id="cus_late")
    from billing.models import Subscription

    Subscription.objects.create(
        user=user,
        plan="premium_individual",
        provider="stripe",
        provider_subscription_id="sub_late",
        status="active",
        amount=1099,
        currency="USD",
    )
    WebhookEvent.objects.filter(pk=event.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert tasks.retry_failed_webhooks() == 1

    event.refresh_from_db()
    assert (
        event.status == WebhookStatus.PROCESSED and event.attempts == 2 and event.last_error == ""
    )
    assert balance(code="revenue:subscriptions", currency="USD") == 1099


def test_retries_stop_after_the_maximum_number_of_attempts(client, stripe_http, settings):
    settings.BILLING_WEBHOOK_MAX_ATTEMPTS = 2
    invoice = stripe_invoice("in_never", "sub_never")
    invoice["customer"] = "cus_never"
    post_stripe(client, stripe_event("invoice.paid", invoice))
    event = WebhookEvent.objects.get()
    WebhookEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())

    tasks.retry_failed_webhooks()

    event.refresh_from_db()
    assert event.status == WebhookStatus.FAILED and event.attempts == 2
    assert event.next_attempt_at is None  # left for staff to look at and replay


def test_staff_can_replay_an_event_and_nothing_happens_twice(
    client, api_client, staff, user, sandbox_provider
):
    payment = PaymentFactory()
    post_sandbox(client, "payment.captured", sandbox_capture(payment))
    event = WebhookEvent.objects.get()

    api_client.force_authenticate(user)
    assert api_client.post(f"/api/billing/webhooks/events/{event.pk}/replay").status_code == 403
    api_client.force_authenticate(None)
    assert api_client.post(f"/api/billing/webhooks/events/{event.pk}/replay").status_code == 401

    api_client.force_authenticate(staff)
    response = api_client.post(f"/api/billing/webhooks/events/{event.pk}/replay")

    assert response.status_code == 200
    assert response.json()["status"] == "processed"
    assert response.json()["replayed_at"] is not None
    assert LedgerTransaction.objects.count() == 1
    assert balance(code=f"escrow:order:{payment.reference}", currency="INR") == payment.amount

    detail = api_client.get(f"/api/billing/webhooks/events/{event.pk}")
    assert detail.json()["payload"]["type"] == "payment.captured"
    missing = api_client.post(
        "/api/billing/webhooks/events/00000000-0000-0000-0000-000000000000/replay"
    )
    assert missing.status_code == 404


def test_staff_list_events_by_status_with_a_bounded_number_of_queries(
    client, api_client, staff, sandbox_provider, django_assert_max_num_queries
):
    for _ in range(15):
        payment = PaymentFactory()
        post_sandbox(
            client, "payment.captured", sandbox_capture(payment, payment_id=f"pay_{payment.pk.hex}")
        )
    post_sandbox(
        client,
        "payment.captured",
        {"id": "pay_unknown", "checkout": "cs_unknown", "amount": 1, "currency": "INR"},
    )
    api_client.force_authenticate(staff)

    with django_assert_max_num_queries(4):
        response = api_client.get("/api/billing/webhooks/events?page_size=10")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 16 and len(body["results"]) == 10 and body["next"]
    ignored = api_client.get("/api/billing/webhooks/events?status=ignored").json()
    assert ignored["count"] == 1


def test_services_can_be_called_directly_by_the_sandbox_in_process(
    sandbox_provider, django_capture_on_commit_callbacks
):
    """The sandbox's deliveries go through webhook_receive: the same verification and storage."""
    payment = PaymentFactory()
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.emit("payment.captured", sandbox_capture(payment))
    assert WebhookEvent.objects.get().status == WebhookStatus.PROCESSED
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED
    services.webhooks_retry_due()
