"""Page-tree services: making sure the site root is Encore's HomePage."""

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from wagtail.models import Locale, Page, Site

from cms.models import HomePage

HOME_DEFAULTS = {
    "title": "Encore",
    "slug": "home",
    "hero_title": "Songs made for the people you love",
    "hero_text": (
        "<p>Commission a custom song from a real musician for a birthday, a wedding or a "
        "proposal, or stream a catalog of independent artists.</p>"
    ),
}


def _tree_root_create() -> Page:
    """The page tree's root, for a database whose tree was emptied (Wagtail's migrations make
    it on a fresh one)."""
    if not Locale.objects.exists():
        Locale.objects.create(language_code="en")
    return Page.add_root(
        instance=Page(
            title="Root", slug="root", content_type=ContentType.objects.get_for_model(Page)
        )
    )


@transaction.atomic
def home_page_ensure() -> HomePage:
    """Return the site's HomePage, creating it (and pointing the default Site at it) if needed."""
    home = HomePage.objects.first()
    if home is None:
        root = Page.get_first_root_node() or _tree_root_create()
        # Wagtail's install creates a placeholder "Welcome" page in the home slot; it gives way.
        for placeholder in root.get_children().exact_type(Page):
            if placeholder.slug == "home":
                placeholder.delete()
        home = HomePage(**HOME_DEFAULTS)
        root.refresh_from_db()
        root.add_child(instance=home)
        home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="Encore"
        )
    elif site.root_page_id != home.pk:
        site.root_page = home
        site.site_name = site.site_name or "Encore"
        site.save()
    return home
