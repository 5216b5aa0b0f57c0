"""Payouts through the real Razorpay and Stripe SDKs, with fakes only at the HTTP boundary:
the transfer each sends, the idempotency keys of retries, and the webhooks that settle them."""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from billing.models import LedgerEntry, Payout, PayoutStatus
from billing.services import payouts
from billing.services.ledger import balance
from tests.billing.conftest import post_razorpay, post_stripe, razorpay_event, stripe_event
from tests.billing.factories import PayoutAccountFactory
from tests.billing.test_payouts import HOLD, earn, payable

pytestmark = pytest.mark.django_db

RAZORPAY_ACCOUNT = "acc_CPRsN1LkFccllA"
STRIPE_ACCOUNT = "acct_1032D82eZvKYlo2C"


@pytest.fixture(autouse=True)
def _hold(settings):
    settings.BILLING_PAYOUT_HOLD_DAYS = 7


def assert_books_balance():
    totals = LedgerEntry.objects.values("transaction_id", "currency").annotate(t=Sum("amount"))
    assert all(row["t"] == 0 for row in totals)


def due_musician(provider, account_id):
    """A musician whose 850.00 INR of earnings is past its hold."""
    musician = PayoutAccountFactory(provider=provider, account_id=account_id).user
    earned = earn(musician, at=timezone.now() - HOLD - timedelta(hours=1))
    return musician, earned


def razorpay_transfer(request, *, transfer_id="trf_R1", status="pending", error=None):
    sent = request["json"]
    return {
        "id": transfer_id,
        "entity": "transfer",
        "status": status,
        "source": "acc_Platform000001",
        "recipient": sent.get("account", RAZORPAY_ACCOUNT),
        "amount": sent.get("amount", 0),
        "currency": sent.get("currency", "INR"),
        "notes": sent.get("notes", {}),
        "on_hold": False,
        "error": error or {"code": None, "description": None},
    }


# --- Razorpay -------------------------------------------------------------------------------


def test_a_razorpay_payout_is_a_direct_transfer_settled_by_its_webhook(razorpay_http, client):
    musician, earned = due_musician("razorpay", RAZORPAY_ACCOUNT)
    razorpay_http.on("POST", "/v1/transfers", lambda request: (200, razorpay_transfer(request)))

    payouts.payouts_run()

    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.PROCESSING and payout.provider_transfer_id == "trf_R1"
    sent = razorpay_http.requests[-1]
    assert sent["json"] == {
        "account": RAZORPAY_ACCOUNT,
        "amount": earned,
        "currency": "INR",
        "notes": {"encore_payout_id": str(payout.pk)},
    }
    assert sent["headers"]["X-Transfer-Idempotency"] == payout.transfer_key
    assert 4 <= len(payout.transfer_key) <= 36
    assert sent["headers"]["Authorization"].startswith("Basic ")
    assert payable(musician) == 0

    processed = razorpay_event(
        "transfer.processed",
        {
            "transfer": {
                "id": "trf_R1",
                "entity": "transfer",
                "status": "processed",
                "amount": earned,
                "currency": "INR",
                "notes": {"encore_payout_id": str(payout.pk)},
            }
        },
    )
    assert post_razorpay(client, processed).json()["status"] == "processed"
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID and payout.paid_at
    assert balance(code="external:razorpay:payouts", currency="INR") == earned
    assert_books_balance()


def test_razorpay_retries_keep_the_key_after_an_unclear_answer_and_change_it_after_a_no(
    razorpay_http,
):
    _musician, _earned = due_musician("razorpay", RAZORPAY_ACCOUNT)
    answers = iter(
        [
            (500, {"error": {"code": "SERVER_ERROR", "description": "try later"}}),
            (400, {"error": {"code": "BAD_REQUEST_ERROR", "description": "account suspended"}}),
            (200, None),
        ]
    )

    def answer(request):
        status, body = next(answers)
        return status, body or razorpay_transfer(request, status="processed")

    razorpay_http.on("POST", "/v1/transfers", answer)
    now = timezone.now()

    payouts.payouts_run(now=now)
    payouts.payouts_run(now=now + timedelta(hours=1))
    payouts.payouts_run(now=now + timedelta(hours=3))

    keys = [request["headers"]["X-Transfer-Idempotency"] for request in razorpay_http.requests]
    assert len(keys) == 3
    assert keys[0] == keys[1]  # the first may have gone through: the same key finds it
    assert keys[2] != keys[1]  # refused: a new transfer under a new key
    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.PAID and payout.attempts == 3


def test_after_an_unclear_answer_a_new_account_waits_for_the_first_transfer(razorpay_http):
    musician, _earned = due_musician("razorpay", RAZORPAY_ACCOUNT)
    answers = iter([(504, "gateway timeout"), (200, None)])

    def answer(request):
        status, body = next(answers)
        if body:
            return status, {"error": {"code": "GATEWAY_ERROR", "description": body}}
        return status, razorpay_transfer(request, status="processed")

    razorpay_http.on("POST", "/v1/transfers", answer)
    now = timezone.now()
    payouts.payouts_run(now=now)

    # The first transfer may have reached the old account: the retry must ask for that one.
    payouts.payout_account_set(user=musician, provider="razorpay", account_id="acc_NewAccount0001")
    payouts.payouts_run(now=now + timedelta(hours=1))

    first, second = razorpay_http.requests
    assert second["json"]["account"] == RAZORPAY_ACCOUNT
    assert second["headers"]["X-Transfer-Idempotency"] == first["headers"]["X-Transfer-Idempotency"]
    assert Payout.objects.get().status == PayoutStatus.PAID


