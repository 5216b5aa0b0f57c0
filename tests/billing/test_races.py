"""Workers racing on the real PostgreSQL: row locks keep every invariant.

These run in the services configuration (DATABASE_URL/REDIS_URL set, see tests/conftest.py):
SQLite serialises all writers, so only PostgreSQL shows that the locks are right.
"""

from collections import Counter, defaultdict

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import services
from billing.errors import BillingError
from billing.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    Payout,
    Refund,
    SeatInvitation,
    SubscriptionMember,
    WebhookEvent,
)
from billing.providers import sandbox
from billing.services.ledger import Leg, balance, ledger_post
from tests.billing.factories import PaymentFactory, PayoutAccountFactory, SubscriptionFactory
from tests.factories import MusicianFactory, UserFactory
from tests.races import race

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def assert_books_balance():
    assert not (
        LedgerEntry.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
        .exists()
    )
    for account in LedgerAccount.objects.annotate(total=Sum("entries__amount")):
        assert account.balance == (account.total or 0), account
        if not account.allow_negative:
            assert account.balance >= 0, account


def test_it_is_postgresql():
    assert connection.vendor == "postgresql"


def test_two_refunds_racing_for_one_escrow_never_overdraw_it(sandbox_provider):
    payment = PaymentFactory(amount=100_000, reference="race-1")
    services.payment_capture(payment=payment)

    outcomes = race(
        lambda: services.payment_refund(payment=payment, amount=70_000),
        lambda: services.payment_refund(payment=payment, amount=70_000),
    )

    refunds = [o for o in outcomes if isinstance(o, Refund)]
    refused = [o for o in outcomes if isinstance(o, BillingError)]
    assert len(refunds) == 1 and len(refused) == 1, outcomes
    assert balance(code="escrow:order:race-1", currency="INR") == 30_000
    assert_books_balance()


def test_a_release_and_a_refund_racing_take_no_more_than_the_escrow(sandbox_provider):
    musician = MusicianFactory()
    payment = PaymentFactory(amount=100_000, reference="race-2")
    services.payment_capture(payment=payment)

    outcomes = race(
        lambda: services.escrow_release(
            reference="race-2",
            musician=musician,
            amount=80_000,
            platform_fee=8_000,
            currency="INR",
            idempotency_key="rel-race-2",
        ),
        lambda: services.payment_refund(payment=payment, amount=60_000),
    )

    assert sum(isinstance(o, BillingError) for o in outcomes) == 1, outcomes
    assert balance(code="escrow:order:race-2", currency="INR") in (20_000, 40_000)
    assert_books_balance()


def test_the_same_idempotency_key_from_many_workers_is_one_transaction():
    legs = [Leg("external:sandbox:payments", "INR", -500), Leg("escrow:order:race-3", "INR", 500)]
    outcomes = race(*[lambda: ledger_post(kind="capture", idempotency_key="same", legs=legs)] * 6)

    assert all(not isinstance(o, Exception) for o in outcomes), outcomes
    assert sum(created for _txn, created in outcomes) == 1
    assert LedgerTransaction.objects.count() == 1
    assert balance(code="escrow:order:race-3", currency="INR") == 500


