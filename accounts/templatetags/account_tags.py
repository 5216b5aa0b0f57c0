from django import template

from accounts.selectors import avatar_path

register = template.Library()


@register.filter
def avatar_url(user):
    """``{{ person|avatar_url }}``: the URL of the avatar they uploaded ("" without one)."""
    return avatar_path(user) or ""
