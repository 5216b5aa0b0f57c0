"""What every order service shares: the locked, audited transition and the actor checks."""

from django_fsm import TransitionNotAllowed

from orders.errors import Forbidden, TransitionConflict
from orders.models import Order, OrderEvent
from orders.realtime import order_status_push


def lock(order) -> Order:
    """The order, re-read under a row lock (call inside ``transaction.atomic()``)."""
    # of=("self",): PostgreSQL cannot lock the nullable side of the join to the musician.
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("customer", "musician")
        .get(pk=order.pk)
    )


def event_add(order, *, actor, name: str, note: str = "", from_status: str | None = None):
    """Append one step to the order's timeline (a transition, or a happening within a state)."""
    return OrderEvent.objects.create(
        order=order,
        actor=actor,
        name=name,
        from_status=from_status or order.status,
        to_status=order.status,
        stage=order.stage,
        note=note[:5000],
    )


def transition_apply(order, *, actor, name: str, check, note: str = "", args=()):
    """Lock `order`, check `actor` with `check(locked)`, apply transition `name`, save and
    append the event. Call inside transaction.atomic(). Returns (order, event): the event is
    the occurrence its notifications are keyed by."""
    locked = lock(order)
    check(locked)
    return transition_apply_locked(locked, actor=actor, name=name, note=note, args=args)


def transition_apply_locked(locked, *, actor, name: str, note: str = "", args=()):
    from_status, from_stage = locked.status, locked.stage
    try:
        getattr(locked, name)(*args)
    except TransitionNotAllowed:
        raise TransitionConflict(order=locked, transition=name, actor=actor) from None
    locked.save()
    if (locked.status, locked.stage) != (from_status, from_stage):
        # Every state change passes here, so the open chat pages hear of each one, once.
        order_status_push(locked)
    return locked, event_add(locked, actor=actor, name=name, note=note, from_status=from_status)


def is_staff(user) -> bool:
    return bool(user and user.is_staff)


def musician_only(actor):
    def check(order):
        if order.musician_id is None or order.musician_id != actor.pk:
            raise Forbidden("Only the order's musician may do this.")

    return check


def customer_only(actor, *, staff_too=False):
    def check(order):
        if order.customer_id != actor.pk and not (staff_too and is_staff(actor)):
            raise Forbidden("Only the customer may do this.")

    return check


def party_only(actor):
    def check(order):
        if actor.pk not in (order.customer_id, order.musician_id):
            raise Forbidden("Only the customer or the musician may do this.")

    return check


def display_name(user, fallback: str) -> str:
    return (getattr(user, "display_name", "") or fallback) if user is not None else fallback
