"""The Wagtail admin as the showcase needs it: a musician made or turned musician in the admin
gets their page, and a musician in the admin finds their own page (the only one they may edit,
cms.page_models.ArtistPagePermissionTester)."""

from django.urls import reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from cms.services import artist_page_ensure


@hooks.register("after_create_user")
def musician_page_after_create(request, user):
    artist_page_ensure(user)


@hooks.register("after_edit_user")
def musician_page_after_edit(request, user):
    artist_page_ensure(user)


class OwnPageMenuItem(MenuItem):
    def is_shown(self, request):
        return getattr(request.user, "is_musician", False) and hasattr(request.user, "artist_page")

    def render_component(self, request):
        self.url = reverse("wagtailadmin_pages:edit", args=[request.user.artist_page.pk])
        return super().render_component(request)


@hooks.register("register_admin_menu_item")
def own_page_menu_item():
    return OwnPageMenuItem("My page", "#", icon_name="user", order=50)
