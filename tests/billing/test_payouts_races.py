"""Concurrent beat runs on the real PostgreSQL make one payout per musician, and one transfer.

In the services configuration only (DATABASE_URL/REDIS_URL set, see tests/conftest.py):
SQLite serialises every writer, so only PostgreSQL shows that the locks hold."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Payout, PayoutStatus
from billing.providers.sandbox import SandboxProvider
from billing.services import payouts
from billing.services.ledger import balance
from tests.billing.factories import PayoutAccountFactory
from tests.billing.test_payouts import HOLD, earn
from tests.billing.test_races import assert_books_balance, race

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _hold(settings, sandbox_provider):
    settings.BILLING_PAYOUT_HOLD_DAYS = 7


def test_four_beat_runs_at_once_make_one_payout_per_musician(monkeypatch):
    transfers = []
    original = SandboxProvider.transfer_create

    def counted(self, *, payout, idempotency_key):
        transfers.append(payout.pk)
        return original(self, payout=payout, idempotency_key=idempotency_key)

    monkeypatch.setattr(SandboxProvider, "transfer_create", counted)
    musicians = [PayoutAccountFactory().user for _ in range(3)]
    long_ago = timezone.now() - HOLD - timedelta(hours=1)
    earned = {musician.pk: earn(musician, at=long_ago) for musician in musicians}
    now = timezone.now()

    outcomes = race(*[lambda: payouts.payouts_run(now=now) for _ in range(4)])

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    assert sum(outcome["created"] for outcome in outcomes) == 3
    assert Payout.objects.count() == 3
    for musician in musicians:
        payout = Payout.objects.get(musician=musician)
        assert payout.amount == earned[musician.pk]
        assert balance(code=f"payable:{musician.pk}", currency="INR") == 0
    # Each payout's transfer was asked for once, whichever run claimed it.
    assert sorted(transfers) == sorted(Payout.objects.values_list("pk", flat=True))
    assert set(Payout.objects.values_list("attempts", flat=True)) == {1}
    assert_books_balance()


def test_a_release_landing_during_the_run_is_never_paid_before_its_hold():
    musician = PayoutAccountFactory().user
    old = earn(musician, at=timezone.now() - HOLD - timedelta(hours=1))
    now = timezone.now()

    outcomes = race(
        lambda: payouts.payouts_run(now=now),
        lambda: earn(musician, amount=20_000, fee=2_000),
    )

    assert not [outcome for outcome in outcomes if isinstance(outcome, Exception)], outcomes
    payout = Payout.objects.get()
    assert payout.amount == old and payout.status != PayoutStatus.FAILED
    assert balance(code=f"payable:{musician.pk}", currency="INR") == 18_000
    assert_books_balance()
