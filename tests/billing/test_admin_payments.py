"""The Payments menu of the Wagtail admin: payments, refunds, payouts and webhook events, read by
staff only, and a failed webhook replayed through the webhook service (logged, idempotent)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from wagtail.models import ModelLogEntry

from billing import services
from billing.models import (
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Payout,
    PayoutStatus,
    Refund,
    WebhookEvent,
    WebhookStatus,
)
from billing.services import webhooks as webhook_service
from billing.services.ledger import balance
from tests.billing.conftest import post_sandbox
from tests.billing.factories import PaymentFactory, PayoutAccountFactory
from tests.factories import MusicianFactory, UserFactory

pytestmark = pytest.mark.django_db


def capture_body(payment, payment_id="pay_sbx_admin") -> dict:
    return {
        "id": payment_id,
        "object": "payment",
        "checkout": payment.provider_order_id,
        "amount": payment.amount,
        "currency": payment.currency,
        "status": "captured",
    }


@pytest.fixture
def failed_capture(client, sandbox_provider, monkeypatch):
    """A verified capture whose processing failed (the ledger was unreachable): stored, failed,
    nothing moved. The cause is gone once the fixture returns."""
    payment = PaymentFactory(reference="order-replay")

    def unreachable(**kwargs):
        raise RuntimeError("ledger database unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(webhook_service.payments, "payment_record_event", unreachable)
        post_sandbox(client, "payment.captured", capture_body(payment))
    client.logout()
    event = WebhookEvent.objects.get()
    assert event.status == WebhookStatus.FAILED
    return payment, event


def admin_access_without_staff():
    """Someone who may open the admin (a musician editing their own page) but is not staff."""
    person = MusicianFactory()
    person.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return person


# --- listings and inspect views ---------------------------------------------------------------


def test_staff_filter_and_search_payments_and_inspect_one_with_its_ledger(
    client, staff, sandbox_provider
):
    captured = PaymentFactory(reference="order-alpha", currency="INR", amount=123_450)
    post_sandbox(client, "payment.captured", capture_body(captured))
    PaymentFactory(reference="order-beta", purpose="order_balance", currency="USD", amount=5_000)
    old = PaymentFactory(reference="order-gamma")
    Payment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    client.force_login(staff)

    listing = client.get("/admin/billing_payments/").content.decode()
    by_status = client.get("/admin/billing_payments/", {"status": "captured"}).content.decode()
    by_purpose = client.get("/admin/billing_payments/", {"purpose": "order_balance"})
    by_currency = client.get("/admin/billing_payments/", {"currency": "usd"}).content.decode()
    recent = client.get(
        "/admin/billing_payments/",
        {"created_at_from": (timezone.now() - timedelta(days=7)).date().isoformat()},
    ).content.decode()
    searched = client.get("/admin/billing_payments/", {"q": "alpha"}).content.decode()
    inspect = client.get(f"/admin/billing_payments/inspect/{captured.pk}/").content.decode()

    assert all(ref in listing for ref in ("order-alpha", "order-beta", "order-gamma"))
    assert "₹1,234.50" in listing
    assert "order-alpha" in by_status and "order-beta" not in by_status
    assert "order-beta" in by_purpose.content.decode()
    assert "order-alpha" not in by_purpose.content.decode()
    assert "order-beta" in by_currency and "order-alpha" not in by_currency
    assert "order-gamma" not in recent and "order-alpha" in recent
    assert "order-alpha" in searched and "order-beta" not in searched
    assert f"capture:{captured.pk}" in inspect  # its ledger transaction, with both legs
    assert "escrow:order:order-alpha" in inspect and "external:sandbox:payments" in inspect


def test_refunds_and_payouts_are_listed_and_inspected(client, staff, sandbox_provider):
    payment = PaymentFactory(reference="order-refunded")
    post_sandbox(client, "payment.captured", capture_body(payment))
    refund = services.payment_refund(
        payment=Payment.objects.get(pk=payment.pk),
        amount=20_000,
        reason="the musician never started",
    )
    account = PayoutAccountFactory(account_id="sbx_paid_here")
    Payout.objects.create(
        musician=account.user,
        provider="sandbox",
        amount=7_500,
        currency="INR",
        status=PayoutStatus.FAILED,
        idempotency_key="payout:admin-test",
        failure_reason="the account is closed",
    )
    client.force_login(staff)

    refunds = client.get("/admin/billing_refunds/", {"purpose": "order_deposit"})
    no_refunds = client.get("/admin/billing_refunds/", {"purpose": "subscription"})
    refund_page = client.get(f"/admin/billing_refunds/inspect/{refund.pk}/")
    payouts = client.get("/admin/billing_payouts/", {"status": "failed"})
    payout = Payout.objects.get()
    payout_page = client.get(f"/admin/billing_payouts/inspect/{payout.pk}/").content.decode()

    assert "the musician never started" in refunds.content.decode()
    assert "₹200.00" in refunds.content.decode()
    assert "the musician never started" not in no_refunds.content.decode()
    assert f"refund:{refund.pk}" in refund_page.content.decode()
    assert str(account.user) in payouts.content.decode()
    assert "the account is closed" in payout_page
    # No retry service exists for a payout that failed for good: the page says what happens.
    assert "saves their payout account again" in payout_page
    assert "/retry/" not in payout_page


def test_the_payments_menu_groups_every_money_screen(client, staff):
    client.force_login(staff)

    html = client.get("/admin/").content.decode()

    assert "Payments" in html
    for url in (
        "/admin/billing_payments/",
        "/admin/billing_refunds/",
        "/admin/billing_payouts/",
        "/admin/billing_webhooks/",
        "/admin/billing_webhooks/?status=failed",
        "/admin/billing_students/",
    ):
        assert url in html, url


@pytest.mark.parametrize(
    "path",
    [
        "/admin/billing_payments/",
        "/admin/billing_refunds/",
        "/admin/billing_payouts/",
        "/admin/billing_webhooks/",
    ],
)
def test_listings_read_a_bounded_number_of_queries(
    client, staff, path, django_assert_max_num_queries
):
    for n in range(3):
        payment = PaymentFactory(payer=UserFactory())
        Refund.objects.create(
            payment=payment, provider="sandbox", amount=100, currency="INR", reason=f"r{n}"
        )
        Payout.objects.create(
            musician=MusicianFactory(),
            provider="sandbox",
            amount=100,
            currency="INR",
            idempotency_key=f"payout:q{n}",
        )
        WebhookEvent.objects.create(
            provider="sandbox", event_id=f"evt_{n}", event_type="payment.captured", payload={}
        )
    client.force_login(staff)
    client.get(path)  # the admin's menus and permissions are read once per process

    with django_assert_max_num_queries(16) as captured:
        response = client.get(path)
    few = len(captured)
    for n in range(3, 15):
        payment = PaymentFactory(payer=UserFactory())
        Refund.objects.create(
            payment=payment, provider="sandbox", amount=100, currency="INR", reason=f"r{n}"
        )
        Payout.objects.create(
            musician=MusicianFactory(),
            provider="sandbox",
            amount=100,
            currency="INR",
            idempotency_key=f"payout:q{n}",
        )
        WebhookEvent.objects.create(
            provider="sandbox", event_id=f"evt_{n}", event_type="payment.captured", payload={}
        )
    with django_assert_max_num_queries(few):  # more rows, not more queries
        many = client.get(path)

    assert response.status_code == 200 and many.status_code == 200


# --- failed webhooks and their replay -------------------------------------------------------


def test_staff_replay_a_failed_webhook_once_its_cause_is_fixed(client, staff, failed_capture):
    payment, event = failed_capture
    client.force_login(staff)

    failed = client.get("/admin/billing_webhooks/", {"status": "failed"}).content.decode()
    assert "payment.captured" in failed and "ledger database unreachable" in failed
    assert f"/admin/billing_webhooks/replay/{event.pk}/" in failed
    page = client.get(f"/admin/billing_webhooks/replay/{event.pk}/")
    assert page.status_code == 200 and 'method="POST"' in page.content.decode()
    assert not LedgerTransaction.objects.exists()  # looking changes nothing

    response = client.post(f"/admin/billing_webhooks/replay/{event.pk}/", follow=True)

    event.refresh_from_db()
    payment.refresh_from_db()
    assert event.status == WebhookStatus.PROCESSED and event.replayed_at is not None
    assert payment.status == PaymentStatus.CAPTURED
    assert balance(code="escrow:order:order-replay", currency="INR") == payment.amount
    assert "Replayed: the event is processed." in response.content.decode()
    entry = ModelLogEntry.objects.get(action="billing.webhook_replay")
    assert entry.user_id == staff.pk and entry.object_id == str(event.pk)
    assert entry.data["status_before"] == "failed"
    history = client.get(f"/admin/billing_webhooks/history/{event.pk}/").content.decode()
    assert "Replay webhook event" in history

    # Replaying a processed event changes nothing.
    again = client.post(f"/admin/billing_webhooks/replay/{event.pk}/")
    assert again.status_code == 302
    assert LedgerTransaction.objects.count() == 1
    assert balance(code="escrow:order:order-replay", currency="INR") == payment.amount
    assert ModelLogEntry.objects.filter(action="billing.webhook_replay").count() == 2


def test_a_replay_that_fails_again_says_so_and_moves_no_money(
    client, staff, failed_capture, monkeypatch
):
    payment, event = failed_capture
    monkeypatch.setattr(
        webhook_service.payments,
        "payment_record_event",
        lambda **kwargs: (_ for _ in ()).throw(RuntimeError("still unreachable")),
    )
    client.force_login(staff)

    response = client.post(f"/admin/billing_webhooks/replay/{event.pk}/", follow=True)

    event.refresh_from_db()
    assert event.status == WebhookStatus.FAILED and event.attempts == 2
    assert "still unreachable" in event.last_error
    assert "The replay failed again" in response.content.decode()
    assert not LedgerTransaction.objects.exists()


def test_the_event_page_shows_the_payload_and_a_replay_button(client, staff, failed_capture):
    _, event = failed_capture
    client.force_login(staff)

    html = client.get(f"/admin/billing_webhooks/inspect/{event.pk}/").content.decode()

    assert "payment.captured" in html and "pay_sbx_admin" in html  # the stored payload
    assert f"/admin/billing_webhooks/replay/{event.pk}/" in html


def test_an_unknown_event_is_404(client, staff):
    client.force_login(staff)

    response = client.post("/admin/billing_webhooks/replay/00000000-0000-0000-0000-000000000000/")

    assert response.status_code == 404


def test_replay_needs_the_csrf_token(client, staff, failed_capture):
    _, event = failed_capture
    from django.test import Client

    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(staff)

    response = guarded.post(f"/admin/billing_webhooks/replay/{event.pk}/")

    assert response.status_code == 403
    event.refresh_from_db()
    assert event.status == WebhookStatus.FAILED and event.replayed_at is None


# --- staff only -----------------------------------------------------------------------------

SCREENS = [
    "/admin/billing_payments/",
    "/admin/billing_refunds/",
    "/admin/billing_payouts/",
    "/admin/billing_webhooks/",
    "/admin/billing_webhooks/?status=failed",
]


@pytest.mark.parametrize("who", ["customer", "musician"])
def test_people_without_admin_access_are_sent_to_log_in(client, failed_capture, who):
    _, event = failed_capture
    person = UserFactory() if who == "customer" else MusicianFactory()
    client.force_login(person)

    for path in [*SCREENS, f"/admin/billing_webhooks/inspect/{event.pk}/"]:
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], path
    replay = client.post(f"/admin/billing_webhooks/replay/{event.pk}/")

    assert replay.status_code == 302 and "/admin/login/" in replay["Location"]
    event.refresh_from_db()
    assert event.status == WebhookStatus.FAILED and event.replayed_at is None


def test_admin_access_without_staff_sees_no_money_and_cannot_replay(client, failed_capture):
    _, event = failed_capture
    client.force_login(admin_access_without_staff())

    for path in [*SCREENS, f"/admin/billing_webhooks/inspect/{event.pk}/"]:
        response = client.get(path)
        assert response.status_code in (302, 403), path
        assert "ledger database unreachable" not in response.content.decode()
    menu = client.get("/admin/").content.decode()
    replay_page = client.get(f"/admin/billing_webhooks/replay/{event.pk}/")
    replay = client.post(f"/admin/billing_webhooks/replay/{event.pk}/")

    assert "/admin/billing_payments/" not in menu
    # Wagtail answers a refused admin page with a redirect to the dashboard.
    assert replay_page.status_code in (302, 403) and replay.status_code in (302, 403)
    event.refresh_from_db()
    assert event.status == WebhookStatus.FAILED and event.replayed_at is None


def test_nobody_adds_edits_or_deletes_money_rows(client, staff):
    payment = PaymentFactory()
    client.force_login(staff)

    for path in (
        "/admin/billing_payments/new/",
        f"/admin/billing_payments/edit/{payment.pk}/",
        f"/admin/billing_payments/delete/{payment.pk}/",
    ):
        response = client.post(path, {"amount": 1})
        assert response.status_code in (302, 403), path
    payment.refresh_from_db()
    assert payment.amount == 250_000
    listing = client.get("/admin/billing_payments/").content.decode()
    assert not re.search(r'href="/admin/billing_payments/(new|edit)/', listing)
