"""Page-tree services: making sure the site root is Encore's HomePage."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from wagtail.models import Locale, Page, Site

from cms.models import HomePage

HOME_DEFAULTS = {"title": "Encore", "slug": "home"}

HOME_BODY = [
    (
        "hero",
        {
            "title": "Songs made for the people you love",
            "text": (
                "<p>Commission a custom song from a real musician for a birthday, a wedding or "
                "a proposal, or stream a catalog of independent artists.</p>"
            ),
            "commission_label": "Commission a song",
            "listen_label": "Start listening",
        },
    ),
    ("featured_musicians", {"heading": "Featured musicians", "musicians": [], "count": 4}),
    ("occasions", {"heading": "A song for every occasion", "text": ""}),
    (
        "how_it_works",
        {
            "heading": "How it works",
            "steps": [
                {
                    "title": "Tell us the story",
                    "text": "Who it is for, the occasion, the names and memories to put in.",
                },
                {
                    "title": "Pay half up front",
                    "text": "Your deposit is held safely until you approve the song.",
                },
                {
                    "title": "Hear the drafts",
                    "text": "Listen to watermarked previews and ask for changes.",
                },
                {
                    "title": "Get your song",
                    "text": "Approve it, pay the balance and download the finals.",
                },
            ],
        },
    ),
    ("testimonials", {"heading": "What customers say", "count": 3}),
    ("new_music", {"heading": "New music", "count": 6}),
]


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
        home = HomePage(**HOME_DEFAULTS, body=HOME_BODY)
        root.refresh_from_db()
        root.add_child(instance=home)
        home.save_revision().publish()
    hostname, port = site_address()
    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        Site.objects.create(
            hostname=hostname, port=port, root_page=home, is_default_site=True, site_name="Encore"
        )
    elif site.root_page_id != home.pk or (site.hostname, site.port) == WAGTAIL_INSTALL_ADDRESS:
        site.root_page = home
        site.site_name = site.site_name or "Encore"
        # Canonical links, Open Graph URLs and the sitemap are built from the Site's address;
        # the one Wagtail's install leaves (localhost:80) is nobody's real address. An address
        # staff set in the admin is kept.
        if (site.hostname, site.port) == WAGTAIL_INSTALL_ADDRESS:
            site.hostname, site.port = hostname, port
        site.save()
    return home


WAGTAIL_INSTALL_ADDRESS = ("localhost", 80)


def site_address() -> tuple[str, int]:
    """The host and port of SITE_URL, where people reach this deployment."""
    url = urlsplit(settings.SITE_URL)
    return url.hostname or "localhost", url.port or (443 if url.scheme == "https" else 80)


@transaction.atomic
def home_page_blocks_ensure() -> HomePage:
    """Give a home page that has at most its hero the showcase's other blocks (featured
    musicians, occasions, how it works, testimonials, new music); an edited home is kept."""
    home = home_page_ensure()
    draft = home.get_latest_revision_as_object()
    kinds = [block.block_type for block in draft.body]
    if set(kinds) - {"hero"}:
        return home
    hero = [(block.block_type, block.value) for block in draft.body if block.block_type == "hero"]
    draft.body = hero + [block for block in HOME_BODY if block[0] != "hero" or not hero]
    draft.save_revision(log_action=True).publish()
    return HomePage.objects.get(pk=home.pk)
