"""The payment providers, by name. Which one does what is read from the settings in
``billing.providers.config`` (re-exported here)."""

from billing.errors import NotFound
from billing.providers.base import PaymentProvider
from billing.providers.config import (
    not_configured,
    payment_provider_name,
    payments_configured,
    razorpay_configured,
    sandbox_allowed,
    sandbox_enabled,
    stripe_configured,
    subscription_provider_name,
    subscriptions_configured,
    usable,
)
from billing.providers.razorpay import RazorpayProvider
from billing.providers.sandbox import SandboxProvider
from billing.providers.stripe import StripeProvider

__all__ = [
    "NAMES",
    "PaymentProvider",
    "checkout_provider",
    "for_webhooks",
    "get",
    "payment_provider",
    "payment_provider_name",
    "payments_configured",
    "razorpay_configured",
    "sandbox_allowed",
    "sandbox_enabled",
    "stripe_configured",
    "subscription_provider",
    "subscription_provider_name",
    "subscriptions_configured",
    "usable",
]

_CLASSES: dict[str, type[PaymentProvider]] = {
    "sandbox": SandboxProvider,
    "stripe": StripeProvider,
    "razorpay": RazorpayProvider,
}
NAMES = tuple(_CLASSES)


def get(name: str) -> PaymentProvider:
    try:
        return _CLASSES[name]()
    except KeyError:
        raise NotFound(f"Unknown payment provider {name!r}.", code="unknown_provider") from None


def payment_provider() -> PaymentProvider:
    return get(payment_provider_name())


def subscription_provider() -> PaymentProvider:
    return get(subscription_provider_name())


def checkout_provider(name: str) -> PaymentProvider:
    """The provider of an existing payment, to send its payer to a checkout there again.
    Raises PaymentsNotConfigured when that provider is not set up here (any more)."""
    if not usable(name):
        raise not_configured(f"a {name} checkout", f"the {name} provider")
    return get(name)


def for_webhooks(name: str) -> PaymentProvider:
    """The provider whose webhooks `/api/billing/webhooks/<name>` accepts, or NotFound."""
    if name not in NAMES:
        raise NotFound(f"Unknown payment provider {name!r}.", code="unknown_provider")
    provider = get(name)
    if not provider.webhook_configured():
        raise NotFound(f"Webhooks from {name} are not configured here.", code="not_configured")
    return provider
