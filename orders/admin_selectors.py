"""What the staff's admin screens read about orders (orders/wagtail_hooks.py): an order with
everything its inspect page shows, the dispute queue, late orders and today's figures. Staff
see every order (``orders.selectors.orders_visible_to``); the screens check who is staff."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from audio.models import QualityReport
from billing import purposes
from billing import selectors as billing_selectors
from orders.models import (
    Delivery,
    Dispute,
    DisputeEvidence,
    DisputeStatus,
    Order,
    OrderEvent,
    OrderStatus,
    Version,
)
from orders.selectors import MILESTONE_PURPOSES, chat_messages_latest, order_payments

# Orders whose musician still owes the song: late once the due date (acceptance + delivery
# days) has passed. A disputed order is on hold and counted with the disputes instead.
OWED = (
    OrderStatus.IN_PROGRESS,
    OrderStatus.REVISION_REQUESTED,
    OrderStatus.IN_REVIEW,
    OrderStatus.APPROVED,
)
CHAT_SHOWN = 200


def _accepted_due_between(queryset, start, end) -> Q:
    """Orders of `queryset` due (accepted_at + delivery_days) in [start, end): one condition per
    delivery term in use (at most 365), so the database compares plain timestamps (SQLite
    cannot add a number of days to one)."""
    condition = Q(pk__in=[])
    for days in queryset.order_by().values_list("delivery_days", flat=True).distinct():
        term = Q(delivery_days=days)
        if start is not None:
            term &= Q(accepted_at__gte=start - timedelta(days=days))
        if end is not None:
            term &= Q(accepted_at__lt=end - timedelta(days=days))
        condition |= term
    return condition


def orders_due_between(queryset: QuerySet, start=None, end=None) -> QuerySet:
    """The orders of `queryset` whose due date is in [start, end) (two queries)."""
    accepted = queryset.filter(accepted_at__isnull=False)
    return accepted.filter(_accepted_due_between(accepted, start, end))


def orders_late(queryset: QuerySet | None = None, *, now=None) -> QuerySet:
    """Orders past their due date that the musician has not delivered yet."""
    queryset = Order.objects.all() if queryset is None else queryset
    owed = queryset.filter(status__in=OWED, delivered_at__isnull=True)
    return orders_due_between(owed, None, now or timezone.now())


def _uploads_with_qc(model):
    return model.objects.select_related("asset").prefetch_related(
        Prefetch(
            "asset__quality_reports",
            queryset=QualityReport.objects.prefetch_related("checks").order_by("stage"),
        )
    )


def order_for_staff(order_id) -> Order | None:
    """One order with its timeline events, versions and finals (with their QC results) and
    disputes (with their evidence), in a fixed number of queries."""
    return (
        Order.objects.select_related("customer", "musician", "package")
        .prefetch_related(
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
            Prefetch(
                "versions",
                queryset=_uploads_with_qc(Version)
                .select_related("revision_request")
                .order_by("number"),
            ),
            Prefetch("deliveries", queryset=_uploads_with_qc(Delivery).order_by("number")),
            Prefetch("disputes", queryset=disputes_with_evidence().order_by("created_at")),
        )
        .filter(pk=order_id)
        .first()
    )


@dataclass(frozen=True)
class OrderMoney:
    payments: list
    refunds: list
    ledger_entries: list
    escrow_code: str
    escrow_held: int


def order_money(order: Order) -> OrderMoney:
    """The order's milestone payments, their refunds, and every leg of every ledger
    transaction through its escrow (four queries)."""
    code = purposes.escrow_code("order", str(order.pk))
    return OrderMoney(
        payments=list(order_payments(order)),
        refunds=list(
            billing_selectors.refunds_for(purposes=MILESTONE_PURPOSES, reference=str(order.pk))
        ),
        ledger_entries=list(billing_selectors.ledger_entries_touching(code)),
        escrow_code=code,
        escrow_held=billing_selectors.escrow_balance(
            scope="order", reference=str(order.pk), currency=order.currency
        ),
    )


def order_chat_for_staff(order: Order) -> list:
    """The latest messages of the order's chat, oldest first, with their attachments."""
    return chat_messages_latest(order, limit=CHAT_SHOWN)


# --- disputes -------------------------------------------------------------------------------


def disputes_with_evidence() -> QuerySet[Dispute]:
    return Dispute.objects.select_related("opened_by", "resolved_by").prefetch_related(
        Prefetch(
            "evidence",
            queryset=DisputeEvidence.objects.select_related("author").prefetch_related(
                "versions",
                Prefetch("messages__attachments"),
                "messages__sender",
            ),
        )
    )


def disputes_queue(*, status: str | None = DisputeStatus.OPEN) -> QuerySet[Dispute]:
    """Disputes oldest first (the queue staff work through), open ones by default; None: all."""
    queryset = Dispute.objects.select_related(
        "order", "order__customer", "order__musician", "opened_by", "resolved_by"
    ).order_by("created_at", "pk")
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def escrow_held_for(orders) -> dict:
    """What the escrow of each order holds now, by order id, in its currency (one query)."""
    held = billing_selectors.escrow_balance_each(
        scope="order", references=[order.pk for order in orders]
    )
    return {order.pk: held.get(str(order.pk), {}).get(order.currency, 0) for order in orders}


def dispute_for_staff(dispute_id) -> Dispute | None:
    return (
        disputes_with_evidence()
        .select_related("order", "order__customer", "order__musician")
        .filter(pk=dispute_id)
        .first()
    )


# --- today's figures ------------------------------------------------------------------------


@dataclass(frozen=True)
class MarketplaceToday:
    matching: int  # paid orders waiting for a musician
    open_disputes: int
    late: int
    payouts: billing_selectors.PayoutsDue


def marketplace_today(*, now=None) -> MarketplaceToday:
    now = now or timezone.now()
    return MarketplaceToday(
        matching=Order.objects.filter(status=OrderStatus.MATCHING).count(),
        open_disputes=Dispute.objects.filter(status=DisputeStatus.OPEN).count(),
        late=orders_late(now=now).count(),
        payouts=billing_selectors.payouts_due(now=now),
    )
