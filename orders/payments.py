"""Handlers billing calls when an order's payment moves (connected in config/wiring.py).

They run inside the transaction that records the payment event, exactly once per event.
"""

import logging
import uuid

from django.db import transaction

from billing import services as billing
from billing.errors import BillingError
from orders import services
from orders.models import Order, OrderStatus

logger = logging.getLogger(__name__)

# Orders whose escrow was settled for good: a milestone captured after that goes back.
CLOSED = (OrderStatus.CANCELLED, OrderStatus.COMPLETED, OrderStatus.REFUNDED)


def _order_for(payment) -> Order | None:
    """The payment's order, locked: its state decides what the money does, so a cancel or a
    dispute committing meanwhile must not change it under us (billing's transaction is open)."""
    try:
        order_id = uuid.UUID(str(payment.reference))
    except ValueError:
        return None
    return Order.objects.select_for_update().filter(pk=order_id).first()


def deposit_event(*, event: str, payment, **details) -> None:
    if event != "captured":
        return  # failed: the customer may try again; refunds are started by orders itself
    order = _order_for(payment)
    if order is None:
        logger.error("deposit %s captured for an unknown order %s", payment.pk, payment.reference)
        return
    if order.status == OrderStatus.PLACED:
        services.order_deposit_captured(order=order, payment=payment)
        return
    if order.status == OrderStatus.CANCELLED:
        # Paid after the customer cancelled (a checkout left open): give it all back, once.
        _refund_on_commit(order, payment, reason="order cancelled", key="cancel-refund")


def _refund_on_commit(order, payment, *, reason: str, key: str) -> None:
    """Give a payment that arrived too late back in full, once, after billing's transaction
    commits (the provider is called then)."""
    order_id = order.pk

    def refund():
        try:
            # billing re-reads the payment under its lock: what is left to give back is fresh.
            billing.payment_refund(
                payment=payment,
                reason=reason,
                idempotency_key=f"order:{order_id}:{key}",
            )
        except BillingError:
            logger.exception("refund of the late %s of order %s failed", payment.purpose, order_id)

    transaction.on_commit(refund)


def balance_event(*, event: str, payment, **details) -> None:
    if event != "captured":
        return
    order = _order_for(payment)
    if order is None:
        logger.error("balance %s captured for an unknown order %s", payment.pk, payment.reference)
        return
    if order.status == OrderStatus.DELIVERED:
        services.order_balance_captured(order=order, payment=payment)
    elif order.status in CLOSED:
        # Paid on a checkout left open while a dispute closed the order: the resolution
        # settled the escrow it held then, so this money belongs to nobody but the customer.
        logger.warning("balance of order %s captured while %s: refunded", order.pk, order.status)
        _refund_on_commit(order, payment, reason=f"order {order.status}", key="late-balance-refund")
    else:
        # Disputed meanwhile: the money stays in escrow for the resolution (or, when the work
        # goes on, for the delivery: pay_balance then completes the order at once).
        logger.warning("balance of order %s captured while %s", order.pk, order.status)
