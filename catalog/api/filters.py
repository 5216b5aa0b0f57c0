"""Song list filters (django-filter): genre, artist, album, release dates, and tempo, key, mode
and energy from the analysis; ordering by plays, likes, release date or creation."""

import django_filters
from django.db.models import Q

from audio.models import PITCH_CHOICES, AudioAnalysis
from catalog.models import Song


class SongFilter(django_filters.FilterSet):
    genre = django_filters.CharFilter(method="filter_genre", help_text="A genre's slug or name.")
    artist = django_filters.UUIDFilter(field_name="artist_id")
    album = django_filters.UUIDFilter(field_name="album_id")
    released_after = django_filters.DateFilter(field_name="release_date", lookup_expr="gte")
    released_before = django_filters.DateFilter(field_name="release_date", lookup_expr="lte")
    tempo_min = django_filters.NumberFilter(method="filter_tempo", min_value=0)
    tempo_max = django_filters.NumberFilter(method="filter_tempo", min_value=0)
    key = django_filters.ChoiceFilter(field_name="asset__analysis__key", choices=PITCH_CHOICES)
    mode = django_filters.ChoiceFilter(
        field_name="asset__analysis__mode", choices=AudioAnalysis.Mode.choices
    )
    energy_min = django_filters.NumberFilter(
        field_name="asset__analysis__energy", lookup_expr="gte"
    )
    energy_max = django_filters.NumberFilter(
        field_name="asset__analysis__energy", lookup_expr="lte"
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("play_count", "plays"),
            ("like_count", "likes"),
            ("release_date", "release_date"),
            ("created_at", "created"),
        )
    )

    class Meta:
        model = Song
        fields = []

    def filter_tempo(self, queryset, name, value):
        return queryset  # both bounds are applied together in filter_queryset

    def filter_genre(self, queryset, name, value):
        return queryset.filter(Q(genres__slug=value) | Q(genres__name__iexact=value)).distinct()

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        low = self.form.cleaned_data.get("tempo_min")
        high = self.form.cleaned_data.get("tempo_max")
        if low is None and high is None:
            return queryset
        # A song felt at half or double its tempo matches through its alternative reading too;
        # each reading must fall inside the whole range on its own.
        readings = Q(pk__in=[])
        for field in ("asset__analysis__tempo_bpm", "asset__analysis__tempo_alt_bpm"):
            reading = Q(**{f"{field}__isnull": False})
            if low is not None:
                reading &= Q(**{f"{field}__gte": low})
            if high is not None:
                reading &= Q(**{f"{field}__lte": high})
            readings |= reading
        return queryset.filter(readings)
