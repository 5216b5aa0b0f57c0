"""Checks billing's services share: money amounts, currency codes, links to the site."""

from django.conf import settings

from billing.errors import Invalid


def currency_code(value) -> str:
    currency = str(value or "").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise Invalid(f"Not a currency code: {value!r}.", code="invalid_currency")
    return currency


def positive_amount(value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise Invalid("Amounts are positive integers in minor units.", code="invalid_amount")
    return value


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def local_path(value: str) -> str:
    """`value` when it is a path on this site, else "" (never an open redirect)."""
    return value if value.startswith("/") and not value.startswith("//") else ""
