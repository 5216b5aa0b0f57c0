from django.db.models import QuerySet

from accounts.models import User


def musicians_listed() -> QuerySet[User]:
    """Musicians a visitor may discover: active accounts only."""
    return User.objects.filter(is_musician=True, is_active=True).order_by("display_name")
