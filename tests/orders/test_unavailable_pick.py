"""Picking a musician who cannot take an order now (paused, away, full) is a clear 409 that
names why and when they are next free, and offers being matched instead; nothing is placed
and no deposit is asked for."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Payment
from orders import services
from orders.errors import MusicianUnavailable
from orders.models import Order, OrderStatus
from tests.factories import UserFactory
from tests.orders.factories import (
    MusicianProfileFactory,
    OrderFactory,
    PackageFactory,
    api_client_for,
    brief,
    service_brief,
)

pytestmark = pytest.mark.django_db
S = OrderStatus


def today():
    return timezone.now().date()


def paused(package):
    MusicianProfileFactory(musician=package.musician, accepting_orders=False)


def away(package):
    MusicianProfileFactory(
        musician=package.musician, away_from=today(), away_until=today() + timedelta(days=9)
    )


def full(package):
    MusicianProfileFactory(musician=package.musician, capacity=1)
    OrderFactory(
        musician=package.musician,
        status=S.IN_PROGRESS,
        accepted_at=timezone.now(),
        delivery_days=4,
    )


CASES = {
    "paused": (paused, None),
    "away": (away, 10),
    "full": (full, 4),
}


@pytest.mark.parametrize("reason", CASES)
def test_placing_with_an_unavailable_pick_is_409_naming_why_and_offering_match(
    reason, sandbox_provider
):
    make_unavailable, free_in_days = CASES[reason]
    customer = UserFactory()
    package = PackageFactory(price=200_001)
    make_unavailable(package)
    placed_before = Order.objects.filter(customer=customer).count()

    response = api_client_for(customer).post(
        "/api/orders", {"package": str(package.pk), **brief()}, format="json"
    )

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "musician_unavailable"
    assert body["reason"] == reason
    expected = (today() + timedelta(days=free_in_days)).isoformat() if free_in_days else None
    assert body["next_free_date"] == expected
    assert body["alternatives"] == ["match"]
    assert "match you" in body["detail"]
    # Nothing was placed, no deposit is waiting to be paid.
    assert Order.objects.filter(customer=customer).count() == placed_before
    assert not Payment.objects.filter(payer=customer).exists()

    # "Match me" is the way on, with the same brief.
    matched = api_client_for(customer).post(
        "/api/orders", {"match": True, **brief(budget=200_001)}, format="json"
    )
    assert matched.status_code == 201, matched.content


def test_the_service_the_commission_page_calls_refuses_the_same_way():
    package = PackageFactory()
    paused(package)
    with pytest.raises(MusicianUnavailable) as raised:
        services.order_place(customer=UserFactory(), package=package, **service_brief())
    assert raised.value.status == 409
    assert raised.value.field == "package"  # the form shows it on the pick
    assert raised.value.reason == "paused"
    assert "paused new commissions" in raised.value.message


def test_a_musician_back_from_away_or_with_room_again_can_be_picked(sandbox_provider):
    package = PackageFactory()
    MusicianProfileFactory(
        musician=package.musician,
        away_from=today() - timedelta(days=5),
        away_until=today() - timedelta(days=1),
        capacity=1,
    )
    OrderFactory(musician=package.musician, status=S.COMPLETED)
    response = api_client_for(UserFactory()).post(
        "/api/orders", {"package": str(package.pk), **brief()}, format="json"
    )
    assert response.status_code == 201, response.content
