"""Formatting shared by templates and WhatsApp template variables: money and times."""

from datetime import UTC, datetime

from django.utils import timezone

# Currencies without minor units (ISO 4217 exponent 0) among those we may see.
ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX"}
SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$"}


def money(amount_minor, currency: str) -> str:
    """``money(123450, "INR") == "₹1,234.50"``; unknown currencies get their code."""
    try:
        amount = int(amount_minor)
    except (TypeError, ValueError):
        return ""
    currency = (currency or "").upper()
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    whole, cents = divmod(amount, 100)
    number = f"{amount:,}" if currency in ZERO_DECIMAL else f"{whole:,}.{cents:02d}"
    symbol = SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency} {number}".strip()


def when(value: datetime) -> str:
    """A time as people read it in a message: ``12 Mar 2026, 14:05 UTC``."""
    if timezone.is_aware(value):
        value = value.astimezone(UTC)
    return f"{value.day} {value:%b %Y, %H:%M} UTC"
