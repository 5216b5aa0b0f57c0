"""Two requests racing on one order on the real PostgreSQL: the row lock lets exactly one
transition win; the other finds the order moved and gets the conflict (409 through the API).

These run in the services configuration (DATABASE_URL/REDIS_URL set, see tests/conftest.py):
SQLite serialises all writers, so only PostgreSQL shows that the lock is right.
"""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from orders import services
from orders.errors import TransitionConflict
from orders.models import Order, OrderEvent, OrderStatus
from tests.orders.factories import OrderFactory

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
S = OrderStatus


def race(*workers, timeout=60):
    """Run the callables at the same moment, each on its own connection; return their
    outcomes (a value or the exception)."""
    barrier = threading.Barrier(len(workers))
    results: list = [None] * len(workers)

    def run(index, work):
        try:
            barrier.wait()
            results[index] = work()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test looks at
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results


def test_it_is_postgresql():
    assert connection.vendor == "postgresql"


@pytest.mark.parametrize("attempt", range(5))
def test_accept_and_cancel_at_once_exactly_one_wins(attempt):
    order = OrderFactory(status=S.MATCHING)
    results = race(
        lambda: services.order_accept(order=order, musician=order.musician),
        lambda: services.order_cancel(order=order, actor=order.customer),
    )
    winners = [r for r in results if isinstance(r, Order)]
    losers = [r for r in results if isinstance(r, TransitionConflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    final = Order.objects.get(pk=order.pk)
    assert final.status == winners[0].status
    assert OrderEvent.objects.filter(order=order).count() == 1


def test_two_approvals_at_once_one_is_200_the_other_409():
    order = OrderFactory(status=S.IN_REVIEW)

    def approve():
        client = APIClient()
        client.force_authenticate(order.customer)
        return client.post(f"/api/orders/{order.pk}/approve")

    responses = race(approve, approve)
    assert sorted(r.status_code for r in responses) == [200, 409]
    conflict = next(r for r in responses if r.status_code == 409).json()
    assert conflict["code"] == "transition_not_allowed"
    assert conflict["allowed"] == ["deliver", "open_dispute"]
    assert Order.objects.get(pk=order.pk).status == S.APPROVED
    assert OrderEvent.objects.filter(order=order, name="approve").count() == 1
