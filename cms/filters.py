"""Discover's filters (django-filter), over a queryset of ArtistPages passed in.

Styles and occasions are JSON lists; SQLite's JSON lookups cannot test containment, so those
filters read the few columns they need and narrow the queryset by musician id (as
orders.selectors.match_packages does for occasions). Availability is a rule in Python
(orders.availability), asked in bulk for the musicians left after every other filter.
"""

from datetime import timedelta
from decimal import Decimal

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from orders.availability import musicians_availability
from orders.models import MusicianProfile, Occasion, Package

RATING_CHOICES = [("4.5", "4.5 and up"), ("4", "4 and up"), ("3", "3 and up")]
AVAILABILITY_CHOICES = [
    ("now", "Available now"),
    ("14", "Free within 2 weeks"),
    ("30", "Free within a month"),
]
SORT_CHOICES = [("name", "Name"), ("rating", "Best rated"), ("price", "Lowest price")]


def styles_listed(queryset) -> list[str]:
    """Every style the listed musicians name, for the genre choices (one query)."""
    styles = set()
    for row in MusicianProfile.objects.filter(
        musician_id__in=queryset.values("musician_id")
    ).values_list("styles", flat=True):
        styles.update(style.lower() for style in row or [])
    return sorted(styles)


class DiscoverForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("price_min"), cleaned.get("price_max")
        if low is not None and high is not None and low > high:
            self.add_error("price_max", "The highest price must be at least the lowest.")
        return cleaned


class DiscoverFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search", max_length=100)
    genre = django_filters.CharFilter(method="filter_genre", label="Genre or style", max_length=60)
    occasion = django_filters.ChoiceFilter(
        choices=Occasion.choices, method="filter_occasion", empty_label="Any occasion"
    )
    price_min = django_filters.NumberFilter(
        method="filter_price",
        label="Price from",
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=2,
    )
    price_max = django_filters.NumberFilter(
        method="filter_price",
        label="Price up to",
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=2,
    )
    rating = django_filters.ChoiceFilter(
        choices=RATING_CHOICES, method="filter_rating", empty_label="Any rating"
    )
    availability = django_filters.ChoiceFilter(
        choices=AVAILABILITY_CHOICES, method="filter_availability", empty_label="Any time"
    )
    sort = django_filters.ChoiceFilter(
        choices=SORT_CHOICES, method="filter_sort", empty_label=None, label="Sort by"
    )

    class Meta:
        form = DiscoverForm
        fields = []

    def filter_q(self, queryset, name, value):
        words = value.strip()
        if not words:
            return queryset
        return queryset.filter(
            Q(title__icontains=words)
            | Q(musician__display_name__icontains=words)
            | Q(headline__icontains=words)
            | Q(bio__icontains=words)
            | Q(specializations__icontains=words)
            | Q(musician__musician_profile__styles__icontains=words)
        )

    def filter_genre(self, queryset, name, value):
        wanted = value.strip().lower()
        if not wanted:
            return queryset
        rows = MusicianProfile.objects.filter(
            musician_id__in=queryset.values("musician_id")
        ).values_list("musician_id", "styles")
        ids = [pk for pk, styles in rows if wanted in {s.lower() for s in styles or []}]
        return queryset.filter(musician_id__in=ids)

    def filter_occasion(self, queryset, name, value):
        listed = queryset.values("musician_id")
        ids = {
            pk
            for pk, occasions in MusicianProfile.objects.filter(musician_id__in=listed).values_list(
                "musician_id", "occasions"
            )
            if value in (occasions or [])
        }
        ids |= {
            pk
            for pk, occasions in Package.objects.filter(
                musician_id__in=listed, active=True
            ).values_list("musician_id", "occasions")
            if value in (occasions or [])
        }
        return queryset.filter(musician_id__in=ids)

    def filter_price(self, queryset, name, value):
        # Both bounds are applied together, by the first of the two fields that is set, so one
        # package must fit the whole range (not one cheap and another dear).
        data = self.form.cleaned_data
        low, high = data.get("price_min"), data.get("price_max")
        if name == "price_max" and low is not None:
            return queryset
        packages = Package.objects.filter(
            musician=OuterRef("musician_id"), active=True, currency=settings.BILLING_CURRENCY
        )
        if low is not None:
            packages = packages.filter(price__gte=int(low * 100))
        if high is not None:
            packages = packages.filter(price__lte=int(high * 100))
        return queryset.filter(Exists(packages))

    def filter_rating(self, queryset, name, value):
        return queryset.filter(musician__musician_profile__rating_average__gte=float(value))

    def filter_availability(self, queryset, name, value):
        today = timezone.now().date()
        by = today if value == "now" else today + timedelta(days=int(value))
        pages = list(queryset.select_related("musician__musician_profile"))
        self.availability = musicians_availability([page.musician for page in pages], on=today)
        ids = []
        for page in pages:
            free = self.availability[page.musician_id]
            free_on = today if free.available else free.next_free_date
            if free_on is not None and free_on <= by:
                ids.append(page.pk)
        return queryset.filter(pk__in=ids)

    def filter_sort(self, queryset, name, value):
        return queryset

    def sorted_queryset(self):
        sort = self.form.cleaned_data.get("sort") if self.is_valid() else None
        queryset = self.qs
        if sort == "rating":
            return queryset.order_by(
                F("musician__musician_profile__rating_average").desc(nulls_last=True),
                "musician__display_name",
            )
        if sort == "price":
            return queryset.order_by(
                F("cheapest_price").asc(nulls_last=True), "musician__display_name"
            )
        return queryset.order_by("musician__display_name", "pk")
