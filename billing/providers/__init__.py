"""Which provider does what, chosen by configuration (DESIGN.md section 3).

- one-off payments (commission milestones): Razorpay when its keys are set, else the sandbox;
- listener subscriptions: Stripe when STRIPE_SECRET_KEY is set, else the sandbox;
- ``BILLING_PROVIDER=sandbox`` forces the sandbox for both.

The sandbox's webhook endpoint and checkout pages exist only while the sandbox is in use, so a
production deployment with real providers accepts no sandbox-signed event.
"""

from django.conf import settings

from billing.errors import NotFound
from billing.providers.base import PaymentProvider

NAMES = ("sandbox", "stripe", "razorpay")


def get(name: str) -> PaymentProvider:
    if name == "sandbox":
        from billing.providers.sandbox import SandboxProvider

        return SandboxProvider()
    if name == "stripe":
        from billing.providers.stripe import StripeProvider

        return StripeProvider()
    if name == "razorpay":
        from billing.providers.razorpay import RazorpayProvider

        return RazorpayProvider()
    raise NotFound(f"Unknown payment provider {name!r}.", code="unknown_provider")


def _forced_sandbox() -> bool:
    return settings.BILLING_PROVIDER == "sandbox"


def razorpay_configured() -> bool:
    return bool(settings.RAZORPAY_KEY_ID and settings.RAZORPAY_KEY_SECRET)


def stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def payment_provider_name() -> str:
    if not _forced_sandbox() and razorpay_configured():
        return "razorpay"
    return "sandbox"


def subscription_provider_name() -> str:
    if not _forced_sandbox() and stripe_configured():
        return "stripe"
    return "sandbox"


def payment_provider() -> PaymentProvider:
    return get(payment_provider_name())


def subscription_provider() -> PaymentProvider:
    return get(subscription_provider_name())


def sandbox_enabled() -> bool:
    return "sandbox" in (payment_provider_name(), subscription_provider_name())


def for_webhooks(name: str) -> PaymentProvider:
    """The provider whose webhooks `/api/billing/webhooks/<name>` accepts, or NotFound."""
    if name not in NAMES:
        raise NotFound(f"Unknown payment provider {name!r}.", code="unknown_provider")
    provider = get(name)
    if not provider.webhook_configured():
        raise NotFound(f"Webhooks from {name} are not configured here.", code="not_configured")
    return provider
