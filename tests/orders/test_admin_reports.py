"""The staff's reports: figures on known data (through orders.reports and the admin pages),
their CSV exports, the date ranges, and the query budget (one query per figure, not per row)."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from orders import reports, services
from orders.models import Dispute, MusicianProfile, Order, OrderEvent, OrderStatus
from tests.factories import MusicianFactory, UserFactory
from tests.orders.admin_helpers import assert_refused, logged_in, non_staff_people, staff_client
from tests.orders.factories import OrderFactory, ReviewFactory
from tests.orders.test_disputes import DEPOSIT, disputed, fee, paid_order

pytestmark = pytest.mark.django_db
S = OrderStatus
MUSICIANS = "/admin/reports/musician-performance/"
BUSINESS = "/admin/reports/business/"
JAN = timezone.make_aware(datetime(2026, 1, 1, 12, 0))


def done_order(musician, *, accepted, delivered, days=7, revisions_used=0, rating=None):
    """A completed order of `musician`, accepted, approved and delivered at the given times."""
    order = OrderFactory(status=S.COMPLETED, musician=musician, delivery_days=days)
    Order.objects.filter(pk=order.pk).update(
        accepted_at=accepted,
        approved_at=delivered,
        delivered_at=delivered,
        revisions_used=revisions_used,
    )
    if rating is not None:
        review = ReviewFactory(order=order, rating=rating)
        type(review).objects.filter(pk=review.pk).update(created_at=delivered)
    return order


def dispute_on(order, *, at):
    dispute = Dispute.objects.create(order=order, reason="Not what we agreed.")
    Dispute.objects.filter(pk=dispute.pk).update(created_at=at)
    return dispute


@pytest.fixture
def track_records():
    """Meera: two orders in January 2026, one on time (4 days of 7), one late (13 days, after a
    revision), rated 4 and 5, one dispute. Ravi: one order in 2025, on time, rated 3."""
    meera = MusicianFactory(display_name="Meera Nair", email="meera@example.com")
    ravi = MusicianFactory(display_name="Ravi Kumar", email="ravi@example.com")
    first = done_order(meera, accepted=JAN, delivered=JAN + timedelta(days=4), rating=4)
    done_order(
        meera,
        accepted=JAN + timedelta(days=1),
        delivered=JAN + timedelta(days=14),
        revisions_used=1,
        rating=5,
    )
    dispute_on(first, at=JAN + timedelta(days=5))
    old = timezone.make_aware(datetime(2025, 6, 1, 12, 0))
    done_order(ravi, accepted=old, delivered=old + timedelta(days=2), rating=3)
    for musician in (meera, ravi):
        services.musician_stats_refresh(musician=musician)
    return meera, ravi


def january():
    return {
        "since": JAN.replace(hour=0),
        "until": JAN.replace(hour=0) + timedelta(days=31),
    }


def test_musician_performance_in_a_range(track_records):
    meera, ravi = track_records

    [row] = reports.musician_performance(**january())

    assert row.musician == meera
    assert row.orders == 2
    assert row.on_time_rate == 0.5
    assert row.first_draft_approval_rate == 0.5
    assert row.average_completion_days == 8.5  # (4 + 13) / 2
    assert (row.rating_average, row.rating_count) == (4.5, 2)
    assert row.disputes == 1


def test_without_a_range_the_figures_are_the_profiles(track_records):
    meera, ravi = track_records

    rows = {row.musician: row for row in reports.musician_performance()}

    assert set(rows) == {meera, ravi}
    for musician in (meera, ravi):
        profile = MusicianProfile.objects.get(musician=musician)
        row = rows[musician]
        assert row.on_time_rate == profile.on_time_rate
        assert row.first_draft_approval_rate == profile.first_draft_approval_rate
        assert row.average_completion_days == profile.average_completion_days
        assert (row.rating_average, row.rating_count) == (
            profile.rating_average,
            profile.rating_count,
        )
    assert (rows[ravi].orders, rows[ravi].on_time_rate, rows[ravi].disputes) == (1, 1.0, 0)
    # A range that holds everything counts what the profile counts.
    [everything_meera] = [
        row
        for row in reports.musician_performance(since=JAN.replace(year=2020), until=None)
        if row.musician == meera
    ]
    assert everything_meera.on_time_rate == rows[meera].on_time_rate


def test_the_performance_report_reads_one_query_per_figure(
    track_records, django_assert_max_num_queries
):
    for index in range(8):
        done_order(
            MusicianFactory(),
            accepted=JAN + timedelta(days=index),
            delivered=JAN + timedelta(days=index + 3),
            rating=5,
        )
    with django_assert_max_num_queries(6):
        rows = reports.musician_performance(**january())
    assert len(rows) == 9
    with django_assert_max_num_queries(4):
        assert len(reports.musician_performance()) == 10


def test_the_performance_page_charts_and_exports_the_range(track_records):
    meera, _ = track_records
    _, client = staff_client()

    page = client.get(MUSICIANS, {"since": "2026-01-01", "until": "2026-01-31"})
    body = page.content.decode()
    assert page.status_code == 200
    assert '<svg class="encore-chart"' in body and "Orders accepted, per musician" in body
    assert 'data-musician="meera@example.com"' in body and "ravi@example.com" not in body
    assert "50%" in body and "4.5 (2)" in body

    export = client.get(MUSICIANS, {"since": "2026-01-01", "until": "2026-01-31", "export": "csv"})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    assert export["Content-Disposition"] == (
        'attachment; filename="musician-performance-2026-01-01-to-2026-01-31.csv"'
    )
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows == [
        [
            "musician",
            "email",
            "orders",
            "on_time_rate",
            "first_draft_approval_rate",
            "average_completion_days",
            "rating",
            "reviews",
            "disputes",
        ],
        ["Meera Nair", "meera@example.com", "2", "0.5", "0.5", "8.5", "4.5", "2", "1"],
    ]


# --- business -------------------------------------------------------------------------------


def deposit_paid_event(order):
    """The timeline's record of a deposit paid (the payment itself does not matter here)."""
    OrderEvent.objects.create(
        order=order, name="deposit_captured", from_status="placed", to_status="matching"
    )


