"""The double-entry ledger and the four money services (capture, release, refund, payout)."""

from collections import defaultdict

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Sum

from billing import hooks, services
from billing.errors import Conflict, IdempotencyConflict, InsufficientFunds, Invalid, Unbalanced
from billing.models import (
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Payout,
    PayoutStatus,
    Refund,
    RefundStatus,
)
from billing.services.ledger import Leg, account_get, balance, ledger_post
from tests.billing.factories import PaymentFactory, PayoutAccountFactory
from tests.factories import MusicianFactory

pytestmark = pytest.mark.django_db


def assert_books_balance():
    """Every transaction sums to zero per currency; every balance is the sum of its entries;
    no account that may not go negative is below zero."""
    per_transaction = defaultdict(int)
    for txn_id, currency, amount in LedgerEntry.objects.values_list(
        "transaction_id", "currency", "amount"
    ):
        per_transaction[(txn_id, currency)] += amount
    assert all(total == 0 for total in per_transaction.values()), per_transaction
    for account in LedgerAccount.objects.all():
        entries = account.entries.aggregate(total=Sum("amount"))["total"] or 0
        assert account.balance == entries, account
        if not account.allow_negative:
            assert account.balance >= 0, account


def captured(amount=100_000, reference="order-7", currency="INR", **extra) -> Payment:
    payment = PaymentFactory(amount=amount, reference=reference, currency=currency, **extra)
    services.payment_capture(payment=payment)
    payment.refresh_from_db()
    return payment


def test_ledger_post_refuses_legs_that_do_not_sum_to_zero():
    with pytest.raises(Unbalanced):
        ledger_post(
            kind="capture",
            idempotency_key="k1",
            legs=[
                Leg("external:sandbox:payments", "INR", -100),
                Leg("revenue:subscriptions", "INR", 99),
            ],
        )
    with pytest.raises(Unbalanced):  # balanced overall, but not per currency
        ledger_post(
            kind="capture",
            idempotency_key="k2",
            legs=[
                Leg("external:sandbox:payments", "INR", -100),
                Leg("revenue:subscriptions", "USD", 100),
            ],
        )
    with pytest.raises(Unbalanced):  # floats are not money
        ledger_post(
            kind="capture",
            idempotency_key="k3",
            legs=[
                Leg("external:sandbox:payments", "INR", -1.5),
                Leg("revenue:subscriptions", "INR", 1.5),
            ],
        )
    assert not LedgerTransaction.objects.exists()


def test_a_key_is_recorded_once_and_a_different_move_under_it_is_refused():
    legs = [Leg("external:sandbox:payments", "INR", -500), Leg("escrow:order:1", "INR", 500)]
    first, created = ledger_post(kind="capture", idempotency_key="capture:x", legs=legs)
    again, created_again = ledger_post(kind="capture", idempotency_key="capture:x", legs=legs)

    assert created and not created_again
    assert first.pk == again.pk
    assert balance(code="escrow:order:1", currency="INR") == 500
    with pytest.raises(IdempotencyConflict):
        ledger_post(
            kind="capture",
            idempotency_key="capture:x",
            legs=[Leg("external:sandbox:payments", "INR", -900), Leg("escrow:order:1", "INR", 900)],
        )
    assert_books_balance()


def test_an_escrow_never_goes_negative():
    with pytest.raises(InsufficientFunds):
        ledger_post(
            kind="release",
            idempotency_key="r",
            legs=[Leg("escrow:order:9", "INR", -1), Leg("revenue:platform_fees", "INR", 1)],
        )
    account = account_get(code="escrow:order:9", currency="INR")
    # The database refuses it too, whoever writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerAccount.objects.filter(pk=account.pk).update(balance=-1)


def test_capture_puts_the_money_in_the_orders_escrow_once():
    payment = PaymentFactory(amount=120_000, reference="order-42")

    first = services.payment_capture(payment=payment)
    second = services.payment_capture(payment=payment)

    assert first.pk == second.pk
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED
    assert balance(code="escrow:order:order-42", currency="INR") == 120_000
    assert balance(code="external:sandbox:payments", currency="INR") == -120_000
    assert_books_balance()


def test_capture_refuses_an_amount_the_payment_was_not_for():
    payment = PaymentFactory(amount=120_000)
    with pytest.raises(Invalid) as error:
        services.payment_capture(payment=payment, amount=100_000, currency="INR")
    assert error.value.code == "amount_mismatch"
    assert not LedgerTransaction.objects.exists()


def test_release_splits_the_escrow_between_the_musician_and_the_platform():
    musician = MusicianFactory()
    captured(amount=100_000, reference="order-5")

    services.escrow_release(
        reference="order-5",
        musician=musician,
        amount=100_000,
        platform_fee=15_000,
        currency="INR",
        idempotency_key="release:order-5",
    )

    assert balance(code="escrow:order:order-5", currency="INR") == 0
    assert balance(code=f"payable:{musician.pk}", currency="INR") == 85_000
    assert balance(code="revenue:platform_fees", currency="INR") == 15_000
    with pytest.raises(InsufficientFunds):
        services.escrow_release(
            reference="order-5",
            musician=musician,
            amount=1,
            platform_fee=0,
            currency="INR",
            idempotency_key="release:order-5:again",
        )
    assert_books_balance()


