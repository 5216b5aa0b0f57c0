"""Reads about orders, always scoped by who asks."""

from django.db.models import Prefetch, Q, QuerySet

from orders.models import Order, OrderEvent, Package


def orders_visible_to(user) -> QuerySet[Order]:
    """The customer's orders and the ones assigned to the musician; staff see all."""
    if user is None or not user.is_authenticated:
        return Order.objects.none()
    queryset = Order.objects.select_related("customer", "musician", "package")
    if user.is_staff:
        return queryset
    return queryset.filter(Q(customer=user) | Q(musician=user))


def order_detail_for(user, order_id) -> Order | None:
    return (
        orders_visible_to(user)
        .prefetch_related(Prefetch("events", queryset=OrderEvent.objects.select_related("actor")))
        .filter(pk=order_id)
        .first()
    )


def packages_for(user, *, musician_id=None) -> QuerySet[Package]:
    """Active packages for everyone, plus the caller's own inactive ones."""
    queryset = Package.objects.select_related("musician").filter(musician__is_active=True)
    if user is not None and user.is_authenticated:
        queryset = queryset.filter(Q(active=True) | Q(musician=user))
    else:
        queryset = queryset.filter(active=True)
    if musician_id is not None:
        queryset = queryset.filter(musician_id=musician_id)
    return queryset


def order_payments(order):
    from billing.models import Payment

    return Payment.objects.filter(
        purpose__in=("order_deposit", "order_balance"), reference=str(order.pk)
    ).order_by("created_at")
