from django.db.models import QuerySet
from django.urls import reverse

from accounts.models import User


def musicians_listed() -> QuerySet[User]:
    """Musicians a visitor may discover: active accounts only."""
    return User.objects.filter(is_musician=True, is_active=True).order_by("display_name")


def avatar_path(user: User) -> str | None:
    """Where the avatar a person uploaded is served, or None when they have none.

    The stored file's name is part of the URL, so a new avatar is a new URL and caches (the
    view is cached for an hour) pick it up at once. The site, the API and the Wagtail admin all
    show this one avatar.
    """
    if not user.avatar:
        return None
    version = user.avatar.name.rsplit("/", 1)[-1].split(".")[0][:8]
    return f"{reverse('accounts:avatar', kwargs={'user_id': user.pk})}?v={version}"