def test_partial_then_full_refund_and_nothing_more(sandbox_provider, staff):
    payment = captured(amount=100_000, reference="order-8")

    part = services.payment_refund(payment=payment, amount=30_000, reason="late")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert part.status == RefundStatus.PROCESSED and part.provider_refund_id

    rest = services.payment_refund(payment=payment, requested_by=staff)
    payment.refresh_from_db()
    assert rest.amount == 70_000
    assert payment.status == PaymentStatus.REFUNDED
    assert balance(code="escrow:order:order-8", currency="INR") == 0
    assert balance(code="external:sandbox:refunds", currency="INR") == 100_000
    with pytest.raises(Conflict):
        services.payment_refund(payment=payment, amount=1)
    assert_books_balance()


def test_a_refund_with_the_same_key_is_made_once(sandbox_provider):
    payment = captured(amount=50_000)
    first = services.payment_refund(payment=payment, amount=10_000, idempotency_key="support-1")
    second = services.payment_refund(payment=payment, amount=10_000, idempotency_key="support-1")
    assert first.pk == second.pk
    assert Refund.objects.count() == 1


def test_a_refund_cannot_take_money_that_was_already_released(sandbox_provider):
    musician = MusicianFactory()
    payment = captured(amount=100_000, reference="order-11")
    services.escrow_release(
        reference="order-11",
        musician=musician,
        amount=100_000,
        platform_fee=10_000,
        currency="INR",
        idempotency_key="rel-11",
    )
    with pytest.raises(InsufficientFunds):
        services.payment_refund(payment=payment, amount=1)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CAPTURED and payment.amount_refunded == 0
    assert not Refund.objects.exists()


def test_a_payout_takes_its_money_from_the_payable_once(sandbox_provider):
    musician = PayoutAccountFactory().user
    captured(amount=100_000, reference="order-3")
    services.escrow_release(
        reference="order-3",
        musician=musician,
        amount=100_000,
        platform_fee=20_000,
        currency="INR",
        idempotency_key="rel-3",
    )

    payout = services.payout_create(
        musician=musician, amount=80_000, currency="INR", idempotency_key="payout-3"
    )
    assert payout.status == PayoutStatus.PENDING
    assert balance(code=f"payable:{musician.pk}", currency="INR") == 0
    assert balance(code="external:sandbox:payouts", currency="INR") == 80_000
    assert (
        services.payout_create(
            musician=musician, amount=80_000, currency="INR", idempotency_key="payout-3"
        ).pk
        == payout.pk
    )
    with pytest.raises(InsufficientFunds):
        services.payout_create(musician=musician, amount=1, currency="INR", idempotency_key="p-4")
    assert Payout.objects.count() == 1
    assert_books_balance()


def test_a_payout_needs_a_payout_account(sandbox_provider):
    musician = MusicianFactory()
    with pytest.raises(Conflict) as error:
        services.payout_create(musician=musician, amount=1, currency="INR", idempotency_key="p")
    assert error.value.code == "no_payout_account"


def test_a_reversed_transfer_puts_the_money_back_in_the_payable_once(sandbox_provider):
    musician = PayoutAccountFactory().user
    captured(amount=10_000, reference="order-4")
    services.escrow_release(
        reference="order-4",
        musician=musician,
        amount=10_000,
        platform_fee=0,
        currency="INR",
        idempotency_key="rel-4",
    )
    payout = services.payout_create(
        musician=musician, amount=10_000, currency="INR", idempotency_key="p"
    )

    services.payout_record_event(
        provider="sandbox", provider_transfer_id="trf_1", status="paid", encore_payout_id=payout.pk
    )
    for _ in range(2):
        services.payout_record_event(
            provider="sandbox", provider_transfer_id="trf_1", status="reversed"
        )

    payout.refresh_from_db()
    assert payout.status == PayoutStatus.REVERSED
    assert balance(code=f"payable:{musician.pk}", currency="INR") == 10_000  # once, not twice
    assert_books_balance()


def test_money_in_two_currencies_balances_in_each():
    captured(amount=5_000, reference="a", currency="USD")
    captured(amount=7_000, reference="b", currency="INR")
    assert balance(code="escrow:order:a", currency="USD") == 5_000
    assert balance(code="escrow:order:b", currency="INR") == 7_000
    assert_books_balance()


def test_the_capture_hook_runs_once_inside_the_transaction():
    calls = []

    def deposit_captured(*, event, payment, **details):
        calls.append((event, payment.reference, details["ledger_transaction"].kind))

    hooks.register("order_deposit", deposit_captured)
    try:
        payment = PaymentFactory(reference="order-77")
        services.payment_capture(payment=payment)
        services.payment_capture(payment=payment)
    finally:
        hooks.unregister("order_deposit", deposit_captured)
    assert calls == [("captured", "order-77", "capture")]


def test_a_failing_hook_rolls_the_capture_back():
    def broken(**kwargs):
        raise RuntimeError("orders is down")

    hooks.register("order_deposit", broken)
    try:
        payment = PaymentFactory(reference="order-78")
        with pytest.raises(RuntimeError):
            services.payment_capture(payment=payment)
    finally:
        hooks.unregister("order_deposit", broken)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CREATED
    assert not LedgerTransaction.objects.exists()


def test_hooks_only_know_the_documented_purposes():
    with pytest.raises(ValueError):
        hooks.register("no_such_purpose", print)
    with pytest.raises(ValueError):
        hooks.handlers("no_such_purpose")
    assert isinstance(hooks.handlers("order_balance"), tuple)
