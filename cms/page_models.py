"""The showcase's pages: Discover (ArtistIndexPage), a page per musician (ArtistPage), and a
page per occasion. cms.models imports them (Django finds models there); they live apart so the
home page's blocks can read through cms.selectors, which needs these classes, without an import
circle.

What a page says about its musician that another app owns (styles, occasions, packages,
rating, availability, songs) is read from that app at render time (cms.musicians); the page
itself holds only what the musician writes for it (headline, bio, specializations, photos),
which goes through moderation.
"""

import json

from django.conf import settings
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Min, OuterRef, Subquery
from django.http import Http404
from django.utils.html import strip_tags
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from modelcluster.fields import ParentalKey
from wagtail import blocks
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.fields import StreamField
from wagtail.images.blocks import ImageChooserBlock
from wagtail.models import Orderable, Page, PagePermissionTester
from wagtail.search import index

from accounts.selectors import avatar_path, musicians_listed
from cms import musicians as reads
from cms.filters import DiscoverFilter, styles_listed
from orders.availability import musician_availability
from orders.models import Occasion, Package
from orders.wording import availability_label

DISCOVER_PAGE_SIZE = 12
OCCASION_MUSICIANS_SHOWN = 12
OG_IMAGE_SPEC = "fill-1200x630"

BODY_BLOCKS = [
    ("heading", blocks.CharBlock(form_classname="title")),
    ("paragraph", blocks.RichTextBlock()),
    ("image", ImageChooserBlock()),
    ("quote", blocks.BlockQuoteBlock()),
]