def test_a_razorpay_transfer_failed_webhook_makes_a_new_attempt_later(razorpay_http, client):
    musician, earned = due_musician("razorpay", RAZORPAY_ACCOUNT)
    transfer_ids = iter(["trf_R1", "trf_R2"])
    razorpay_http.on(
        "POST",
        "/v1/transfers",
        lambda request: (200, razorpay_transfer(request, transfer_id=next(transfer_ids))),
    )
    now = timezone.now()
    payouts.payouts_run(now=now)
    payout = Payout.objects.get()

    failed = razorpay_event(
        "transfer.failed",
        {
            "transfer": {
                "id": "trf_R1",
                "entity": "transfer",
                "status": "failed",
                "notes": {"encore_payout_id": str(payout.pk)},
                "error": {"description": "Linked account is not activated"},
            }
        },
    )
    post_razorpay(client, failed)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PENDING and payout.provider_transfer_id == ""
    assert "Linked account is not activated" in payout.failure_reason
    assert payable(musician) == 0  # still in the payout, waiting for the next attempt

    payouts.payouts_run(now=timezone.now() + timedelta(hours=2))
    payout.refresh_from_db()
    assert payout.provider_transfer_id == "trf_R2" and payout.attempts == 2
    first, second = (r["headers"]["X-Transfer-Idempotency"] for r in razorpay_http.requests)
    assert first != second
    assert_books_balance()


def test_a_razorpay_transfer_stuck_on_its_way_is_looked_up(razorpay_http):
    _musician, _earned = due_musician("razorpay", RAZORPAY_ACCOUNT)
    razorpay_http.on("POST", "/v1/transfers", lambda request: (200, razorpay_transfer(request)))
    razorpay_http.on(
        "GET",
        "/v1/transfers/trf_R1",
        lambda request: (200, razorpay_transfer(request, status="processed")),
    )
    payouts.payouts_run()
    Payout.objects.update(updated_at=timezone.now() - timedelta(hours=7))

    assert payouts.payouts_run()["checked"] == 1

    assert Payout.objects.get().status == PayoutStatus.PAID
    assert razorpay_http.requests[-1]["method"] == "GET"


# --- Stripe ---------------------------------------------------------------------------------


def stripe_transfer(record, *, transfer_id="tr_1", reversed_=False):
    params = record["params"]
    return {
        "id": transfer_id,
        "object": "transfer",
        "amount": int(params.get("amount", 0)),
        "amount_reversed": int(params.get("amount", 0)) if reversed_ else 0,
        "currency": params.get("currency", "inr"),
        "destination": params.get("destination", STRIPE_ACCOUNT),
        "transfer_group": params.get("transfer_group"),
        "reversed": reversed_,
        "metadata": {"encore_payout_id": params.get("metadata[encore_payout_id]", "")},
    }


def test_a_stripe_payout_is_a_connect_transfer_and_a_reversal_brings_it_back(stripe_http, client):
    musician, earned = due_musician("stripe", STRIPE_ACCOUNT)
    stripe_http.on("POST", "/v1/transfers", lambda record: (200, stripe_transfer(record)))

    payouts.payouts_run()

    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.PAID and payout.provider_transfer_id == "tr_1"
    sent = stripe_http.requests[-1]
    assert sent["params"] == {
        "amount": str(earned),
        "currency": "inr",
        "destination": STRIPE_ACCOUNT,
        "transfer_group": f"payout_{payout.pk}",
        "description": "Encore payout",
        "metadata[encore_payout_id]": str(payout.pk),
    }
    assert sent["headers"]["Idempotency-Key"] == f"encore-payout-{payout.transfer_key}"
    assert sent["headers"]["Authorization"] == "Bearer sk_test_encore"
    assert payable(musician) == 0

    reversed_transfer = stripe_transfer({"params": sent["params"]}, reversed_=True)
    response = post_stripe(client, stripe_event("transfer.reversed", reversed_transfer))
    assert response.json()["status"] == "processed"
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.REVERSED
    assert payable(musician) == earned
    assert_books_balance()


def test_stripe_refusal_then_a_new_key_and_a_transfer_found_behind_an_error(stripe_http):
    musician, _earned = due_musician("stripe", STRIPE_ACCOUNT)
    stripe_http.on(
        "POST",
        "/v1/transfers",
        lambda record: (
            400,
            {"error": {"type": "invalid_request_error", "message": "No such destination"}},
        ),
    )
    now = timezone.now()
    payouts.payouts_run(now=now)
    payout = Payout.objects.get()
    assert payout.status == PayoutStatus.PENDING
    assert "No such destination" in payout.failure_reason

    # The next attempt first looks for a transfer of this payout made behind an error.
    stripe_http.on(
        "GET",
        "/v1/transfers",
        lambda record: (
            200,
            {
                "object": "list",
                "url": "/v1/transfers",
                "has_more": False,
                "data": [stripe_transfer({"params": {}}, transfer_id="tr_found")],
            },
        ),
    )
    posts_before = sum(1 for r in stripe_http.requests if r["method"] == "post")
    payouts.payouts_run(now=now + timedelta(hours=1))

    lookup = stripe_http.requests[-1]
    assert lookup["method"] == "get" and lookup["params"] == {
        "transfer_group": f"payout_{payout.pk}"
    }
    assert sum(1 for r in stripe_http.requests if r["method"] == "post") == posts_before
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID and payout.provider_transfer_id == "tr_found"
    assert payable(musician) == 0
    assert_books_balance()
