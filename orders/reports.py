"""The staff's reports on the marketplace (read in the Wagtail admin, orders/admin_reports.py).

Selectors: each figure is one query over all the rows it counts (never one per musician or
per month), and money is read from billing only through ``billing.selectors``. A range is
``[since, until)``; either end may be open.

What each figure counts:

- musician performance, per musician: orders they accepted in the range; on-time rate and
  average completion days over the orders they delivered in the range, first-draft approval
  over the ones approved in it (``orders.stats``, the rule their profile is counted by); the
  reviews received and the disputes opened in the range. Without a range the rates and the
  rating are their profile's aggregates (``MusicianProfile``), which the same rule keeps.
- business: gross value (milestone payments captured in the range), platform revenue (what
  ``revenue:platform_fees`` gained), refunds (to customers, of milestone payments), and, over
  the orders placed in the range whose deposit was paid, the repeat-customer rate and the
  orders by occasion and by month.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.db.models.functions import TruncMonth

from accounts.models import User
from billing import selectors as billing_selectors
from billing.services.ledger import PLATFORM_FEES
from orders import stats
from orders.models import Dispute, MusicianProfile, Occasion, Order, OrderEvent, Review
from orders.selectors import MILESTONE_PURPOSES


def _within(queryset, field_name: str, since, until):
    """`queryset` narrowed to rows whose `field_name` is in [since, until)."""
    bounds = {"gte": since, "lt": until}
    return queryset.filter(
        **{f"{field_name}__{lookup}": bound for lookup, bound in bounds.items() if bound}
    )


# --- musician performance -------------------------------------------------------------------


@dataclass
class MusicianPerformance:
    musician: User
    orders: int = 0
    on_time_rate: float | None = None
    first_draft_approval_rate: float | None = None
    average_completion_days: float | None = None
    rating_average: float | None = None
    rating_count: int = 0
    disputes: int = 0


def _counts_by(queryset, key: str) -> dict:
    return dict(queryset.values(key).annotate(n=Count("pk")).order_by().values_list(key, "n"))


def _rows_by_musician(rows) -> dict:
    grouped = defaultdict(list)
    for musician_id, *row in rows:
        grouped[musician_id].append(tuple(row) if len(row) > 1 else row[0])
    return grouped


def musician_performance(*, since=None, until=None) -> list[MusicianPerformance]:
    """One row per musician with something in the range, most orders first."""
    taken = Order.objects.filter(musician__isnull=False, accepted_at__isnull=False)
    orders = _counts_by(_within(taken, "accepted_at", since, until), "musician_id")
    disputes = _counts_by(
        _within(Dispute.objects.filter(order__musician__isnull=False), "created_at", since, until),
        "order__musician_id",
    )
    figures: dict = defaultdict(dict)
    if since is None and until is None:
        for profile in MusicianProfile.objects.filter(
            Q(completed_orders__gt=0) | Q(rating_count__gt=0) | Q(musician_id__in=list(orders))
        ).values(
            "musician_id",
            "on_time_rate",
            "first_draft_approval_rate",
            "average_completion_days",
            "rating_average",
            "rating_count",
        ):
            figures[profile.pop("musician_id")] = profile
    else:
        delivered = _rows_by_musician(
            _within(taken.filter(delivered_at__isnull=False), "delivered_at", since, until)
            .values_list("musician_id", "accepted_at", "delivered_at", "delivery_days")
            .order_by()
        )
        approved = _rows_by_musician(
            _within(taken.filter(approved_at__isnull=False), "approved_at", since, until)
            .values_list("musician_id", "revisions_used")
            .order_by()
        )
        reviews = (
            _within(Review.objects.all(), "created_at", since, until)
            .values("musician_id")
            .annotate(average=Avg("rating"), count=Count("pk"))
            .order_by()
        )
        for musician_id, rows in delivered.items():
            figures[musician_id]["on_time_rate"] = stats.on_time_rate(rows)
            figures[musician_id]["average_completion_days"] = stats.average_completion_days(rows)
        for musician_id, used in approved.items():
            figures[musician_id]["first_draft_approval_rate"] = stats.first_draft_approval_rate(
                used
            )
        for row in reviews:
            figures[row["musician_id"]]["rating_average"] = round(row["average"], 2)
            figures[row["musician_id"]]["rating_count"] = row["count"]
    ids = set(orders) | set(disputes) | set(figures)
    musicians = User.objects.filter(pk__in=ids).order_by("display_name", "email")
    rows = [
        MusicianPerformance(
            musician=musician,
            orders=orders.get(musician.pk, 0),
            disputes=disputes.get(musician.pk, 0),
            **figures.get(musician.pk, {}),
        )
        for musician in musicians
    ]
    rows.sort(key=lambda row: -row.orders)  # stable: names stay in order within a count
    return rows


# --- business -------------------------------------------------------------------------------


@dataclass
class BusinessFigures:
    gross: dict = field(default_factory=dict)  # per currency, minor units
    platform_revenue: dict = field(default_factory=dict)
    refunds: dict = field(default_factory=dict)
    orders: int = 0
    customers: int = 0
    repeat_customers: int = 0
    by_occasion: list = field(default_factory=list)  # [(occasion label, orders)]
    by_month: list = field(default_factory=list)  # [(first day of the month, orders)]

    @property
    def repeat_customer_rate(self) -> float | None:
        return round(self.repeat_customers / self.customers, 4) if self.customers else None


def paid_orders():
    """Orders whose deposit was paid (a customer's commitment; unpaid attempts are left out)."""
    deposit = OrderEvent.objects.filter(order=OuterRef("pk"), name="deposit_captured")
    return Order.objects.filter(Exists(deposit))


def business_figures(*, since=None, until=None) -> BusinessFigures:
    orders = _within(paid_orders(), "created_at", since, until)
    per_customer = list(
        orders.values("customer_id").annotate(n=Count("pk")).order_by().values_list("n", flat=True)
    )
    labels = dict(Occasion.choices)
    by_occasion = sorted(
        (
            (labels.get(occasion, occasion), count)
            for occasion, count in _counts_by(orders, "occasion").items()
        ),
        key=lambda pair: (-pair[1], pair[0]),
    )
    by_month = [
        (month.date() if isinstance(month, datetime) else month, count)
        for month, count in orders.annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
        .values_list("month", "n")
    ]
    return BusinessFigures(
        gross=billing_selectors.captured_totals(
            purposes=MILESTONE_PURPOSES, since=since, until=until
        ),
        platform_revenue=billing_selectors.account_net_inflow(
            code=PLATFORM_FEES, since=since, until=until
        ),
        refunds=billing_selectors.refunded_totals(
            purposes=MILESTONE_PURPOSES, since=since, until=until
        ),
        orders=sum(per_customer),
        customers=len(per_customer),
        repeat_customers=sum(1 for n in per_customer if n > 1),
        by_occasion=by_occasion,
        by_month=by_month,
    )


def month_label(month: date) -> str:
    return month.strftime("%b %Y")
