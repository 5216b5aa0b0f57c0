"""The embedded sandbox end to end: checkout page -> signed webhook -> the same services."""

from urllib.parse import urlsplit

import pytest

from billing import services
from billing.models import (
    CheckoutSession,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
    WebhookEvent,
)
from billing.services.ledger import balance

pytestmark = pytest.mark.django_db


def path_of(url: str) -> str:
    return urlsplit(url).path


def test_a_payment_through_the_sandbox_checkout_page_is_captured_into_escrow(
    client, user, sandbox_provider, django_capture_on_commit_callbacks
):
    checkout = services.payment_checkout_start(
        payer=user, amount=250000, currency="INR", purpose="order_deposit", reference="order-1"
    )
    page = client.get(path_of(checkout.url))
    assert page.status_code == 200
    assert "₹2,500.00" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path_of(checkout.url), {"outcome": "success"})

    assert response.status_code == 302
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.CAPTURED
    assert balance(code="escrow:order:order-1", currency="INR") == 250000
    assert balance(code="external:sandbox:payments", currency="INR") == -250000
    event = WebhookEvent.objects.get()
    assert (event.provider, event.event_type, event.status) == (
        "sandbox",
        "payment.captured",
        "processed",
    )
    assert LedgerTransaction.objects.count() == 1


def test_subscribing_through_the_sandbox_starts_a_trial(
    client, user, sandbox_provider, django_capture_on_commit_callbacks
):
    client.force_login(user)
    response = client.post(
        "/api/subscriptions/subscribe", {"plan": "premium_family"}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    url = response.json()["checkout_url"]

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(path_of(url), {"outcome": "success"})

    assert done.status_code == 302
    subscription = Subscription.objects.get()
    assert subscription.status == SubscriptionStatus.TRIALING
    assert subscription.plan == "premium_family"
    assert CheckoutSession.objects.get().status == "completed"
    me = client.get("/api/subscriptions/me").json()
    assert me["role"] == "owner"
    assert me["entitlements"]["premium"] is True
    page = client.get(path_of(done["Location"]))
    assert "Welcome to Premium Family" in page.content.decode()


def test_a_declined_card_sends_payment_failed_and_the_payer_may_try_again(
    client, user, sandbox_provider, django_capture_on_commit_callbacks
):
    checkout = services.payment_checkout_start(
        payer=user, amount=90_000, currency="INR", purpose="order_balance", reference="order-2"
    )
    with django_capture_on_commit_callbacks(execute=True):
        declined = client.post(path_of(checkout.url), {"outcome": "failure"})
    assert declined.status_code == 200
    assert "The card was declined" in declined.content.decode()
    assert Payment.objects.get().status == PaymentStatus.FAILED

    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(path_of(checkout.url), {"outcome": "success"})
        again = client.post(path_of(checkout.url), {"outcome": "success"})  # a double click
    assert paid.status_code == again.status_code == 302
    assert Payment.objects.get().status == PaymentStatus.CAPTURED
    assert LedgerTransaction.objects.count() == 1

    client.force_login(user)
    page = client.get(path_of(paid["Location"]))
    assert "Payment received" in page.content.decode()


def test_leaving_the_checkout_takes_no_money(
    client, user, sandbox_provider, django_capture_on_commit_callbacks
):
    checkout = services.payment_checkout_start(
        payer=user,
        amount=90_000,
        currency="INR",
        purpose="order_deposit",
        reference="order-3",
        idempotency_key="order-3-deposit",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path_of(checkout.url), {"outcome": "cancel"})
    assert response.status_code == 302 and "outcome=cancelled" in response["Location"]
    assert not WebhookEvent.objects.exists()
    client.force_login(user)
    page = client.get(response["Location"].replace("http://testserver", ""))
    assert "You left the checkout" in page.content.decode()
    assert Payment.objects.get().status == PaymentStatus.CREATED

    # Like a provider's checkout, it stays open: the payer can come back and pay.
    again = services.payment_checkout_start(
        payer=user,
        amount=90_000,
        currency="INR",
        purpose="order_deposit",
        reference="order-3",
        idempotency_key="order-3-deposit",
    )
    assert again.url == checkout.url
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(checkout.url), {"outcome": "success"})
    assert Payment.objects.get().status == PaymentStatus.CAPTURED


def test_an_unknown_outcome_is_a_400(client, user, sandbox_provider):
    checkout = services.payment_checkout_start(
        payer=user, amount=100, currency="INR", purpose="order_deposit", reference="o"
    )
    assert client.post(path_of(checkout.url), {"outcome": "steal"}).status_code == 400


