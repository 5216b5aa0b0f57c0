"""The bell in the site header: the unread count, counted only when a template shows it."""

from functools import cached_property

from notifications import selectors


class Bell:
    def __init__(self, user):
        self.user = user

    @cached_property
    def unread(self) -> int:
        if self.user is None or not self.user.is_authenticated:
            return 0
        return selectors.unread_count(user=self.user)


def bell(request):
    return {"notification_bell": Bell(getattr(request, "user", None))}