def json_ld(data: dict) -> str:
    """A JSON-LD script body safe inside <script>: no tag or entity can be closed from data."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    return mark_safe(  # noqa: S308 - the characters that could end the script are escaped
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )


class SeoMixin:
    """What every showcase page tells search engines and link previews."""

    def meta_description(self) -> str:
        return self.search_description or self.description_fallback()

    def description_fallback(self) -> str:
        return ""

    def og_image(self):
        """A Wagtail image for link previews, or None."""
        return None

    def og_image_url(self, request) -> str:
        image = self.og_image()
        if image is not None:
            url = image.get_rendition(OG_IMAGE_SPEC).url
        else:
            url = self.og_image_fallback_path() or ""
        if url and not url.startswith("http"):
            url = request.build_absolute_uri(url)
        return url

    def og_image_fallback_path(self) -> str | None:
        return None

    def structured_data(self, request) -> str | None:
        return None

    og_type = "website"

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["seo"] = {
            "canonical": self.get_full_url(request),
            "description": self.meta_description(),
            "image": self.og_image_url(request),
            "og_type": self.og_type,
            "json_ld": self.structured_data(request),
        }
        return context


# --- Discover --------------------------------------------------------------------------------


class ArtistIndexPage(SeoMixin, Page):
    """Discover: every listed musician's page, filtered, searched and paged."""

    intro = models.CharField(
        max_length=250, blank=True, default="Independent musicians who write songs to order."
    )

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.ArtistPage"]
    max_count = 1
    template = "cms/artist_index_page.html"

    class Meta:
        verbose_name = "Discover (musicians)"

    def description_fallback(self) -> str:
        return self.intro

    def artist_pages(self):
        """The live ArtistPages of listed musicians, with what a card shows, and the price of
        each musician's cheapest active package in the site's currency (for sorting)."""
        cheapest = (
            Package.objects.filter(
                musician=OuterRef("musician_id"), active=True, currency=settings.BILLING_CURRENCY
            )
            .values("musician")
            .annotate(lowest=Min("price"))
            .values("lowest")
        )
        return (
            ArtistPage.objects.live()
            .child_of(self)
            .filter(musician__in=musicians_listed())
            .select_related("musician__musician_profile", "photo")
            .annotate(cheapest_price=Subquery(cheapest))
        )

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        pages = self.artist_pages()
        filterset = DiscoverFilter(request.GET or None, queryset=pages)
        valid = filterset.is_valid() if filterset.is_bound else True
        paged = Paginator(filterset.sorted_queryset(), DISCOVER_PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        known = getattr(filterset, "availability", None)
        cards = reads.artist_cards(
            paged.object_list,
            availability={p.musician_id: known[p.musician_id] for p in paged.object_list}
            if known is not None
            else None,
        )
        query = request.GET.copy()
        query.pop("page", None)
        context.update(
            filterset=filterset,
            filter_errors=not valid,
            paged=paged,
            cards=cards,
            styles=styles_listed(pages),
            query_string=query.urlencode(),
            filtered=any(v for k, v in request.GET.items() if k not in ("page", "sort")),
        )
        return context

    def serve(self, request, *args, **kwargs):
        response = super().serve(request, *args, **kwargs)
        if getattr(response, "context_data", None) and response.context_data.get("filter_errors"):
            # A filter that makes no sense (a price that is not a number) is the asker's error.
            response.status_code = 400
        return response


# --- a musician's page -------------------------------------------------------------------------


class ArtistPagePermissionTester(PagePermissionTester):
    """Wagtail's rules, plus one: the musician a page belongs to may edit it (and so submit it
    for moderation), and nothing else: not publish, move, copy, delete or add below it."""

    def is_own_page(self) -> bool:
        user = self.user
        return (
            user.is_authenticated
            and user.is_active
            and getattr(user, "is_musician", False)
            and self.page.musician_id == user.pk
        )

    def can_edit(self):
        return super().can_edit() or self.is_own_page()

    def can_copy(self):
        return super().can_edit()


class ArtistPage(SeoMixin, Page):
    """One musician's showcase: what they write about themselves (moderated), and what Encore
    knows of them (styles, occasions, packages, rating, availability, songs)."""

    musician = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="artist_page",
        limit_choices_to={"is_musician": True},
        help_text="The musician this page belongs to; they may edit it, moderators publish it.",
    )
    headline = models.CharField(max_length=120, blank=True, help_text="One line under your name.")
    bio = models.TextField(blank=True, max_length=5000, help_text="About you and your music.")
    specializations = models.TextField(
        blank=True,
        max_length=1000,
        help_text='What you do best, one per line ("first-dance ballads", "rap tributes").',
    )
    photo = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Your main photo, also shown when the page is shared.",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("musician", permission="superuser"),
        FieldPanel("headline"),
        FieldPanel("bio"),
        FieldPanel("specializations"),
        FieldPanel("photo"),
        InlinePanel("gallery", label="Photos"),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("headline"),
        index.SearchField("bio"),
        index.SearchField("specializations"),
    ]
    parent_page_types = ["cms.ArtistIndexPage"]
    subpage_types = []
    template = "cms/artist_page.html"

    class Meta:
        verbose_name = "musician's page"

    og_type = "profile"

    def permissions_for_user(self, user):
        return ArtistPagePermissionTester(user, self)

    @property
    def specialization_list(self) -> list[str]:
        return [line.strip() for line in self.specializations.splitlines() if line.strip()]

    def musician_is_listed(self) -> bool:
        musician = self.musician
        return musician is not None and musician.is_active and musician.is_musician

    def description_fallback(self) -> str:
        text = self.headline or strip_tags(self.bio)
        return Truncator(" ".join(text.split())).chars(155)

    def og_image(self):
        return self.photo

    def og_image_fallback_path(self):
        return avatar_path(self.musician) if self.musician else None

    def get_sitemap_urls(self, request=None):
        if not self.musician_is_listed():
            return []
        return super().get_sitemap_urls(request)

    def serve(self, request, *args, **kwargs):
        # A musician who left, or stopped selling, has no public page.
        if not self.musician_is_listed():
            raise Http404("This musician is not on Encore any more.")
        return super().serve(request, *args, **kwargs)

    def showcase(self, request) -> dict:
        """Everything the page shows that another app owns, read now."""
        musician = self.musician
        profile = getattr(musician, "musician_profile", None)
        packages = reads.packages_by_musician([musician.pk]).get(musician.pk, [])
        availability = musician_availability(musician)
        return {
            "profile": profile,
            "styles": list((profile.styles if profile else None) or []),
            "occasions": reads.occasion_labels(
                reads.occasions_of(profile, {o for p in packages for o in (p.occasions or [])})
            ),
            "packages": packages,
            "availability": availability,
            "availability_label": availability_label(availability),
            "reviews": reads.musician_reviews(musician),
            "songs": reads.musician_songs(request.user, musician),
            "queue": f"musician:{musician.pk}",
        }

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(self.showcase(request))
        return context

    def structured_data(self, request) -> str:
        """schema.org data for search engines: the musician, their rating, their packages."""
        musician = self.musician
        profile = getattr(musician, "musician_profile", None)
        data = {
            "@context": "https://schema.org",
            "@type": "Person",
            "name": musician.display_name,
            "url": self.get_full_url(request),
            "jobTitle": "Musician",
        }
        description = self.meta_description()
        if description:
            data["description"] = description
        image = self.og_image_url(request)
        if image:
            data["image"] = image
        styles = list((profile.styles if profile else None) or [])
        if styles:
            data["genre"] = styles
        if profile is not None and profile.rating_count:
            data["aggregateRating"] = {
                "@type": "AggregateRating",
                "ratingValue": round(profile.rating_average or 0, 2),
                "ratingCount": profile.rating_count,
                "bestRating": 5,
                "worstRating": 1,
            }
        packages = reads.packages_by_musician([musician.pk]).get(musician.pk, [])
        if packages:
            data["makesOffer"] = [
                {
                    "@type": "Offer",
                    "name": package.name,
                    "description": package.description,
                    "price": f"{package.price / 100:.2f}",
                    "priceCurrency": package.currency,
                    "priceSpecification": {
                        "@type": "PriceSpecification",
                        "price": f"{package.price / 100:.2f}",
                        "priceCurrency": package.currency,
                    },
                    "itemOffered": {"@type": "Service", "name": f"Custom song: {package.name}"},
                }
                for package in packages
            ]
        return json_ld(data)


