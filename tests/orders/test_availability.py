"""Whether a musician can take a new order now (orders.availability): paused, away, full, and
when they are next free; the same rule matching excludes by."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from orders import selectors
from orders.availability import musician_availability, musicians_availability
from orders.models import OrderStatus
from tests.factories import MusicianFactory, UserFactory
from tests.orders.factories import MusicianProfileFactory, OrderFactory, PackageFactory

pytestmark = pytest.mark.django_db
S = OrderStatus


def today():
    return timezone.now().date()


def test_a_musician_with_room_is_available():
    musician = MusicianFactory()
    MusicianProfileFactory(musician=musician, capacity=2)
    OrderFactory(musician=musician, status=S.IN_PROGRESS)
    free = musician_availability(musician)
    assert free.available and free.reason is None and free.next_free_date is None
    assert (free.load, free.capacity) == (1, 2)
    # A musician who never filled in a profile takes orders on the defaults.
    assert musician_availability(MusicianFactory()).available


def test_a_paused_musician_is_unavailable_with_no_date():
    musician = MusicianFactory()
    MusicianProfileFactory(musician=musician, accepting_orders=False)
    free = musician_availability(musician)
    assert (free.available, free.reason, free.next_free_date) == (False, "paused", None)
    assert free.message == "This musician has paused new commissions."


def test_an_away_musician_is_free_the_day_after_their_time_away():
    musician = MusicianFactory()
    back = today() + timedelta(days=5)
    MusicianProfileFactory(musician=musician, away_from=today(), away_until=back)
    free = musician_availability(musician)
    assert (free.available, free.reason) == (False, "away")
    assert free.next_free_date == back + timedelta(days=1)
    assert "they are next free on" in free.message
    # Time away that starts later does not stop them now; on a day inside it, it does.
    assert musician_availability(musician, on=today() - timedelta(days=1)).available
    assert musician_availability(musician, on=back + timedelta(days=1)).available
    # Away with no end: nobody can tell when.
    musician.musician_profile.away_until = None
    musician.musician_profile.save()
    assert musician_availability(musician).next_free_date is None


def test_a_full_musician_is_next_free_when_enough_held_orders_are_due():
    musician = MusicianFactory()
    MusicianProfileFactory(musician=musician, capacity=2)
    now = timezone.now()
    OrderFactory(
        musician=musician,
        status=S.IN_PROGRESS,
        accepted_at=now - timedelta(days=2),
        delivery_days=7,
    )
    OrderFactory(musician=musician, status=S.IN_REVIEW, accepted_at=now, delivery_days=3)
    free = musician_availability(musician)
    assert (free.available, free.reason, free.load) == (False, "full", 2)
    # One of the two must be done for them to have room: the earlier due date.
    assert free.next_free_date == (now + timedelta(days=3)).date()


def test_an_open_offer_counts_against_capacity():
    musician = MusicianFactory()
    MusicianProfileFactory(musician=musician, capacity=1)
    OrderFactory(musician=musician, status=S.MATCHING)  # offered, not answered yet
    free = musician_availability(musician)
    assert (free.available, free.reason) == (False, "full")
    # Orders that are over or only placed (deposit unpaid) do not count.
    other = MusicianFactory()
    MusicianProfileFactory(musician=other, capacity=1)
    for status in (S.PLACED, S.COMPLETED, S.CANCELLED, S.DELIVERED, S.REFUNDED):
        OrderFactory(musician=other if status != S.CANCELLED else None, status=status)
    assert musician_availability(other).available


def test_a_customer_or_a_deactivated_musician_is_not_taking_commissions():
    assert musician_availability(UserFactory()).reason == "inactive"
    gone = MusicianFactory(is_active=False)
    assert musician_availability(gone).reason == "inactive"


def test_the_profile_or_the_id_answers_the_same():
    musician = MusicianFactory()
    profile = MusicianProfileFactory(musician=musician, accepting_orders=False)
    assert musician_availability(profile).reason == "paused"
    assert musician_availability(musician.pk).reason == "paused"


def test_a_list_is_answered_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    musicians = []
    for index in range(6):
        musician = MusicianFactory()
        MusicianProfileFactory(musician=musician, capacity=1, accepting_orders=index != 0)
        OrderFactory(musician=musician, status=S.IN_PROGRESS if index == 1 else S.COMPLETED)
        musicians.append(musician)
    with django_assert_max_num_queries(3):
        found = musicians_availability([m.pk for m in musicians])
    assert [found[m.pk].reason for m in musicians] == ["paused", "full"] + [None] * 4


def test_matching_excludes_by_the_same_rule():
    """Every musician the rule calls unavailable is left out of matching, for its reason."""
    order = OrderFactory(status=S.MATCHING, musician=None, match=True, price=300_000)
    available, paused, away, full = (MusicianFactory() for _ in range(4))
    MusicianProfileFactory(musician=available)
    MusicianProfileFactory(musician=paused, accepting_orders=False)
    MusicianProfileFactory(musician=away, away_from=today(), away_until=today())
    MusicianProfileFactory(musician=full, capacity=1)
    OrderFactory(musician=full, status=S.APPROVED)
    for musician in (available, paused, away, full):
        PackageFactory(musician=musician, price=100_000)
    found = musicians_availability([available, paused, away, full])
    assert [found[m.pk].reason for m in (available, paused, away, full)] == [
        None,
        "paused",
        "away",
        "full",
    ]
    assert [c.musician for c in selectors.musician_candidates(order)] == [available]


def test_a_musicians_public_page_in_the_api_says_when_they_are_free():
    musician = MusicianFactory()
    back = today() + timedelta(days=3)
    MusicianProfileFactory(musician=musician, away_from=today(), away_until=back)
    body = APIClient().get(f"/api/musicians/{musician.pk}").json()
    assert body["availability"] == {
        "available": False,
        "reason": "away",
        "next_free_date": (back + timedelta(days=1)).isoformat(),
        "message": musician_availability(musician).message,
    }
    free = MusicianFactory()
    assert APIClient().get(f"/api/musicians/{free.pk}").json()["availability"]["available"]
