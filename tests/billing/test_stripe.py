"""Stripe through its real SDK (a fake HTTP client underneath) and webhooks signed exactly as
Stripe signs them."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from billing import selectors, services, tasks
from billing.models import (
    BillingCustomer,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
    WebhookEvent,
)
from billing.services.ledger import balance
from notifications.models import Delivery
from tests.billing.conftest import (
    STRIPE_WEBHOOK_SECRET,
    next_id,
    post_stripe,
    stripe_event,
    stripe_invoice,
    stripe_signature,
    stripe_subscription,
)

pytestmark = pytest.mark.django_db


def test_subscribe_opens_a_stripe_checkout_session_with_a_first_time_trial(
    api_client, user, stripe_http
):
    stripe_http.on(
        "post",
        "/v1/checkout/sessions",
        lambda request: (
            200,
            {
                "id": "cs_test_1",
                "object": "checkout.session",
                "url": "https://checkout.stripe.com/c/pay/cs_test_1",
            },
        ),
    )
    api_client.force_authenticate(user)

    response = api_client.post(
        "/api/subscriptions/subscribe", {"plan": "premium_duo"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["checkout_url"] == "https://checkout.stripe.com/c/pay/cs_test_1"
    assert body["trial_days"] == 30 and body["provider"] == "stripe"
    sent = stripe_http.requests[-1]
    assert sent["params"]["mode"] == "subscription"
    assert sent["params"]["line_items[0][price]"] == "price_duo"
    assert sent["params"]["subscription_data[trial_period_days]"] == "30"
    assert sent["params"]["subscription_data[metadata][encore_user]"] == str(user.pk)
    assert sent["params"]["customer_email"] == user.email
    assert sent["params"]["success_url"].startswith("http://testserver/billing/checkout/")
    assert sent["headers"]["Idempotency-Key"] == f"encore-checkout-{body['id']}"
    assert sent["headers"]["Authorization"] == "Bearer sk_test_encore"


def test_stripe_refusing_the_checkout_is_a_502_with_the_error_shape(api_client, user, stripe_http):
    stripe_http.on(
        "post",
        "/v1/checkout/sessions",
        lambda request: (
            400,
            {"error": {"type": "invalid_request_error", "message": "No such price"}},
        ),
    )
    api_client.force_authenticate(user)

    response = api_client.post(
        "/api/subscriptions/subscribe", {"plan": "premium_individual"}, format="json"
    )

    assert response.status_code == 502
    assert response.json()["code"] == "provider_error"


def test_the_whole_subscription_lifecycle_from_stripe_webhooks(
    client, user, stripe_http, django_capture_on_commit_callbacks
):
    sub_id, uid = "sub_life", str(user.pk)
    now = int(time.time())
    trial_end = now + 30 * 86400

    steps = [
        stripe_event(
            "checkout.session.completed",
            {
                "id": "cs_life",
                "object": "checkout.session",
                "mode": "subscription",
                "customer": "cus_life",
                "subscription": sub_id,
                "metadata": {"encore_user": uid, "encore_plan": "premium_individual"},
            },
            created=now - 100,
        ),
        stripe_event(
            "customer.subscription.created",
            stripe_subscription(
                sub_id,
                status="trialing",
                user_id=uid,
                customer="cus_life",
                period_start=now - 100,
                period_end=trial_end,
                trial_end=trial_end,
            ),
            created=now - 100,
        ),
        stripe_event(
            "customer.subscription.trial_will_end",
            stripe_subscription(
                sub_id,
                status="trialing",
                user_id=uid,
                customer="cus_life",
                period_start=now - 100,
                period_end=trial_end,
                trial_end=trial_end,
            ),
            created=now - 90,
        ),
    ]
    for event in steps:
        assert post_stripe(client, event).status_code == 200

    subscription = Subscription.objects.get()
    assert subscription.status == SubscriptionStatus.TRIALING
    assert BillingCustomer.objects.get(user=user).customer_id == "cus_life"
    assert selectors.entitlements_for(user).premium
    assert Delivery.objects.filter(recipient=user, event="subscription.started").exists()
    assert Delivery.objects.filter(recipient=user, event="subscription.trial_ending").exists()

    # The trial converts: the first real invoice is paid.
    post_stripe(
        client,
        stripe_event("invoice.paid", stripe_invoice("in_1", sub_id, user_id=uid), created=now - 80),
    )
    post_stripe(
        client,
        stripe_event(
            "customer.subscription.updated",
            stripe_subscription(
                sub_id,
                status="active",
                user_id=uid,
                customer="cus_life",
                period_start=now - 80,
                trial_end=trial_end,
            ),
            created=now - 80,
        ),
    )
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert balance(code="revenue:subscriptions", currency="USD") == 1099
    payment = Payment.objects.get(provider_payment_id="in_1")
    assert (payment.purpose, payment.reference, payment.status) == (
        "subscription",
        str(subscription.pk),
        "captured",
    )

    # A renewal fails: past due, the subscriber is told, premium stays during the grace period.
    post_stripe(
        client,
        stripe_event(
            "invoice.payment_failed",
            stripe_invoice("in_2", sub_id, user_id=uid, paid=False),
            created=now - 50,
        ),
    )
    post_stripe(
        client,
        stripe_event(
            "customer.subscription.updated",
            stripe_subscription(
                sub_id,
                status="past_due",
                user_id=uid,
                customer="cus_life",
                period_start=now - 50,
                trial_end=trial_end,
            ),
            created=now - 50,
        ),
    )
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE
    assert Payment.objects.get(provider_payment_id="in_2").status == PaymentStatus.FAILED
    assert Delivery.objects.filter(recipient=user, event="subscription.payment_failed").exists()
    assert selectors.entitlements_for(user).premium

    # The grace period passes: back to free, and Stripe is told to stop.
    stripe_http.on(
        "delete",
        f"/v1/subscriptions/{sub_id}",
        lambda request: (
            200,
            stripe_subscription(sub_id, status="canceled", user_id=uid, customer="cus_life"),
        ),
    )
    Subscription.objects.filter(pk=subscription.pk).update(
        past_due_since=timezone.now() - timedelta(days=8)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.downgrade_past_due() == 1
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELED
    assert subscription.ended_reason == "payment_failed"
    assert stripe_http.requests[-1]["method"] == "delete"
    assert not selectors.entitlements_for(user).premium

    # A late "past_due" snapshot cannot bring it back.
    post_stripe(
        client,
        stripe_event(
            "customer.subscription.updated",
            stripe_subscription(sub_id, status="past_due", user_id=uid, customer="cus_life"),
            created=now + 10,
        ),
    )
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.CANCELED


def test_an_older_snapshot_arriving_late_changes_nothing(client, user, stripe_http):
    uid, now = str(user.pk), int(time.time())
    newer = stripe_event(
        "customer.subscription.updated",
        stripe_subscription("sub_ooo", status="active", user_id=uid, cancel_at_period_end=True),
        created=now - 10,
    )
    older = stripe_event(
        "customer.subscription.created",
        stripe_subscription("sub_ooo", status="trialing", user_id=uid, trial_end=now + 86400),
        created=now - 20,
    )
    post_stripe(client, newer)
    post_stripe(client, older)

    subscription = Subscription.objects.get()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.cancel_at_period_end is True
    assert subscription.had_trial  # a fact from the older snapshot still counts


def test_cancel_and_resume_go_through_the_stripe_api(api_client, user, stripe_http):
    uid = str(user.pk)
    Subscription.objects.create(
        user=user,
        plan="premium_individual",
        status="active",
        provider="stripe",
        provider_subscription_id="sub_c",
        provider_customer_id="cus_c",
        amount=1099,
        currency="USD",
        synced_at=timezone.now() - timedelta(days=1),
    )
    state = {"cancel": False}

    def update(request):
        state["cancel"] = request["params"]["cancel_at_period_end"] == "true"
        return 200, stripe_subscription(
            "sub_c",
            status="active",
            user_id=uid,
            customer="cus_c",
            cancel_at_period_end=state["cancel"],
        )

    stripe_http.on("post", "/v1/subscriptions/sub_c", update)
    api_client.force_authenticate(user)

    cancelled = api_client.post("/api/subscriptions/cancel")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["cancel_at_period_end"] is True
    assert selectors.entitlements_for(user).premium  # until the end of the period

    resumed = api_client.post("/api/subscriptions/resume")
    assert resumed.json()["cancel_at_period_end"] is False
    assert [r["params"]["cancel_at_period_end"] for r in stripe_http.requests] == ["true", "false"]

    stripe_http.on(
        "post",
        "/v1/billing_portal/sessions",
        lambda request: (
            200,
            {
                "id": "bps_1",
                "object": "billing_portal.session",
                "url": "https://billing.stripe.com/p/session/bps_1",
            },
        ),
    )
    portal = api_client.post("/api/subscriptions/portal")
    assert portal.json() == {"url": "https://billing.stripe.com/p/session/bps_1"}
    assert stripe_http.requests[-1]["params"]["customer"] == "cus_c"


def test_cancel_without_a_plan_is_a_409(api_client, user):
    api_client.force_authenticate(user)
    response = api_client.post("/api/subscriptions/cancel/")
    assert response.status_code == 409
    assert response.json() == {"detail": "You have no premium plan.", "code": "not_subscribed"}


# --- verification ---------------------------------------------------------------------------


def _created_event(user):
    return stripe_event(
        "customer.subscription.created",
        stripe_subscription(next_id("sub"), status="active", user_id=str(user.pk)),
    )


def test_a_forged_signature_is_refused_and_stores_nothing(client, user, stripe_http):
    response = post_stripe(client, _created_event(user), secret="whsec_attacker")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists() and not Subscription.objects.exists()


def test_a_tampered_body_is_refused(client, user, stripe_http):
    event = _created_event(user)
    payload = json.dumps(event)
    header = stripe_signature(payload)
    tampered = payload.replace('"premium_individual"', '"premium_family"')

    response = client.post(
        "/api/billing/webhooks/stripe",
        data=tampered,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )

    assert response.status_code == 400
    assert not Subscription.objects.exists()


def test_a_stale_signature_is_refused(client, user, stripe_http):
    response = post_stripe(client, _created_event(user), timestamp=time.time() - 301)
    assert response.status_code == 400
    assert response.json()["code"] == "stale_signature"
    assert not WebhookEvent.objects.exists()


def test_a_missing_signature_is_refused(client, user, stripe_http):
    response = client.post(
        "/api/billing/webhooks/stripe",
        data=json.dumps(_created_event(user)),
        content_type="application/json",
    )
    assert response.status_code == 400


def test_a_replayed_delivery_is_a_200_no_op(client, user, stripe_http):
    event = stripe_event("invoice.paid", stripe_invoice("in_r", "sub_r", user_id=str(user.pk)))
    payload = json.dumps(event)
    header = stripe_signature(payload, secret=STRIPE_WEBHOOK_SECRET)

    first = client.post(
        "/api/billing/webhooks/stripe",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )
    again = client.post(
        "/api/billing/webhooks/stripe",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )

    assert first.status_code == 200 and first.json()["duplicate"] is False
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert WebhookEvent.objects.count() == 1
    assert LedgerTransaction.objects.count() == 1
    assert balance(code="revenue:subscriptions", currency="USD") == 1099


def test_events_billing_does_not_act_on_are_stored_as_ignored(client, stripe_http):
    response = post_stripe(
        client, stripe_event("customer.created", {"id": "cus_x", "object": "customer"})
    )
    assert response.json()["status"] == "ignored"


def test_the_stripe_endpoint_is_absent_without_a_webhook_secret(client, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = client.post(
        "/api/billing/webhooks/stripe", data="{}", content_type="application/json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_configured"


def test_subscription_events_before_the_checkout_completes_still_land(client, user, stripe_http):
    """invoice.paid can arrive first: the subscription is created from its metadata."""
    uid = str(user.pk)
    post_stripe(
        client, stripe_event("invoice.paid", stripe_invoice("in_first", "sub_early", user_id=uid))
    )
    post_stripe(
        client,
        stripe_event(
            "customer.subscription.created",
            stripe_subscription("sub_early", status="active", user_id=uid),
        ),
    )
    subscription = Subscription.objects.get()
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert Payment.objects.get().reference == str(subscription.pk)
    assert services.ledger.balance(code="revenue:subscriptions", currency="USD") == 1099


def test_a_plan_changed_in_the_billing_portal_follows_the_price(client, user, stripe_http):
    uid, now = str(user.pk), int(time.time())
    post_stripe(
        client,
        stripe_event(
            "customer.subscription.created",
            stripe_subscription("sub_p", status="active", user_id=uid, plan="premium_family"),
            created=now - 20,
        ),
    )
    changed = stripe_subscription("sub_p", status="active", user_id=uid, plan="premium_family")
    changed["items"]["data"][0]["price"]["id"] = "price_duo"  # metadata still says family
    post_stripe(client, stripe_event("customer.subscription.updated", changed, created=now - 10))

    assert Subscription.objects.get().plan == "premium_duo"
