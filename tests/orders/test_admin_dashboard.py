"""The admin home's marketplace panel: today's figures for staff, each linked to the listing of
what it counts; nobody else sees it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Payout, PayoutStatus
from orders.admin_selectors import marketplace_today
from orders.models import Dispute, Order, OrderStatus
from tests.billing.test_payouts import HOLD, earn
from tests.factories import MusicianFactory
from tests.orders.admin_helpers import logged_in, musician_in_admin, staff_client
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db
S = OrderStatus


@pytest.fixture
def marketplace(settings):
    """Two orders waiting for a musician, one open dispute (and a resolved one), one late order
    (and one on time, one late but delivered), a musician with money past the hold and one with
    money still on hold, and a failed payout."""
    settings.BILLING_PAYOUT_HOLD_DAYS = HOLD.days
    OrderFactory(status=S.MATCHING)
    OrderFactory(status=S.MATCHING, musician=None)
    disputed = OrderFactory(status=S.DISPUTED)
    Dispute.objects.create(order=disputed, reason="The song is the wrong one.")
    Dispute.objects.create(
        order=OrderFactory(status=S.COMPLETED),
        reason="Late.",
        status="resolved",
        outcome="release",
    )
    now = timezone.now()
    for status, days_ago, delivered in (
        (S.IN_PROGRESS, 10, None),  # late
        (S.IN_REVIEW, 2, None),  # on time
        (S.DELIVERED, 10, now),  # late, but delivered
    ):
        order = OrderFactory(status=status)
        Order.objects.filter(pk=order.pk).update(
            accepted_at=now - timedelta(days=days_ago), delivered_at=delivered
        )
    paid = MusicianFactory()
    earn(paid, amount=100_000, fee=15_000, at=now - HOLD - timedelta(hours=1))
    earn(MusicianFactory(), amount=50_000, fee=7_500)  # still on hold
    Payout.objects.create(
        musician=paid,
        provider="sandbox",
        amount=1_000,
        currency="INR",
        status=PayoutStatus.FAILED,
        idempotency_key="payout:failed",
        failed_at=now,
    )


def figure(body: str, name: str) -> tuple[str, str]:
    """The number and the link of one figure of the panel."""
    match = re.search(rf'<li data-figure="{name}"><a href="([^"]+)"><strong>(\d+)</strong>', body)
    assert match, name
    return match.group(2), match.group(1).replace("&amp;", "&")


def orders_listed(body: str) -> set[str]:
    return set(re.findall(r"/admin/orders/inspect/([0-9a-f-]+)/", body))


def test_todays_figures(marketplace):
    today = marketplace_today()

    assert (today.matching, today.open_disputes, today.late) == (2, 1, 1)
    assert today.payouts.musicians == 1
    assert today.payouts.available == {"INR": 85_000}
    assert today.payouts.failed == 1


def test_staff_see_the_panel_with_links_to_the_filtered_listings(marketplace):
    _, client = staff_client()

    home = client.get("/admin/")
    body = home.content.decode()

    assert home.status_code == 200 and "Today on the marketplace" in body
    assert figure(body, "matching") == ("2", "/admin/orders/?status=matching")
    assert figure(body, "open_disputes") == ("1", "/admin/disputes/")
    assert figure(body, "late") == ("1", "/admin/orders/?late=true")
    assert figure(body, "payouts_due") == ("1", "/admin/billing_payouts/?status=pending")
    assert "₹850.00" in body
    assert figure(body, "payouts_failed") == ("1", "/admin/billing_payouts/?status=failed")
    # Each link shows what its figure counts.
    late = client.get("/admin/orders/?late=true").content.decode()
    assert len(orders_listed(late)) == 1
    matching = client.get("/admin/orders/?status=matching").content.decode()
    assert len(orders_listed(matching)) == 2


def test_the_panel_costs_a_fixed_number_of_queries(marketplace, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        marketplace_today()
    for _ in range(5):
        earn(MusicianFactory(), amount=10_000, fee=1_500, at=timezone.now() - HOLD * 2)
    with django_assert_max_num_queries(6):
        assert marketplace_today().payouts.musicians == 6


def test_people_in_the_admin_who_are_not_staff_do_not_see_it(marketplace):
    client = logged_in(musician_in_admin())

    home = client.get("/admin/")

    assert home.status_code == 200
    assert "Today on the marketplace" not in home.content.decode()
