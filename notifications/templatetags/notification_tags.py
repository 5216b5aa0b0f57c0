from django import template

from notifications import formatting

register = template.Library()


@register.filter
def money(amount_minor, currency):
    """``{{ amount_minor|money:currency }}`` -> ``₹1,234.50``."""
    return formatting.money(amount_minor, currency)


@register.filter
def when(value):
    """``{{ expires_at|when }}`` -> ``12 Mar 2026, 14:05 UTC``."""
    if not hasattr(value, "year"):
        return value or ""
    return formatting.when(value)
