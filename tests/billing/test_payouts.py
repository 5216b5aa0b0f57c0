"""Musicians are paid: the payout account, the beat after the hold period, the ledger, retries
then staff, the API and the page. Provider SDK paths: test_payouts_providers.py; concurrent
beat runs on PostgreSQL: test_payouts_races.py."""

import re
import uuid
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from billing import selectors, services
from billing.models import LedgerEntry, LedgerTransaction, Payout, PayoutAccount, PayoutStatus
from billing.services import payouts
from billing.services.ledger import balance
from billing.tasks import release_payout_holds
from notifications.models import Delivery
from tests.billing.factories import PaymentFactory, PayoutAccountFactory
from tests.factories import MusicianFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

HOLD = timedelta(days=7)


@pytest.fixture(autouse=True)
def _hold(settings, sandbox_provider):
    settings.BILLING_PAYOUT_HOLD_DAYS = 7


def earn(musician, *, amount=100_000, fee=15_000, currency="INR", at=None) -> int:
    """An order of `musician` completes (now, or `at`): its escrow is released into their
    payable. Returns what they earned."""
    reference = f"order-{uuid.uuid4().hex[:10]}"
    services.payment_capture(
        payment=PaymentFactory(amount=amount, reference=reference, currency=currency)
    )
    release = services.escrow_release(
        reference=reference,
        musician=musician,
        amount=amount,
        platform_fee=fee,
        currency=currency,
        idempotency_key=f"release:{reference}",
    )
    if at is not None:
        LedgerTransaction.objects.filter(pk=release.pk).update(created_at=at)
    return amount - fee


def payable(musician, currency="INR") -> int:
    return balance(code=f"payable:{musician.pk}", currency=currency)


def assert_books_balance():
    totals = LedgerEntry.objects.values("transaction_id", "currency").annotate(t=Sum("amount"))
    assert all(row["t"] == 0 for row in totals)


def run(now, capture=None):
    """One run of the beat at `now`, its webhooks (the sandbox's) delivered after the commit."""
    if capture is None:
        return payouts.payouts_run(now=now)
    with capture(execute=True):
        return payouts.payouts_run(now=now)


# --- the payout account -----------------------------------------------------------------------


def put_account(api_client, user, **body):
    api_client.force_authenticate(user)
    return api_client.put("/api/billing/payout-account", body, format="json")


def test_a_musician_sets_a_sandbox_payout_account_and_reads_it_back(api_client, musician):
    response = put_account(api_client, musician, provider="sandbox", account_id=" sbx_nina ")

    assert response.status_code == 200, response.json()
    assert response.json()["provider"] == "sandbox"
    assert response.json()["account_id"] == "sbx_nina"
    assert response.json()["payouts_paused"] is False
    got = api_client.get("/api/billing/payout-account/").json()
    assert (got["provider"], got["account_id"]) == ("sandbox", "sbx_nina")

    put_account(api_client, musician, provider="sandbox", account_id="sbx_nina_studio")
    assert PayoutAccount.objects.get(user=musician).account_id == "sbx_nina_studio"
    assert PayoutAccount.objects.count() == 1


@pytest.mark.parametrize(
    ("provider", "account_id", "code"),
    [
        ("paypal", "pp_1", "invalid_provider"),
        ("razorpay", "acc_CPRsN1LkFccllA", "provider_unavailable"),  # no Razorpay keys here
        ("stripe", "acct_1032D82eZvKYlo2C", "provider_unavailable"),
        ("sandbox", "acct_1032D82eZvKYlo2C", "invalid_account_id"),
        ("sandbox", "sbx_", "invalid_account_id"),
        ("sandbox", "sbx_a b", "invalid_account_id"),
    ],
)
def test_a_bad_payout_account_is_a_clear_400(api_client, musician, provider, account_id, code):
    response = put_account(api_client, musician, provider=provider, account_id=account_id)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert not PayoutAccount.objects.exists()


@pytest.mark.parametrize(
    ("provider", "good", "bad"),
    [
        ("razorpay", "acc_CPRsN1LkFccllA", "acc_short"),
        ("razorpay", "acc_CPRsN1LkFccllA", "acct_1032D82eZvKYlo2C"),
        ("stripe", "acct_1032D82eZvKYlo2C", "acc_CPRsN1LkFccllA"),
        ("stripe", "acct_1032D82eZvKYlo2C", "acct_!"),
    ],
)
def test_each_provider_checks_its_own_id_format(
    api_client, musician, settings, provider, good, bad
):
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = "rzp_test_x", "secret"
    settings.STRIPE_SECRET_KEY = "sk_test_x"

    refused = put_account(api_client, musician, provider=provider, account_id=bad)
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_account_id"
    assert "looks like" in refused.json()["detail"]

    accepted = put_account(api_client, musician, provider=provider, account_id=good)
    assert accepted.status_code == 200
    assert accepted.json()["account_id"] == good


