"""Which payment provider this deployment uses for what: read from the settings only.

- one-off payments (commission milestones): Razorpay when its keys are set;
- listener subscriptions: Stripe when STRIPE_SECRET_KEY is set;
- whatever has no provider uses the embedded sandbox **only when it is switched on**
  (``BILLING_SANDBOX=true``, as ``make run`` and the tests do); ``BILLING_PROVIDER=sandbox``
  puts both in the sandbox even when keys are set. Otherwise paying answers that payments are
  not configured (PaymentsNotConfigured, HTTP 503): a deployment never takes "payments" that
  no provider collects.

The sandbox's webhook endpoint and checkout pages exist only while the sandbox is in use, so a
deployment with real providers accepts no sandbox-signed event.
"""

import logging

from django.conf import settings

from billing.errors import PaymentsNotConfigured

logger = logging.getLogger(__name__)


def _forced_sandbox() -> bool:
    return settings.BILLING_PROVIDER == "sandbox"


def sandbox_allowed() -> bool:
    return bool(settings.BILLING_SANDBOX) or _forced_sandbox()


def razorpay_configured() -> bool:
    return bool(settings.RAZORPAY_KEY_ID and settings.RAZORPAY_KEY_SECRET)


def stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _choice(real: str, real_configured: bool) -> str | None:
    if real_configured and not _forced_sandbox():
        return real
    return "sandbox" if sandbox_allowed() else None


def payments_configured() -> bool:
    return _choice("razorpay", razorpay_configured()) is not None


def subscriptions_configured() -> bool:
    return _choice("stripe", stripe_configured()) is not None


def sandbox_enabled() -> bool:
    """Whether the sandbox takes payments or subscriptions here now."""
    return "sandbox" in (
        _choice("razorpay", razorpay_configured()),
        _choice("stripe", stripe_configured()),
    )


def not_configured(what: str, keys: str) -> PaymentsNotConfigured:
    logger.warning(
        "%s asked for, but no provider is configured: set %s (or BILLING_SANDBOX=true to take "
        "them in the embedded sandbox, for local use only)",
        what,
        keys,
    )
    return PaymentsNotConfigured()


def payment_provider_name() -> str:
    """The provider new one-off payments go through. Raises PaymentsNotConfigured."""
    name = _choice("razorpay", razorpay_configured())
    if name is None:
        raise not_configured("a payment", "RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET")
    return name


def subscription_provider_name() -> str:
    """The provider new subscriptions go through. Raises PaymentsNotConfigured."""
    name = _choice("stripe", stripe_configured())
    if name is None:
        raise not_configured("a subscription", "STRIPE_SECRET_KEY and STRIPE_PRICE_IDS")
    return name


def usable(name: str) -> bool:
    """Whether a payer can still be sent to `name`'s checkout here."""
    if name == "sandbox":
        return sandbox_enabled()
    if name == "razorpay":
        return razorpay_configured()
    if name == "stripe":
        return stripe_configured()
    return False
