from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from billing.models import Payment, PayoutAccount, Subscription, SubscriptionStatus
from tests.factories import MusicianFactory, UserFactory


def no_provider_keys(settings) -> None:
    """No Stripe or Razorpay keys and no sandbox webhook URL: provider "auto" finds only the
    sandbox (when it is on), which hands its webhooks over in process."""
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.RAZORPAY_KEY_ID = ""
    settings.RAZORPAY_KEY_SECRET = ""
    settings.RAZORPAY_WEBHOOK_SECRET = ""
    settings.BILLING_PROVIDER = "auto"
    settings.SANDBOX_WEBHOOK_URL = ""


class PaymentFactory(DjangoModelFactory):
    class Meta:
        model = Payment

    payer = factory.SubFactory(UserFactory)
    provider = "sandbox"
    purpose = "order_deposit"
    reference = factory.Sequence(lambda n: f"order-{n}")
    amount = 250000
    currency = "INR"
    provider_order_id = factory.Sequence(lambda n: f"order_{n:010d}")


class SubscriptionFactory(DjangoModelFactory):
    """A live subscription (as if the provider had confirmed it)."""

    class Meta:
        model = Subscription

    user = factory.SubFactory(UserFactory)
    plan = "premium_individual"
    status = SubscriptionStatus.ACTIVE
    provider = "sandbox"
    provider_subscription_id = factory.Sequence(lambda n: f"sub_test_{n:08d}")
    amount = 11900
    currency = "INR"
    started_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))
    current_period_start = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))
    current_period_end = factory.LazyAttribute(
        lambda o: o.current_period_start + timedelta(days=30)
    )
    synced_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))


class PayoutAccountFactory(DjangoModelFactory):
    """A musician's sandbox payout account."""

    class Meta:
        model = PayoutAccount

    user = factory.SubFactory(MusicianFactory)
    provider = "sandbox"
    account_id = factory.Sequence(lambda n: f"sbx_musician_{n}")