@pytest.fixture
def business(django_capture_on_commit_callbacks):
    """Two orders paid through the sandbox (deposits of ₹1,000.01), one released to its musician
    by a dispute and one refunded; a repeat customer's second (wedding) order; an unpaid order;
    a paid order of last year."""
    staff = UserFactory(is_staff=True)
    released = disputed(paid_order(django_capture_on_commit_callbacks))
    refunded = disputed(paid_order(django_capture_on_commit_callbacks))
    with django_capture_on_commit_callbacks(execute=True):
        services.dispute_resolve(order=released, staff=staff, outcome="release")
        services.dispute_resolve(order=refunded, staff=staff, outcome="refund")
    again = OrderFactory(customer=released.customer, occasion="wedding", status=S.MATCHING)
    deposit_paid_event(again)
    OrderFactory(status=S.PLACED, occasion="wedding")  # never paid
    old = OrderFactory(occasion="tribute", status=S.MATCHING)
    deposit_paid_event(old)
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    return released, refunded


def today_range():
    now = timezone.now()
    return {"since": now - timedelta(days=1), "until": now + timedelta(days=1)}


def test_business_figures_on_known_data(business):
    figures = reports.business_figures(**today_range())

    assert figures.gross == {"INR": 2 * DEPOSIT}
    assert figures.platform_revenue == {"INR": fee(DEPOSIT)}
    assert figures.refunds == {"INR": DEPOSIT}
    assert (figures.orders, figures.customers, figures.repeat_customers) == (3, 2, 1)
    assert figures.repeat_customer_rate == 0.5
    assert figures.by_occasion == [("Birthday", 2), ("Wedding", 1)]
    [(month, count)] = figures.by_month
    assert (month.year, month.month, count) == (timezone.now().year, timezone.now().month, 3)

    everything = reports.business_figures()
    assert everything.orders == 4 and ("Tribute", 1) in everything.by_occasion
    last_year = reports.business_figures(
        since=timezone.now() - timedelta(days=500), until=timezone.now() - timedelta(days=300)
    )
    assert (last_year.orders, last_year.gross, last_year.refunds) == (1, {}, {})


def test_the_business_page_and_its_csv(business):
    _, client = staff_client()
    today = timezone.localdate()
    query = {"since": (today - timedelta(days=1)).isoformat(), "until": today.isoformat()}

    page = client.get(BUSINESS, query)
    body = page.content.decode()
    assert page.status_code == 200
    assert '<td data-figure="gross">₹2,000.02</td>' in body
    assert '<td data-figure="refunds">₹1,000.01</td>' in body
    assert 'data-figure="repeat_rate">50%' in body
    assert body.count('<svg class="encore-chart"') == 2 and "Orders by occasion" in body

    export = client.get(BUSINESS, {**query, "export": "csv"})
    assert export["Content-Disposition"] == (
        f'attachment; filename="business-{query["since"]}-to-{query["until"]}.csv"'
    )
    rows = list(csv.reader(io.StringIO(export.content.decode())))
    assert rows[0] == ["section", "figure", "currency", "value"]
    assert ["money", "gross value", "INR", "2000.02"] in rows
    assert ["money", "refunds", "INR", "1000.01"] in rows
    platform = f"{fee(DEPOSIT) / 100:.2f}"
    assert ["money", "platform revenue", "INR", platform] in rows
    assert ["orders", "repeat-customer rate", "", "0.5"] in rows
    assert ["by occasion", "Birthday", "", "2"] in rows
    assert ["by month", today.strftime("%Y-%m"), "", "3"] in rows


@pytest.mark.parametrize("url", [MUSICIANS, BUSINESS])
def test_a_backwards_or_malformed_range_is_explained(url):
    _, client = staff_client()

    backwards = client.get(url, {"since": "2026-02-01", "until": "2026-01-01"})
    malformed = client.get(url, {"since": "yesterday"})

    assert backwards.status_code == 400
    assert "comes before its start" in backwards.content.decode()
    assert malformed.status_code == 400 and "Enter a valid date" in malformed.content.decode()


@pytest.mark.parametrize("who", ["customer", "musician"])
@pytest.mark.parametrize("url", [MUSICIANS, BUSINESS, f"{BUSINESS}?export=csv"])
def test_reports_are_for_staff_only(who, url):
    client = logged_in(non_staff_people()[who])

    response = client.get(url)

    assert_refused(response)
    assert not response.get("Content-Disposition")
