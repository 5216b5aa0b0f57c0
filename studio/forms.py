"""The studio's forms. They check what a person typed and shape it for the services
(``orders.services``, ``catalog.services``), which stay the authority: an ``Invalid`` a service
raises on a field lands on that field."""

from decimal import Decimal

from django import forms
from django.conf import settings

from catalog.models import Album, Visibility
from catalog.services import MAX_GENRES
from notifications.formatting import ZERO_DECIMAL
from orders.forms import minor_units
from orders.models import Occasion
from orders.services import MAX_PRICE
from orders.services.matching import MAX_STYLE_LENGTH, MAX_STYLES

AUDIO_ACCEPT = "audio/*,.mp3,.wav,.flac,.m4a,.aac,.ogg"


def _names(text: str, *, limit: int, length: int, what: str) -> list[str]:
    """Comma-separated names, each once, in the order typed."""
    names = list(dict.fromkeys(name.strip() for name in (text or "").split(",") if name.strip()))
    if len(names) > limit:
        raise forms.ValidationError(f"At most {limit} {what}.")
    too_long = next((name for name in names if len(name) > length), None)
    if too_long is not None:
        raise forms.ValidationError(f"“{too_long[:20]}…” is too long: at most {length} characters.")
    return names


class ServiceErrorsMixin:
    def service_error(self, error) -> None:
        """Show a service's error on the field it names, or above the form."""
        # orders' errors name it as .field; the catalog's (core.errors.ServiceError) in .extra.
        named = getattr(error, "field", None) or getattr(error, "extra", {}).get("field")
        self.add_error(named if named in self.fields else None, error.message)


# --- settings -------------------------------------------------------------------------------


class AvailabilityForm(ServiceErrorsMixin, forms.Form):
    accepting_orders = forms.BooleanField(
        label="Taking new commissions",
        required=False,
        help_text="Untick to pause: no new offers reach you; the orders you hold go on.",
    )
    capacity = forms.IntegerField(
        label="Orders at once",
        min_value=1,
        max_value=50,
        help_text="Orders in progress plus offers waiting for you. Full, you get no new offers.",
    )
    away_from = forms.DateField(
        label="Away from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    away_until = forms.DateField(
        label="Away until",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Leave both empty when you are not going away.",
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("away_from"), data.get("away_until")
        if start and end and end < start:
            self.add_error("away_until", "The end of your time away comes after its start.")
        return data


class MatchingProfileForm(ServiceErrorsMixin, forms.Form):
    styles = forms.CharField(
        label="Styles you make",
        required=False,
        max_length=MAX_STYLES * (MAX_STYLE_LENGTH + 2),
        help_text=f"Separated by commas, up to {MAX_STYLES}: acoustic pop, ghazal, jazz.",
    )
    occasions = forms.MultipleChoiceField(
        label="Occasions you write for",
        required=False,
        choices=Occasion.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any occasion.",
    )

    def clean_styles(self):
        return _names(
            self.cleaned_data["styles"], limit=MAX_STYLES, length=MAX_STYLE_LENGTH, what="styles"
        )


class PackageForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(max_length=80)
    description = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    price = forms.DecimalField(
        label="Price",
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        help_text="What the customer pays in all: half up front, half on delivery.",
    )
    currency = forms.RegexField(
        regex=r"^[A-Za-z]{3}$",
        max_length=3,
        error_messages={"invalid": "A three-letter currency code, such as INR."},
    )
    delivery_days = forms.IntegerField(label="Delivered in (days)", min_value=1, max_value=365)
    revisions_included = forms.IntegerField(
        label="Revisions included", min_value=0, max_value=20, initial=1
    )
    occasions = forms.MultipleChoiceField(
        required=False,
        choices=Occasion.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: any occasion.",
    )

    def __init__(self, *args, package=None, **kwargs):
        if package is not None and "initial" not in kwargs:
            whole = package.currency in ZERO_DECIMAL
            price = Decimal(package.price) / (1 if whole else 100)
            kwargs["initial"] = {
                "name": package.name,
                "description": package.description,
                "price": price.quantize(Decimal(1) if whole else Decimal("0.01")),
                "currency": package.currency,
                "delivery_days": package.delivery_days,
                "revisions_included": package.revisions_included,
                "occasions": package.occasions,
            }
        kwargs.setdefault("initial", {"currency": settings.BILLING_CURRENCY})
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        price, currency = data.get("price"), (data.get("currency") or "").upper()
        if price is not None and currency:
            if currency in ZERO_DECIMAL and price != price.to_integral_value():
                self.add_error("price", f"{currency} has no cents: a whole amount.")
            elif minor_units(price, currency) > MAX_PRICE:
                self.add_error("price", "That is more than a package can cost.")
        return data

    def service_arguments(self) -> dict:
        """What ``package_create`` and ``package_update`` take: the price in minor units."""
        data = dict(self.cleaned_data)
        data["currency"] = data["currency"].upper()
        data["price"] = minor_units(data["price"], data["currency"])
        return data


# --- the catalog ----------------------------------------------------------------------------


class _CatalogForm(ServiceErrorsMixin, forms.Form):
    genres = forms.CharField(
        required=False,
        max_length=MAX_GENRES * 62,
        help_text=f"Separated by commas, up to {MAX_GENRES}: new names become genres.",
    )
    visibility = forms.ChoiceField(
        choices=Visibility.choices,
        initial=Visibility.PUBLIC,
        help_text="Private: only you hear it, listed nowhere.",
    )

    def clean_genres(self):
        return _names(self.cleaned_data["genres"], limit=MAX_GENRES, length=60, what="genres")


class AlbumForm(_CatalogForm):
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    release_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    field_order = ["title", "description", "release_date", "genres", "visibility"]

    @classmethod
    def initial_of(cls, album: Album) -> dict:
        return {
            "title": album.title,
            "description": album.description,
            "release_date": album.release_date,
            "genres": ", ".join(genre.name for genre in album.genres.all()),
            "visibility": album.visibility,
        }


class SongForm(_CatalogForm):
    """Edit a song; ``SongUploadForm`` adds its audio. The album is one of the musician's own."""

    title = forms.CharField(max_length=200)
    album = forms.ModelChoiceField(
        queryset=Album.objects.none(), required=False, empty_label="No album (a single)"
    )
    track_number = forms.IntegerField(label="Track number", required=False, min_value=1)
    lyrics = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )
    explicit = forms.BooleanField(label="Explicit lyrics", required=False)
    field_order = ["title", "album", "track_number", "genres", "visibility", "lyrics", "explicit"]

    def __init__(self, *args, albums, album=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["album"].queryset = albums
        if album is not None:
            # Uploaded from the album's page: the album is that one, not a choice.
            del self.fields["album"]

    @classmethod
    def initial_of(cls, song) -> dict:
        return {
            "title": song.title,
            "album": song.album_id,
            "track_number": song.track_number,
            "genres": ", ".join(genre.name for genre in song.genres.all()),
            "visibility": song.visibility,
            "lyrics": song.lyrics,
            "explicit": song.explicit,
        }


class SongUploadForm(SongForm):
    audio = forms.FileField(
        label="Audio file",
        help_text="MP3, WAV, FLAC, M4A/AAC or Ogg. It plays at once; the other qualities follow.",
        widget=forms.ClearableFileInput(attrs={"accept": AUDIO_ACCEPT}),
    )
    field_order = ["audio", *SongForm.field_order]
