from django.db import models
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import Page
from wagtail.search import index


class HomePage(Page):
    """The site root: what Encore is, with the two ways in (commission, listen)."""

    hero_title = models.CharField(max_length=120, default="Songs made for the people you love")
    hero_text = RichTextField(blank=True, features=["bold", "italic", "link"])
    commission_cta = models.CharField(max_length=60, default="Commission a song")
    listen_cta = models.CharField(max_length=60, default="Start listening")
    body = StreamField(
        [
            ("heading", blocks.CharBlock(form_classname="title")),
            ("paragraph", blocks.RichTextBlock()),
            ("image", ImageChooserBlock()),
        ],
        blank=True,
        use_json_field=True,
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("hero_title"),
        FieldPanel("hero_text"),
        FieldPanel("commission_cta"),
        FieldPanel("listen_cta"),
        FieldPanel("body"),
    ]

    max_count = 1
    parent_page_types = ["wagtailcore.Page"]
    template = "cms/home_page.html"


class StandardPage(Page):
    """About, FAQ, terms: plain editorial pages."""

    intro = models.CharField(max_length=250, blank=True)
    body = StreamField(
        [
            ("heading", blocks.CharBlock(form_classname="title")),
            ("paragraph", blocks.RichTextBlock()),
            ("image", ImageChooserBlock()),
            ("quote", blocks.BlockQuoteBlock()),
        ],
        blank=True,
        use_json_field=True,
    )

    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    template = "cms/standard_page.html"
