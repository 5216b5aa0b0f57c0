"""A matched order takes the price and terms of the package its musician accepted it at.

A customer who asks to be matched names a budget, and the budget is a ceiling: the order is
placed at it (the deposit is ceil(budget / 2)) and offered to each candidate at their cheapest
package that fits it. When a musician accepts, the order takes that package's price, delivery
days and included revisions; what the deposit paid beyond ceil(price / 2) goes back to the
customer through billing's ledger (one refund per order, under an idempotency key), and the
balance is price - deposit of the new price.
"""

import logging

from billing import selectors as billing_selectors
from billing import services as billing
from billing.errors import BillingError
from notifications.formatting import money
from orders.models import Order, OrderOffer
from orders.services.base import event_add
from orders.services.core import deposit_key

logger = logging.getLogger(__name__)


def match_refund_key(order) -> str:
    return f"order:{order.pk}:match-refund"


def order_price_from_offer(order: Order, *, offer: OrderOffer) -> int:
    """Inside order_accept's transaction, on the locked order: price a matched order at the
    accepted offer's package and refund the deposit's excess. Returns the amount refunded."""
    terms = offer.terms
    if not order.match or terms is None or terms["price"] > order.price:
        return 0
    fields = ("package_id", "price", "delivery_days", "revisions_included")
    if all(getattr(order, field) == terms[field] for field in fields):
        return 0  # priced already (a retried acceptance)
    budget = order.price
    order.package_id = terms["package_id"]
    order.price = terms["price"]
    order.delivery_days = terms["delivery_days"]
    order.revisions_included = terms["revisions_included"]
    order.save(
        update_fields=["package", "price", "delivery_days", "revisions_included", "updated_at"]
    )
    deposit = billing_selectors.payment_by_key(deposit_key(order), captured=True)
    excess = billing_selectors.payment_refundable(deposit) - order.deposit_amount
    note = (
        f"Priced at the musician's package, {money(order.price, order.currency)} "
        f"(your budget was {money(budget, order.currency)})"
    )
    if excess > 0:
        note += f"; {money(excess, order.currency)} of the deposit is refunded"
    event_add(order, actor=None, name="priced", note=note + ".")
    if excess <= 0:
        return 0
    try:
        billing.payment_refund(
            payment=deposit,
            amount=excess,
            reason="matched below the budget",
            idempotency_key=match_refund_key(order),
        )
    except BillingError:
        # Recorded and reversed by billing when the provider refuses; staff retry it from the
        # payments screen under the same key. The acceptance stands.
        logger.exception("refund of the deposit's excess of order %s failed", order.pk)
        return 0
    return excess
