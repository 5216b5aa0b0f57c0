"""How billing tells the apps above it that a payment moved (DESIGN.md section 2).

billing sits below orders and never imports it. An app that must act when one of its payments
is captured (orders: "the deposit of this order was captured" moves the order to matching)
registers a handler for the payment's purpose in its ``AppConfig.ready()``::

    from billing import hooks
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

from accounts.hooks import HookRegistry
from billing.purposes import PURPOSES

logger = logging.getLogger(__name__)

EVENTS = ("captured", "failed", "refunded", "refund_failed")

_registry = HookRegistry("billing", PURPOSES)
register = _registry.register
unregister = _registry.unregister
handlers = _registry.handlers


def emit(purpose: str, *, event: str, payment, **details) -> int:
    """Run the handlers of `purpose` in registration order; return how many ran."""
    if event not in EVENTS:
        raise ValueError(f"unknown billing event: {event!r}")
    ran = _registry.emit(purpose, event=event, payment=payment, **details)
    if not ran and purpose != "subscription":
        logger.debug(
            "billing %s %s for payment %s: no handler registered", purpose, event, payment.pk
        )
    return ran
