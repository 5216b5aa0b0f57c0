"""Hypothesis drives random sequences of capture, refund, release and payout (with repeats of
the same idempotency keys) and checks every invariant after every step: each transaction sums
to zero per currency, no escrow or payable is ever negative, balances are the sums of their
entries and match an independent model, and whatever arrives twice is recorded once."""

from collections import defaultdict

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from billing import services
from billing.errors import BillingError, Conflict, InsufficientFunds, Invalid
from billing.models import LedgerAccount, LedgerEntry, LedgerTransaction, Payment, TransactionKind
from billing.services.ledger import balance
from tests.billing.factories import PayoutAccountFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CURRENCIES = ["INR", "USD"]
ORDERS = ["o1", "o2", "o3"]
amounts = st.integers(min_value=1, max_value=5_000_000)


class LedgerMachine(RuleBasedStateMachine):
    payments = Bundle("payments")
    keys = Bundle("keys")
    payer = None
    musicians: list = []

    def __init__(self):
        super().__init__()
        # Each run happens in a savepoint rolled back at teardown: runs do not see each other.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.escrow = defaultdict(int)  # (order, currency) -> expected balance
        self.payable = defaultdict(int)  # (musician index, currency)
        self.fees = defaultdict(int)
        self.refunded = defaultdict(int)  # payment pk -> refunded
        self.captured = set()
        self.serial = 0

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _key(self, prefix):
        self.serial += 1
        return f"{prefix}-{self.serial}"

    @initialize()
    def nothing_yet(self):
        assert LedgerTransaction.objects.count() == 0

    @rule(
        target=payments,
        amount=amounts,
        currency=st.sampled_from(CURRENCIES),
        order=st.sampled_from(ORDERS),
        pay_now=st.booleans(),
    )
    def create_payment(self, amount, currency, order, pay_now):
        payment = Payment.objects.create(
            payer=self.payer,
            provider="sandbox",
            purpose="order_deposit",
            reference=order,
            amount=amount,
            currency=currency,
            provider_order_id=self._key("cs"),
        )
        if pay_now:
            self.capture(payment, times=1)
        return payment

    @rule(payment=payments, times=st.integers(min_value=1, max_value=3))
    def capture(self, payment, times):
        for _ in range(times):
            services.payment_capture(payment=payment)
        if payment.pk not in self.captured:
            self.captured.add(payment.pk)
            self.escrow[(payment.reference, payment.currency)] += payment.amount

    @rule(
        payment=payments,
        fraction=st.floats(min_value=0.0, max_value=1.2),
        whole=st.booleans(),
        again=st.booleans(),
    )
    def refund(self, payment, fraction, whole, again):
        payment.refresh_from_db()
        remaining = payment.amount - self.refunded[payment.pk]
        amount = None if whole else max(1, int(payment.amount * fraction))
        wanted = remaining if amount is None else amount
        escrow = self.escrow[(payment.reference, payment.currency)]
        key = self._key("refund")
        try:
            refund = services.payment_refund(payment=payment, amount=amount, idempotency_key=key)
        except (Conflict, Invalid, InsufficientFunds) as error:
            if payment.pk not in self.captured or remaining == 0:
                assert isinstance(error, Conflict)
            elif wanted > remaining:
                assert error.code == "refund_exceeds_payment"
            else:
                assert isinstance(error, InsufficientFunds) and wanted > escrow
            return
        assert payment.pk in self.captured and wanted <= remaining and wanted <= escrow
        assert refund.amount == wanted
        if again:
            assert (
                services.payment_refund(payment=payment, amount=amount, idempotency_key=key).pk
                == refund.pk
            )
        self.refunded[payment.pk] += wanted
        self.escrow[(payment.reference, payment.currency)] -= wanted

    @rule(
        target=keys,
        pick=st.integers(min_value=0, max_value=1000),
        musician=st.integers(min_value=0, max_value=1),
        share=st.integers(min_value=1, max_value=120),
        fee_share=st.integers(min_value=0, max_value=100),
    )
    def release(self, pick, musician, share, fee_share):
        # Mostly from an escrow that holds money (some of it, all of it, or too much).
        held = sorted(key for key, value in self.escrow.items() if value > 0)
        order, currency = (
            held[pick % len(held)] if held else (ORDERS[pick % 3], CURRENCIES[pick % 2])
        )
        amount = max(1, self.escrow[(order, currency)] * share // 100)
        fee = amount * fee_share // 100
        key = self._key("release")
        call = dict(
            reference=order,
            musician=self.musicians[musician],
            amount=amount,
            platform_fee=fee,
            currency=currency,
            idempotency_key=key,
        )
        try:
            services.escrow_release(**call)
        except InsufficientFunds:
            assert amount > self.escrow[(order, currency)]
            return multiple()
        assert amount <= self.escrow[(order, currency)]
        self.escrow[(order, currency)] -= amount
        self.payable[(musician, currency)] += amount - fee
        self.fees[currency] += fee
        return call

    @rule(call=consumes(keys))
    def release_again(self, call):
        """The same release, delivered twice, moves nothing more."""
        before = LedgerTransaction.objects.count()
        services.escrow_release(**call)
        assert LedgerTransaction.objects.count() == before

    @rule(
        pick=st.integers(min_value=0, max_value=1000),
        share=st.integers(min_value=1, max_value=120),
        twice=st.booleans(),
    )
    def payout(self, pick, share, twice):
        owed_to = sorted(key for key, value in self.payable.items() if value > 0)
        musician, currency = (
            owed_to[pick % len(owed_to)] if owed_to else (pick % 2, CURRENCIES[pick % 2])
        )
        owed = self.payable[(musician, currency)]
        amount = max(1, owed * share // 100)
        key = self._key("payout")
        try:
            payout = services.payout_create(
                musician=self.musicians[musician],
                amount=amount,
                currency=currency,
                idempotency_key=key,
            )
        except InsufficientFunds:
            assert amount > owed
            return
        assert amount <= owed
        if twice:
            assert (
                services.payout_create(
                    musician=self.musicians[musician],
                    amount=amount,
                    currency=currency,
                    idempotency_key=key,
                ).pk
                == payout.pk
            )
        self.payable[(musician, currency)] -= amount

    @invariant()
    def every_transaction_sums_to_zero_per_currency(self):
        unbalanced = (
            LedgerEntry.objects.values("transaction_id", "currency")
            .annotate(total=Sum("amount"))
            .exclude(total=0)
        )
        assert not unbalanced.exists()

    @invariant()
    def no_protected_account_is_negative_and_balances_are_sums(self):
        for account in LedgerAccount.objects.annotate(total=Sum("entries__amount")):
            assert account.balance == (account.total or 0)
            if not account.allow_negative:
                assert account.balance >= 0

    @invariant()
    def balances_match_the_model(self):
        for (order, currency), expected in self.escrow.items():
            assert balance(code=f"escrow:order:{order}", currency=currency) == expected
        for (index, currency), expected in self.payable.items():
            assert (
                balance(code=f"payable:{self.musicians[index].pk}", currency=currency) == expected
            )
        for currency, expected in self.fees.items():
            assert balance(code="revenue:platform_fees", currency=currency) == expected

    @invariant()
    def each_capture_is_recorded_once(self):
        assert LedgerTransaction.objects.filter(kind=TransactionKind.CAPTURE).count() == len(
            self.captured
        )


def test_random_sequences_of_money_moves_keep_every_invariant(sandbox_provider):
    LedgerMachine.payer = UserFactory()
    LedgerMachine.musicians = [PayoutAccountFactory().user, PayoutAccountFactory().user]
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_billing_errors_carry_http_statuses():
    assert InsufficientFunds().status == 409
    assert Invalid().status == 400
    assert issubclass(InsufficientFunds, BillingError)