def test_missing_fields_are_400s(api_client, musician):
    response = put_account(api_client, musician)
    assert response.status_code == 400
    assert response.json()["code"] == "required"


def test_listeners_have_no_payout_account(api_client, user):
    response = put_account(api_client, user, provider="sandbox", account_id="sbx_listener")
    assert response.status_code == 403
    assert response.json()["code"] == "not_musician"


def test_the_payout_account_needs_a_login(api_client):
    assert api_client.get("/api/billing/payout-account").status_code in (401, 403)
    assert api_client.get("/api/billing/payouts/summary").status_code in (401, 403)


def test_another_musicians_account_and_payouts_are_invisible(api_client):
    nina = PayoutAccountFactory(account_id="sbx_nina").user
    payout = services.payout_create(
        musician=nina, amount=earn(nina), currency="INR", idempotency_key="p-nina"
    )
    ravi = MusicianFactory()
    api_client.force_authenticate(ravi)

    assert api_client.get("/api/billing/payout-account").status_code == 404
    assert api_client.get("/api/billing/payout-account").json()["code"] == "no_payout_account"
    assert api_client.get("/api/billing/payouts").json()["count"] == 0
    assert api_client.get(f"/api/billing/payouts/{payout.pk}").status_code == 404
    assert api_client.get("/api/billing/payouts/summary").json()["currencies"] == []
    assert api_client.delete("/api/billing/payout-account").status_code == 404
    assert PayoutAccount.objects.filter(user=nina).exists()


def test_removing_the_account_stops_payouts(api_client, django_capture_on_commit_callbacks):
    musician = PayoutAccountFactory().user
    earned = earn(musician)
    api_client.force_authenticate(musician)

    assert api_client.delete("/api/billing/payout-account").status_code == 204
    assert api_client.get("/api/billing/payout-account").status_code == 404
    run(timezone.now() + HOLD + timedelta(hours=1), django_capture_on_commit_callbacks)

    assert not Payout.objects.exists()
    assert payable(musician) == earned


# --- the beat -------------------------------------------------------------------------------


def test_no_payout_before_the_hold_ends_then_one_payout_after_it(
    django_capture_on_commit_callbacks,
):
    musician = PayoutAccountFactory(account_id="sbx_nina").user
    earned = earn(musician)
    released_at = timezone.now()

    assert run(released_at + HOLD - timedelta(minutes=5))["created"] == 0
    assert not Payout.objects.exists()
    assert payable(musician) == earned

    later = released_at + HOLD + timedelta(minutes=5)
    assert run(later, django_capture_on_commit_callbacks)["created"] == 1
    assert run(later + timedelta(hours=2), django_capture_on_commit_callbacks)["created"] == 0

    payout = Payout.objects.get()
    assert (payout.musician, payout.amount, payout.currency) == (musician, earned, "INR")
    assert payout.destination == "sbx_nina" and payout.provider == "sandbox"
    assert payout.period == later.date()
    # The sandbox accepted the transfer and its signed webhook settled it.
    assert payout.status == PayoutStatus.PAID and payout.provider_transfer_id.startswith("trf_")
    assert payout.attempts == 1 and payout.paid_at is not None
    assert payable(musician) == 0
    assert balance(code="external:sandbox:payouts", currency="INR") == earned
    assert_books_balance()
    assert Delivery.objects.filter(event="payout.paid", recipient=musician).exists()


def test_only_what_is_past_its_hold_is_paid_out(django_capture_on_commit_callbacks):
    musician = PayoutAccountFactory().user
    now = timezone.now()
    old = earn(musician, amount=50_000, fee=5_000, at=now - HOLD - timedelta(hours=1))
    recent = earn(musician, amount=20_000, fee=2_000, at=now - timedelta(days=2))

    run(now, django_capture_on_commit_callbacks)

    assert Payout.objects.get().amount == old
    assert payable(musician) == recent
    (figures,) = selectors.payout_figures(musician, now=now)
    assert (figures.on_hold, figures.available, figures.paid_out) == (recent, 0, old)
    assert figures.next_release_at == now - timedelta(days=2) + HOLD


def test_musicians_without_a_payout_account_are_not_paid_yet(django_capture_on_commit_callbacks):
    musician = MusicianFactory()
    earned = earn(musician)

    run(timezone.now() + HOLD + timedelta(hours=1), django_capture_on_commit_callbacks)

    assert not Payout.objects.exists()
    assert payable(musician) == earned