class ArtistPageGalleryImage(Orderable):
    page = ParentalKey(ArtistPage, on_delete=models.CASCADE, related_name="gallery")
    image = models.ForeignKey("wagtailimages.Image", on_delete=models.CASCADE, related_name="+")
    caption = models.CharField(max_length=200, blank=True)

    panels = [FieldPanel("image"), FieldPanel("caption")]


# --- occasions -------------------------------------------------------------------------------


class OccasionIndexPage(SeoMixin, Page):
    intro = models.CharField(max_length=250, blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro")]
    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.OccasionPage"]
    max_count = 1
    template = "cms/occasion_index_page.html"

    def description_fallback(self) -> str:
        return self.intro

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["occasion_pages"] = OccasionPage.objects.live().child_of(self)
        return context


class OccasionPage(SeoMixin, Page):
    """A song for one occasion: what to expect, and the musicians who take it."""

    occasion = models.CharField(max_length=20, choices=Occasion.choices, unique=True)
    intro = models.CharField(max_length=250, blank=True)
    image = models.ForeignKey(
        "wagtailimages.Image", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = StreamField(BODY_BLOCKS, blank=True, use_json_field=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("occasion"),
        FieldPanel("intro"),
        FieldPanel("image"),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    parent_page_types = ["cms.OccasionIndexPage"]
    subpage_types = []
    template = "cms/occasion_page.html"

    def description_fallback(self) -> str:
        return self.intro

    def og_image(self):
        return self.image

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        discover = ArtistIndexPage.objects.live().first()
        cards = []
        if discover is not None:
            filterset = DiscoverFilter(
                {"occasion": self.occasion}, queryset=discover.artist_pages()
            )
            pages = filterset.sorted_queryset()[:OCCASION_MUSICIANS_SHOWN]
            cards = reads.artist_cards(pages)
        context.update(
            cards=cards,
            discover=discover,
            occasion_label=Occasion(self.occasion).label,
        )
        return context
