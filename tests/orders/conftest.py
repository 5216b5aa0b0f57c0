"""Fixtures for orders: the embedded sandbox takes the payments, as in tests/billing."""

from urllib.parse import urlsplit

import pytest

from billing.providers import sandbox


@pytest.fixture(autouse=True)
def _orders_defaults(settings):
    settings.BILLING_CURRENCY = "INR"
    settings.SITE_URL = "http://testserver"
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.RAZORPAY_KEY_ID = ""
    settings.RAZORPAY_KEY_SECRET = ""
    settings.RAZORPAY_WEBHOOK_SECRET = ""
    settings.BILLING_PROVIDER = "auto"
    settings.SANDBOX_WEBHOOK_URL = ""


@pytest.fixture
def sandbox_provider():
    return sandbox


def path_of(url: str) -> str:
    return urlsplit(url).path