def test_the_beat_task_pays_each_musician_once(django_capture_on_commit_callbacks, settings):
    settings.BILLING_PAYOUT_HOLD_DAYS = 0
    first, second = PayoutAccountFactory().user, PayoutAccountFactory().user
    earn(first)
    earn(second, amount=40_000, fee=4_000)

    with django_capture_on_commit_callbacks(execute=True):
        release_payout_holds.delay()
        release_payout_holds.delay()

    assert sorted(Payout.objects.values_list("amount", flat=True)) == [36_000, 85_000]
    assert set(Payout.objects.values_list("status", flat=True)) == {PayoutStatus.PAID}
    assert payable(first) == payable(second) == 0
    assert_books_balance()


def test_payouts_are_per_currency(django_capture_on_commit_callbacks):
    musician = PayoutAccountFactory().user
    earn(musician, amount=10_000, fee=1_000, currency="USD")
    earn(musician, amount=100_000, fee=10_000, currency="INR")

    run(timezone.now() + HOLD + timedelta(hours=1), django_capture_on_commit_callbacks)

    assert sorted(Payout.objects.values_list("currency", "amount")) == [
        ("INR", 90_000),
        ("USD", 9_000),
    ]
    assert payable(musician, "USD") == payable(musician, "INR") == 0
    assert_books_balance()


# --- retries, then staff --------------------------------------------------------------------


def test_a_failing_transfer_is_retried_with_backoff_then_reported_to_staff(
    django_capture_on_commit_callbacks,
):
    staff = StaffFactory()
    account = PayoutAccountFactory(account_id="sbx_closed_fail")  # the sandbox refuses these
    musician = account.user
    # The attempts span 15 hours, ending before the musician fixes their account (now); they
    # had set it up long before.
    now = timezone.now() - timedelta(hours=16)
    PayoutAccount.objects.filter(pk=account.pk).update(updated_at=now - timedelta(days=30))
    earned = earn(musician, at=now - HOLD - timedelta(minutes=1))

    run(now, django_capture_on_commit_callbacks)
    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.PENDING and payout.attempts == 1
    assert "refuses" in payout.failure_reason
    assert payout.next_attempt_at == now + timedelta(hours=1)
    assert payable(musician) == 0  # the money waits in the payout meanwhile
    first_key = payout.transfer_key

    # Nothing is tried before the backoff is over.
    assert run(now + timedelta(minutes=50))["attempted"] == 0
    delays = [1, 2, 4, 8]  # hours after each failed attempt
    moment = now
    for attempt, delay in enumerate(delays, start=2):
        moment += timedelta(hours=delay)
        assert run(moment, django_capture_on_commit_callbacks)["attempted"] == 1
        payout.refresh_from_db()
        assert payout.attempts == attempt
    assert payout.transfer_key != first_key  # a refused transfer is retried under a new key

    assert payout.status == PayoutStatus.FAILED and payout.failed_at == moment
    assert payout.attempts == payouts.PAYOUT_MAX_ATTEMPTS
    assert payable(musician) == earned  # back where it was, once
    assert_books_balance()
    staff_told = Delivery.objects.filter(event="payout.failed_staff", recipient=staff)
    assert staff_told.exists()
    assert staff_told.first().context["url"] == f"/admin/billing_payouts/inspect/{payout.pk}/"
    assert Delivery.objects.filter(event="payout.failed", recipient=musician).exists()

    # No new payout the next days while the account is unchanged...
    run(moment + timedelta(days=1), django_capture_on_commit_callbacks)
    assert Payout.objects.count() == 1
    # ...and once the musician fixes it, the next run pays them.
    payouts.payout_account_set(user=musician, provider="sandbox", account_id="sbx_open")
    run(moment + timedelta(days=2), django_capture_on_commit_callbacks)
    paid = Payout.objects.get(status=PayoutStatus.PAID)
    assert paid.amount == earned and paid.destination == "sbx_open"
    assert payable(musician) == 0
    assert_books_balance()


def test_fixing_the_account_sends_a_refused_payout_to_the_new_one(
    django_capture_on_commit_callbacks,
):
    account = PayoutAccountFactory(account_id="sbx_closed_fail")
    musician = account.user
    earned = earn(musician, at=timezone.now() - HOLD - timedelta(hours=1))
    now = timezone.now()
    run(now, django_capture_on_commit_callbacks)
    refused = Payout.objects.get()
    assert refused.status == PayoutStatus.PENDING and refused.attempts == 1

    payouts.payout_account_set(user=musician, provider="sandbox", account_id="sbx_open")
    run(timezone.now(), django_capture_on_commit_callbacks)  # no need to wait for the backoff

    payout = Payout.objects.get()
    assert payout.pk == refused.pk and payout.destination == "sbx_open"
    assert payout.status == PayoutStatus.PAID and payout.attempts == 2
    assert payout.amount == earned and payable(musician) == 0
    assert_books_balance()


