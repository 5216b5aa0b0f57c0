"""Who may open the staff's order screens in the Wagtail admin: staff (``is_staff``), the same
people the order services treat as staff (``orders.services.base.is_staff``). Anybody else who
can enter the admin (a musician editing their own page) gets Wagtail's permission denied."""

from functools import wraps

from django.contrib.auth import get_user_model
from wagtail.admin.auth import permission_denied
from wagtail.permission_policies.base import BasePermissionPolicy

from orders.services.base import is_staff


class StaffReadOnlyPolicy(BasePermissionPolicy):
    """Staff may look; nobody adds, edits or deletes through the admin: orders and disputes
    change only through the orders services."""

    def user_has_permission(self, user, action):
        return action == "view" and user.is_active and is_staff(user)

    def users_with_any_permission(self, actions):
        users = get_user_model().objects.filter(is_active=True, is_staff=True)
        return users if "view" in actions else users.none()


def staff_only(view):
    """A view for staff only (the admin's own login check runs first)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_active and is_staff(request.user)):
            return permission_denied(request)
        return view(request, *args, **kwargs)

    return wrapped
