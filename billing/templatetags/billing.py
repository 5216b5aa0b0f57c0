from django import template

from billing import plans
from notifications.formatting import money as format_money

register = template.Library()


@register.filter
def money(amount_minor, currency):
    """``{{ amount|money:currency }}``: 11900, "INR" -> ₹119.00."""
    return format_money(amount_minor, currency)


@register.filter
def plan_name(code):
    plan = plans.PLANS.get(code)
    return plan.name if plan else code
