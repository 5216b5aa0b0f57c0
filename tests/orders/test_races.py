"""Two requests racing on one order on the real PostgreSQL: the row lock lets exactly one
transition win; the other finds the order moved and gets the conflict (409 through the API).

These run in the services configuration (DATABASE_URL/REDIS_URL set, see tests/conftest.py):
SQLite serialises all writers, so only PostgreSQL shows that the lock is right.
"""

import pytest
from django.db import connection
from rest_framework.test import APIClient

from billing.services.ledger import PLATFORM_FEES, balance, external_code, payable_code
from orders import services
from orders.errors import Conflict, TransitionConflict
from orders.models import OfferStatus, Order, OrderEvent, OrderOffer, OrderStatus
from tests.factories import StaffFactory, UserFactory
from tests.orders.factories import OrderFactory, PackageFactory, deposit_paid, service_brief
from tests.races import race

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
S = OrderStatus


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
    assert conflict["allowed"] == ["open_dispute"]  # the customer's, on the approved order
    assert Order.objects.get(pk=order.pk).status == S.APPROVED
    assert OrderEvent.objects.filter(order=order, name="approve").count() == 1


# --- offers and disputes --------------------------------------------------------------------


def test_a_double_click_on_accept_is_one_200_and_one_409():
    order = OrderFactory(status=S.MATCHING)

    def accept():
        client = APIClient()
        client.force_authenticate(order.musician)
        return client.post(f"/api/orders/{order.pk}/accept")

    responses = race(accept, accept)
    assert sorted(r.status_code for r in responses) == [200, 409]
    conflict = next(r for r in responses if r.status_code == 409).json()
    assert conflict["code"] == "transition_not_allowed"
    assert conflict["allowed"] == ["advance_stage", "open_dispute", "submit_draft"]
    assert OrderEvent.objects.filter(order=order, name="accept").count() == 1
    assert OrderOffer.objects.get(order=order).status == OfferStatus.ACCEPTED


@pytest.mark.parametrize("attempt", range(5))
def test_accept_and_decline_at_once_exactly_one_wins_the_other_is_409(attempt):
    order = OrderFactory(status=S.MATCHING)
    musician = order.musician
    results = race(
        lambda: services.order_accept(order=order, musician=musician),
        lambda: services.order_decline(order=order, musician=musician, reason="Too busy"),
    )
    winners = [r for r in results if isinstance(r, Order)]
    losers = [r for r in results if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert losers[0].status == 409
    offer = OrderOffer.objects.get(order=order)
    final = Order.objects.get(pk=order.pk)
    if results[0] is winners[0]:  # the accept won
        assert (final.status, final.musician_id, offer.status) == (
            S.IN_PROGRESS,
            musician.pk,
            OfferStatus.ACCEPTED,
        )
        assert losers[0].code == "transition_not_allowed"
    else:
        assert (final.status, final.musician_id, offer.status) == (
            S.MATCHING,
            None,
            OfferStatus.DECLINED,
        )
        assert losers[0].code == "offer_closed"
    assert OrderEvent.objects.filter(order=order, name__in=["accept", "decline"]).count() == 1


def test_two_resolutions_at_once_one_moves_the_money_the_other_is_409(
    django_capture_on_commit_callbacks,
):
    package = PackageFactory(price=200_001)
    order = services.order_place(customer=UserFactory(), package=package, **service_brief())
    order = deposit_paid(order, django_capture_on_commit_callbacks)
    order = services.order_accept(order=order, musician=package.musician)
    services.order_open_dispute(
        order=order, actor=order.customer, reason="Nothing has been sent in weeks."
    )
    staff = [StaffFactory(), StaffFactory()]

    def resolve(person, data):
        def work():
            client = APIClient()
            client.force_authenticate(person)
            return client.post(f"/api/orders/{order.pk}/resolve_dispute", data, format="json")

        return work

    responses = race(
        resolve(staff[0], {"outcome": "refund"}), resolve(staff[1], {"outcome": "release"})
    )
    assert sorted(r.status_code for r in responses) == [200, 409], [r.content for r in responses]
    conflict = next(r for r in responses if r.status_code == 409).json()
    assert conflict["code"] == "transition_not_allowed" and conflict["allowed"] == []
    final = Order.objects.get(pk=order.pk)
    dispute = final.disputes.get()
    refunded = balance(code=external_code("sandbox", "refunds"), currency="INR")
    released = balance(code=payable_code(package.musician.pk), currency="INR") + balance(
        code=PLATFORM_FEES, currency="INR"
    )
    assert balance(code=f"escrow:order:{order.pk}", currency="INR") == 0
    if dispute.outcome == "refund":
        assert (final.status, refunded, released) == (S.REFUNDED, 100_001, 0)
    else:
        assert (final.status, refunded, released) == (S.COMPLETED, 0, 100_001)
    assert OrderEvent.objects.filter(order=order, name="resolve_dispute").count() == 1
