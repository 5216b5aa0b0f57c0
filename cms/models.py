from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from cms.blocks import HOME_BLOCKS
from cms.page_models import (  # noqa: F401 - Django finds the app's models here
    BODY_BLOCKS,
    ArtistIndexPage,
    ArtistPage,
    ArtistPageGalleryImage,
    OccasionIndexPage,
    OccasionPage,
    SeoMixin,
)


class HomePage(SeoMixin, Page):
    """The site root, built from blocks: the hero, featured musicians, occasions, how it works,
    testimonials from real reviews and new music from the catalog. The blocks that show live data
    read it when the page is rendered (cms/blocks.py)."""

    body = StreamField(HOME_BLOCKS, blank=True, use_json_field=True)

    content_panels = [*Page.content_panels, FieldPanel("body")]

    max_count = 1
    parent_page_types = ["wagtailcore.Page"]
    template = "cms/home_page.html"

    def description_fallback(self) -> str:
        return "Commission a custom song from a real musician, or stream independent artists."


class StandardPage(SeoMixin, Page):
    """About, FAQ, terms: plain editorial pages."""

    intro = models.CharField(max_length=250, blank=True)
    body = StreamField(BODY_BLOCKS, blank=True, use_json_field=True)

    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    template = "cms/standard_page.html"

    def description_fallback(self) -> str:
        return self.intro