def test_the_sandbox_checkout_page_is_404_when_the_sandbox_is_off(
    client, user, sandbox_provider, settings
):
    checkout = services.payment_checkout_start(
        payer=user, amount=100, currency="INR", purpose="order_deposit", reference="o"
    )
    settings.STRIPE_SECRET_KEY = "sk_live"
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_live", "x"
    assert client.get(path_of(checkout.url)).status_code == 404
    assert client.get("/billing/sandbox/checkout/cs_sbx_nope/").status_code == 404


def test_a_payment_started_twice_with_one_key_is_one_payment(user, sandbox_provider):
    first = services.payment_checkout_start(
        payer=user,
        amount=500,
        currency="INR",
        purpose="order_deposit",
        reference="o-9",
        idempotency_key="order-9-deposit",
    )
    second = services.payment_checkout_start(
        payer=user,
        amount=500,
        currency="INR",
        purpose="order_deposit",
        reference="o-9",
        idempotency_key="order-9-deposit",
    )
    assert first.pk == second.pk
    assert Payment.objects.count() == 1


def test_sandbox_webhooks_can_go_over_http(
    user, sandbox_provider, settings, client, monkeypatch, django_capture_on_commit_callbacks
):
    """With SANDBOX_WEBHOOK_URL set the worker POSTs the signed body, as a provider would."""
    import requests

    settings.SANDBOX_WEBHOOK_URL = "http://testserver/api/billing/webhooks/sandbox"
    sent = []

    def post(url, data, headers, timeout):
        sent.append(url)
        response = client.post(
            urlsplit(url).path,
            data=data,
            content_type=headers["Content-Type"],
            HTTP_ENCORE_SANDBOX_SIGNATURE=headers["Encore-Sandbox-Signature"],
        )
        answer = requests.Response()
        answer.status_code = response.status_code
        return answer

    monkeypatch.setattr(requests, "post", post)
    checkout = services.payment_checkout_start(
        payer=user, amount=700, currency="INR", purpose="order_deposit", reference="o-h"
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(checkout.url), {"outcome": "success"})

    assert sent == ["http://testserver/api/billing/webhooks/sandbox"]
    assert Payment.objects.get().status == PaymentStatus.CAPTURED


def _subscribe_in_sandbox(client, user, plan, capture):
    client.force_login(user)
    response = client.post(
        "/api/subscriptions/subscribe", {"plan": plan}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    with capture(execute=True):
        client.post(path_of(response.json()["checkout_url"]), {"outcome": "success"})
    return Subscription.objects.get(user=user)


def test_sandbox_renewals_failures_and_the_end_at_period_end(
    client, user, sandbox_provider, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from billing import selectors
    from billing.models import SandboxSubscription
    from billing.providers import sandbox
    from notifications.models import Delivery

    subscription = _subscribe_in_sandbox(
        client, user, "premium_individual", django_capture_on_commit_callbacks
    )
    assert subscription.status == SubscriptionStatus.TRIALING
    sandbox_sub = SandboxSubscription.objects.get()

    # The trial reminder, 3 days before the end.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/billing/sandbox/subscriptions/{sandbox_sub.pk}/trial_ending/")
    assert Delivery.objects.filter(recipient=user, event="subscription.trial_ending").exists()

    # The trial ends: the clock charges the first month.
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.advance(now=timezone.now() + timedelta(days=4))
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert balance(code="revenue:subscriptions", currency="INR") == 11900

    # A renewal fails: past due, told, still premium during the grace period.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/billing/sandbox/subscriptions/{sandbox_sub.pk}/fail/")
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE
    assert Delivery.objects.filter(recipient=user, event="subscription.payment_failed").exists()
    assert selectors.entitlements_for(user).premium

    # Paid after all.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/billing/sandbox/subscriptions/{sandbox_sub.pk}/renew/")
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE and subscription.past_due_since is None
    assert balance(code="revenue:subscriptions", currency="INR") == 2 * 11900

    # Cancelled at period end: premium until then, free after.
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/api/subscriptions/cancel").status_code == 200
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end
    with django_capture_on_commit_callbacks(execute=True):
        sandbox.advance(now=subscription.current_period_end + timedelta(seconds=1))
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELED
    assert not selectors.entitlements_for(user).premium


def test_only_the_first_premium_subscription_has_a_trial(
    client, user, sandbox_provider, django_capture_on_commit_callbacks
):
    from billing.models import SandboxSubscription

    subscription = _subscribe_in_sandbox(
        client, user, "premium_individual", django_capture_on_commit_callbacks
    )
    sandbox_sub = SandboxSubscription.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.subscription_cancel_at_provider(subscription_id=subscription.pk)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELED
    sandbox_sub.refresh_from_db()
    assert sandbox_sub.status == "canceled"

    response = client.post(
        "/api/subscriptions/subscribe", {"plan": "premium_duo"}, content_type="application/json"
    )
    assert response.status_code == 201
    assert response.json()["trial_days"] == 0
