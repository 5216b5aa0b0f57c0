"""The Wagtail admin's people screens: Encore's own fields, and each person's role.

A role says what someone does on Encore, which spans apps (a customer is someone who has
commissioned a song, an orders fact), so the screens live here in cms, the presentation layer
above the domain apps; the forms they use are accounts' (accounts/wagtail_admin.py).
"""

from django.db.models import Exists, OuterRef
from django.utils.functional import cached_property
from wagtail.admin.ui.tables import Column
from wagtail.users.views.users import IndexView as WagtailIndexView
from wagtail.users.views.users import UserViewSet as WagtailUserViewSet

from accounts.wagtail_admin import EncoreUserCreationForm, EncoreUserEditForm
from orders.models import Order

ROLES = {
    "staff": "Staff",
    "musician": "Musician",
    "customer": "Customer",
    "listener": "Listener",
}


def person_role(user) -> str:
    """The one role a person is listed with, the most specific first: staff run the site,
    musicians sell, customers have commissioned at least one song, everyone else listens.
    `user` carries ``has_commissioned`` (see ``IndexView.get_base_queryset``)."""
    if user.is_staff:
        return "staff"
    if user.is_musician:
        return "musician"
    if user.has_commissioned:
        return "customer"
    return "listener"


class IndexView(WagtailIndexView):
    @cached_property
    def columns(self):
        columns = list(super().columns)
        position = next(i for i, column in enumerate(columns) if column.name == "is_superuser")
        columns.insert(
            position,
            Column(
                "role",
                accessor=lambda user: ROLES[person_role(user)],
                label="Role",
                classname="role",
                width="10%",
            ),
        )
        return columns

    def get_base_queryset(self):
        # One subquery in the list's own query: no query per person.
        return (
            super()
            .get_base_queryset()
            .annotate(has_commissioned=Exists(Order.objects.filter(customer=OuterRef("pk"))))
        )


class UserViewSet(WagtailUserViewSet):
    index_view_class = IndexView

    def get_form_class(self, for_update=False):
        return EncoreUserEditForm if for_update else EncoreUserCreationForm