def test_a_transfer_reported_after_the_payout_failed_takes_the_money_again():
    musician = PayoutAccountFactory().user
    earned = earn(musician)
    payout = services.payout_create(
        musician=musician, amount=earned, currency="INR", idempotency_key="late"
    )
    payout.attempts = payouts.PAYOUT_MAX_ATTEMPTS
    payout.save()
    services.payout_record_event(
        provider="sandbox",
        provider_transfer_id="",
        status="failed",
        encore_payout_id=str(payout.pk),
        reason="timeout",
    )
    assert payable(musician) == earned

    services.payout_record_event(
        provider="sandbox",
        provider_transfer_id="trf_late",
        status="paid",
        encore_payout_id=str(payout.pk),
    )
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID
    assert payable(musician) == 0
    # Reversed later: back once more, and only once.
    for _ in range(2):
        services.payout_record_event(
            provider="sandbox", provider_transfer_id="trf_late", status="reversed"
        )
    assert payable(musician) == earned
    assert_books_balance()


# --- the API: figures and the list ----------------------------------------------------------


def test_the_summary_shows_payable_on_hold_and_paid_out(
    api_client, django_capture_on_commit_callbacks
):
    musician = PayoutAccountFactory().user
    first = earn(musician, amount=100_000, fee=15_000)
    run(timezone.now() + HOLD + timedelta(minutes=1), django_capture_on_commit_callbacks)
    second = earn(musician, amount=30_000, fee=3_000)
    api_client.force_authenticate(musician)

    body = api_client.get("/api/billing/payouts/summary").json()

    assert body["hold_days"] == 7 and body["paused_by"] is None
    (inr,) = body["currencies"]
    assert inr["currency"] == "INR"
    assert inr["payable"] == second and inr["on_hold"] == second and inr["available"] == 0
    assert inr["paid_out"] == first and inr["in_transit"] == 0
    assert inr["next_release_at"]


def test_the_payout_list_is_paginated_with_each_status(api_client, django_assert_max_num_queries):
    musician = PayoutAccountFactory().user
    earn(musician, amount=3_000_000, fee=0)
    for n in range(23):
        services.payout_create(
            musician=musician, amount=1_000 + n, currency="INR", idempotency_key=f"p{n}"
        )
    api_client.force_authenticate(musician)

    with django_assert_max_num_queries(2):  # the count and the page
        page = api_client.get("/api/billing/payouts").json()

    assert page["count"] == 23 and len(page["results"]) == 20 and page["next"]
    assert page["results"][0]["amount"] == 1_022  # newest first
    assert {row["status"] for row in page["results"]} == {"pending"}
    assert set(page["results"][0]) >= {"status", "attempts", "failure_reason", "paid_at"}
    assert len(api_client.get(page["next"]).json()["results"]) == 3


def test_staff_list_the_failed_payouts(api_client):
    musician = PayoutAccountFactory().user
    earn(musician)
    failed = services.payout_create(
        musician=musician, amount=1_000, currency="INR", idempotency_key="f"
    )
    services.payout_create(musician=musician, amount=2_000, currency="INR", idempotency_key="o")
    Payout.objects.filter(pk=failed.pk).update(status=PayoutStatus.FAILED)
    api_client.force_authenticate(StaffFactory())

    body = api_client.get("/api/billing/payouts?status=failed").json()
    assert [row["id"] for row in body["results"]] == [str(failed.pk)]
    assert body["results"][0]["musician"] == str(musician.pk)
    bad = api_client.get("/api/billing/payouts?status=lost")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


# --- the page ---------------------------------------------------------------------------------


