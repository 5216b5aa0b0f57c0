"""Handlers billing calls when an order's payment moves (registered in OrdersConfig.ready()).

They run inside the transaction that records the payment event, exactly once per event.
"""

import logging
import uuid

from django.db import transaction

from orders.models import Order, OrderStatus

logger = logging.getLogger(__name__)


def _order_for(payment) -> Order | None:
    try:
        return Order.objects.filter(pk=uuid.UUID(str(payment.reference))).first()
    except ValueError:
        return None


def deposit_event(*, event: str, payment, **details) -> None:
    if event != "captured":
        return  # failed: the customer may try again; refunds are started by orders itself
    from orders import services

    order = _order_for(payment)
    if order is None:
        logger.error("deposit %s captured for an unknown order %s", payment.pk, payment.reference)
        return
    if order.status == OrderStatus.PLACED:
        services.order_deposit_captured(order=order, payment=payment)
        return
    if order.status == OrderStatus.CANCELLED:
        # Paid after the customer cancelled (a checkout left open): give it all back, once.
        payment_id = payment.pk

        def refund():
            from billing import services as billing
            from billing.errors import BillingError
            from billing.models import Payment

            try:
                billing.payment_refund(
                    payment=Payment.objects.get(pk=payment_id),
                    reason="order cancelled",
                    idempotency_key=f"order:{order.pk}:cancel-refund",
                )
            except BillingError:
                logger.exception("refund of the late deposit of order %s failed", order.pk)

        transaction.on_commit(refund)


def balance_event(*, event: str, payment, **details) -> None:
    if event != "captured":
        return
    from orders import services

    order = _order_for(payment)
    if order is None:
        logger.error("balance %s captured for an unknown order %s", payment.pk, payment.reference)
        return
    if order.status == OrderStatus.DELIVERED:
        services.order_balance_captured(order=order, payment=payment)
    else:
        # Disputed meanwhile (or paid twice): the money stays in escrow for the resolution.
        logger.warning("balance of order %s captured while %s", order.pk, order.status)
