"""How billing tells the apps above it that a payment moved.

billing sits below orders and never imports it. An app that must act when one of its payments
is captured (orders: "the deposit of this order was captured" moves the order to matching)
provides a handler for the payment's purpose, connected in ``config/wiring.py``::

    hooks.register("order_deposit", orders.payments.deposit_event)

Handlers are called as ``handler(event=..., payment=..., **details)`` **inside the transaction
that records the event**, exactly once per event (a duplicate or replayed webhook does not call
them again). An exception rolls the whole event back; the webhook is then retried later.

Events:

- ``captured``: the money is in (held in escrow for order purposes). details: ledger_transaction.
- ``failed``: a payment attempt failed; the payer may try again. details: reason.
- ``refunded``: some or all of it is going back. details: refund (a billing.models.Refund).
- ``refund_failed``: the provider could not make that refund; the money is back in escrow.
  details: refund.
"""

import logging

from core.hooks import HookRegistry

logger = logging.getLogger(__name__)

EVENTS = ("captured", "failed", "refunded", "refund_failed")

# The payment purposes an app above billing settles. Subscription charges are settled inside
# billing (services/subscriptions.py), so they are no hook purpose and are not emitted.
HOOK_PURPOSES = ("order_deposit", "order_balance")

_registry = HookRegistry("billing", HOOK_PURPOSES)
register = _registry.register
unregister = _registry.unregister
handlers = _registry.handlers


def emit(purpose: str, *, event: str, payment, **details) -> int:
    """Run the handlers of `purpose` in registration order; return how many ran."""
    if event not in EVENTS:
        raise ValueError(f"unknown billing event: {event!r}")
    if purpose not in HOOK_PURPOSES:
        return 0
    ran = _registry.emit(purpose, event=event, payment=payment, **details)
    if not ran:
        logger.debug(
            "billing %s %s for payment %s: no handler registered", purpose, event, payment.pk
        )
    return ran
