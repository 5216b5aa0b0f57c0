"""The home page's blocks. Editors arrange them; the blocks that show live data (musicians,
occasions, reviews, new songs) read it from cms.selectors when the page is rendered, so the home
page is never a stale copy of the marketplace."""

from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

from cms import selectors


class HeroBlock(blocks.StructBlock):
    title = blocks.CharBlock(max_length=120, default="Songs made for the people you love")
    text = blocks.RichTextBlock(features=["bold", "italic", "link"], required=False)
    commission_label = blocks.CharBlock(max_length=60, default="Commission a song")
    listen_label = blocks.CharBlock(max_length=60, default="Start listening")
    image = ImageChooserBlock(required=False)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["discover_url"] = selectors.discover_url()
        return context

    class Meta:
        icon = "title"
        template = "cms/blocks/hero.html"


class FeaturedMusiciansBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120, default="Featured musicians")
    musicians = blocks.ListBlock(
        blocks.PageChooserBlock(page_type="cms.ArtistPage"),
        required=False,
        help_text="Pick musicians to feature; left empty, the best rated are shown.",
    )
    count = blocks.IntegerBlock(default=4, min_value=1, max_value=12)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        picked = [page.pk for page in value["musicians"] if page is not None]
        context["cards"] = selectors.artist_cards_featured(picked_ids=picked, count=value["count"])
        context["discover_url"] = selectors.discover_url()
        return context

    class Meta:
        icon = "group"
        template = "cms/blocks/featured_musicians.html"


class OccasionsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120, default="A song for every occasion")
    text = blocks.CharBlock(max_length=250, required=False)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["occasion_pages"] = selectors.occasion_pages_live()
        return context

    class Meta:
        icon = "date"
        template = "cms/blocks/occasions.html"


class HowItWorksBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120, default="How it works")
    steps = blocks.ListBlock(
        blocks.StructBlock(
            [
                ("title", blocks.CharBlock(max_length=80)),
                ("text", blocks.TextBlock(max_length=400)),
            ]
        )
    )

    class Meta:
        icon = "list-ol"
        template = "cms/blocks/how_it_works.html"


class TestimonialsBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120, default="What customers say")
    count = blocks.IntegerBlock(default=3, min_value=1, max_value=12)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        context["testimonials"] = selectors.testimonials(count=value["count"])
        return context

    class Meta:
        icon = "openquote"
        template = "cms/blocks/testimonials.html"


class NewMusicBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120, default="New music")
    count = blocks.IntegerBlock(default=6, min_value=1, max_value=20)

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context)
        request = (parent_context or {}).get("request")
        user = getattr(request, "user", None)
        context["songs"] = selectors.songs_newest(user, count=value["count"])
        return context

    class Meta:
        icon = "media"
        template = "cms/blocks/new_music.html"


EDITORIAL_BLOCKS = [
    ("heading", blocks.CharBlock(form_classname="title")),
    ("paragraph", blocks.RichTextBlock()),
    ("image", ImageChooserBlock()),
]

HOME_BLOCKS = [
    ("hero", HeroBlock()),
    ("featured_musicians", FeaturedMusiciansBlock()),
    ("occasions", OccasionsBlock()),
    ("how_it_works", HowItWorksBlock()),
    ("testimonials", TestimonialsBlock()),
    ("new_music", NewMusicBlock()),
    *EDITORIAL_BLOCKS,
]