def test_the_same_webhook_delivered_by_many_workers_is_stored_and_applied_once(sandbox_provider):
    payment = PaymentFactory(amount=4_200)
    body = sandbox.event_body(
        "payment.captured",
        {
            "id": "pay_race",
            "checkout": payment.provider_order_id,
            "amount": 4_200,
            "currency": "INR",
        },
    ).encode()

    def deliver():
        return services.webhook_receive(
            provider="sandbox", body=body, headers={sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
        )[1]

    outcomes = race(*[deliver] * 5)

    assert outcomes.count(True) == 1 and outcomes.count(False) == 4, outcomes
    assert WebhookEvent.objects.count() == 1
    assert LedgerTransaction.objects.count() == 1
    assert_books_balance()


def test_captures_of_many_payments_into_one_escrow_all_land():
    payments = [PaymentFactory(amount=1_000 + i, reference="race-4") for i in range(8)]
    race(*[lambda p=p: services.payment_capture(payment=p) for p in payments])
    assert balance(code="escrow:order:race-4", currency="INR") == sum(p.amount for p in payments)
    assert_books_balance()


def test_concurrent_acceptances_never_overfill_a_plan():
    duo = SubscriptionFactory(plan="premium_family")
    people = [UserFactory() for _ in range(4)]
    invitations = [services.seat_invite(owner=duo.user, email=p.email) for p in people]
    type(duo).objects.filter(pk=duo.pk).update(plan="premium_duo")  # one seat left now

    outcomes = race(
        *[
            lambda p=p, i=i: services.seat_accept(user=p, invitation_id=i.pk)
            for p, i in zip(people, invitations, strict=True)
        ]
    )

    assert sum(isinstance(o, SubscriptionMember) for o in outcomes) == 1, outcomes
    assert SubscriptionMember.objects.count() == 1
    assert SeatInvitation.objects.filter(status="accepted").count() == 1


def test_the_database_refuses_an_unbalanced_transaction_at_commit():
    txn = LedgerTransaction.objects.create(kind="capture", idempotency_key="unbalanced")
    account = services.ledger.account_get(code="escrow:order:x", currency="INR")
    with pytest.raises(IntegrityError, match="does not sum to zero"), transaction.atomic():
        LedgerEntry.objects.create(transaction=txn, account=account, amount=5, currency="INR")
    assert not LedgerEntry.objects.exists()


operations = st.lists(
    st.tuples(
        st.sampled_from(["capture", "refund", "release", "payout"]),
        st.integers(min_value=0, max_value=3),  # which payment / musician
        st.integers(min_value=1, max_value=100),  # share, in percent
        st.booleans(),  # reuse the previous key (a duplicate)
    ),
    min_size=2,
    max_size=14,
)


@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(first=operations, second=operations)
def test_two_workers_running_random_money_moves_keep_every_invariant(
    sandbox_provider, first, second
):
    for model in (LedgerEntry, LedgerTransaction, Refund, Payout, Payment, LedgerAccount):
        model.objects.all().delete()
    payer = UserFactory()
    musicians = [PayoutAccountFactory().user, PayoutAccountFactory().user]
    payments = [
        PaymentFactory(payer=payer, amount=10_000 * (i + 1), reference=f"hyp-{i % 2}")
        for i in range(4)
    ]

    def worker(ops, name):
        def run():
            counts = Counter()
            last = defaultdict(str)
            for n, (kind, index, share, reuse) in enumerate(ops):
                key = last[kind] if reuse and last[kind] else f"{name}-{kind}-{n}"
                last[kind] = key
                payment = payments[index]
                musician = musicians[index % 2]
                try:
                    if kind == "capture":
                        services.payment_capture(payment=payment)
                    elif kind == "refund":
                        services.payment_refund(
                            payment=payment,
                            amount=max(1, payment.amount * share // 100),
                            idempotency_key=key,
                        )
                    elif kind == "release":
                        held = balance(code=f"escrow:order:{payment.reference}", currency="INR")
                        amount = max(1, held * share // 100)
                        services.escrow_release(
                            reference=payment.reference,
                            musician=musician,
                            amount=amount,
                            platform_fee=amount // 10,
                            currency="INR",
                            idempotency_key=key,
                        )
                    else:
                        owed = balance(code=f"payable:{musician.pk}", currency="INR")
                        services.payout_create(
                            musician=musician,
                            amount=max(1, owed * share // 100),
                            currency="INR",
                            idempotency_key=key,
                        )
                    counts["ok"] += 1
                except BillingError as error:
                    counts[error.code] += 1
            return counts

        return run

    outcomes = race(worker(first, "a"), worker(second, "b"))

    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    assert_books_balance()
    captured = Payment.objects.filter(status__in=["captured", "partially_refunded", "refunded"])
    assert LedgerTransaction.objects.filter(kind="capture").count() == captured.count()
    for payment in Payment.objects.all():
        refunded = (
            Refund.objects.filter(payment=payment)
            .exclude(status="failed")
            .aggregate(s=Sum("amount"))["s"]
            or 0
        )
        assert payment.amount_refunded == refunded <= payment.amount
    for currency_total in (
        LedgerAccount.objects.values("currency")
        .annotate(total=Sum("balance"))
        .values_list("total", flat=True)
    ):
        assert currency_total == 0