def test_the_payouts_page_shows_the_figures_and_each_payout(
    client, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    musician = PayoutAccountFactory(account_id="sbx_nina").user
    earn(musician, amount=100_000, fee=15_000)  # ₹850.00 paid out
    run(timezone.now() + HOLD + timedelta(minutes=1), django_capture_on_commit_callbacks)
    earn(musician, amount=30_000, fee=3_000)  # ₹270.00 on hold
    client.force_login(musician)

    with django_assert_max_num_queries(10):  # the shell (session, user, bell) and the page's
        response = client.get("/billing/payouts/")
    html = response.content.decode()

    assert response.status_code == 200
    figures = dict(re.findall(r'data-figure="(\w+)">([^<]+)', html))
    assert figures["payable"] == "₹270.00"
    assert figures["on_hold"].startswith("₹270.00")
    assert figures["available"] == "₹0.00"
    assert figures["paid_out"] == "₹850.00"
    assert 'data-status="paid"' in html and "Paid on" in html
    assert "sbx_nina" in html
    assert re.search(r'<a href="/billing/payouts/"\s+aria-current="page">Payouts</a>', html)


def test_the_list_refreshes_itself_while_a_payout_is_on_its_way(client):
    musician = PayoutAccountFactory().user
    earn(musician)
    services.payout_create(musician=musician, amount=5_000, currency="INR", idempotency_key="w")
    client.force_login(musician)

    html = client.get("/billing/payouts/").content.decode()
    assert 'hx-get="/billing/payouts/?part=list"' in html and "every 30s" in html

    fragment = client.get("/billing/payouts/?part=list", HTTP_HX_REQUEST="true")
    body = fragment.content.decode()
    assert body.lstrip().startswith('<div id="payout-list"') and "<html" not in body
    assert 'data-status="pending"' in body

    Payout.objects.update(status=PayoutStatus.PAID, paid_at=timezone.now())
    body = client.get("/billing/payouts/?part=list", HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in body  # nothing on its way: the polling stops


def test_the_page_saves_the_account_and_explains_a_bad_id(client):
    musician = MusicianFactory()
    client.force_login(musician)
    assert "You have no payout account yet" in client.get("/billing/payouts/").content.decode()

    refused = client.post("/billing/payouts/", {"provider": "sandbox", "account_id": "nope"})
    assert refused.status_code == 400
    assert "not a sandbox payout account id" in refused.content.decode()
    assert not PayoutAccount.objects.exists()

    saved = client.post(
        "/billing/payouts/", {"provider": "sandbox", "account_id": "sbx_nina"}, follow=True
    )
    assert "Your payout account is saved." in saved.content.decode()
    assert PayoutAccount.objects.get(user=musician).account_id == "sbx_nina"

    removed = client.post("/billing/payouts/", {"action": "remove"}, follow=True)
    assert "payouts stop" in removed.content.decode()
    assert not PayoutAccount.objects.exists()


def test_the_page_says_when_payouts_wait_for_the_account(client):
    account = PayoutAccountFactory()
    earn(account.user)
    payout = services.payout_create(
        musician=account.user, amount=1_000, currency="INR", idempotency_key="x"
    )
    Payout.objects.filter(pk=payout.pk).update(
        status=PayoutStatus.FAILED,
        failed_at=timezone.now() + timedelta(seconds=1),
        failure_reason="the account is closed",
    )
    client.force_login(account.user)

    html = client.get("/billing/payouts/").content.decode()

    assert 'data-testid="payouts-paused"' in html and "the account is closed" in html


def test_the_payouts_page_is_for_musicians(client):
    client.force_login(UserFactory())
    assert client.get("/billing/payouts/").status_code == 403
    assert "/billing/payouts/" not in client.get("/billing/plans/").content.decode()


def test_staff_find_failed_payouts_in_the_admin_read_only(client):
    musician = PayoutAccountFactory().user
    earn(musician)
    payout = services.payout_create(
        musician=musician, amount=7_000, currency="INR", idempotency_key="adm"
    )
    Payout.objects.filter(pk=payout.pk).update(
        status=PayoutStatus.FAILED, failure_reason="Linked account is not activated"
    )
    other = PayoutAccountFactory(user__display_name="Someone Else Paid").user
    earn(other)
    services.payout_create(musician=other, amount=9_000, currency="INR", idempotency_key="ok")
    client.force_login(StaffFactory())

    listing = client.get("/admin/billing_payouts/?status=failed")
    assert listing.status_code == 200
    assert str(musician) in listing.content.decode()
    assert "Someone Else Paid" not in listing.content.decode()
    assert "₹70.00" in listing.content.decode()  # money as people read it, not 7000 INR
    inspect = client.get(f"/admin/billing_payouts/inspect/{payout.pk}/")
    assert inspect.status_code == 200
    assert "Linked account is not activated" in inspect.content.decode()
    assert "₹70.00" in inspect.content.decode()
    assert f"Payout of ₹70.00 to {musician}" in inspect.content.decode()
    assert client.get(f"/admin/billing_payouts/edit/{payout.pk}/").status_code in (302, 403)
    assert client.get("/admin/billing_payouts/new/").status_code in (302, 403)
