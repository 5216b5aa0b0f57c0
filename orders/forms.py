"""The commission form, in three steps (brief, style, musician and budget).

Each step checks its own fields here so the customer hears about a mistake on the step that
made it: the occasion date is checked on step 1 against the delivery time of the package
picked, or of the fastest way on offer when none is picked yet. ``order_place`` stays the
authority and its ``Invalid(field=...)`` lands on the same fields (the date against the chosen
package's delivery days, the budget against its price).
"""

from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format

from notifications.formatting import SYMBOLS, ZERO_DECIMAL, money
from orders import services
from orders.errors import Invalid
from orders.models import LyricsChoice, Occasion
from orders.services.core import (
    BRIEF_TEXT_LIMITS,
    STORY_MIN,
    brief_references_clean,
    occasion_date_check,
    occasion_earliest,
)
from orders.wording import availability_label

MATCH = "match"
# order_place asks for this much story; checked on step 1 so it is said there.

STEPS = {
    1: ("occasion", "occasion_date", "recipient_name", "story"),
    2: (
        "genre",
        "mood",
        "tempo_feel",
        "language",
        "lyrics_choice",
        "lyrics",
        "names_to_include",
        "references",
        "instructions",
    ),
    3: ("package", "budget"),
}
STEP_TITLES = {1: "The occasion", 2: "The sound", 3: "Musician and budget"}
LAST_STEP = max(STEPS)
FIELD_STEP = {field: step for step, fields in STEPS.items() for field in fields}


def minor_units(amount: Decimal, currency: str) -> int:
    """2500 rupees -> 250000 paise; zero-decimal currencies (JPY) stay as they are."""
    factor = 1 if currency.upper() in ZERO_DECIMAL else 100
    return int((amount * factor).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def package_label(package, availability=None) -> str:
    revisions = package.revisions_included
    label = (
        f"{package.musician.display_name}: {package.name}, "
        f"{money(package.price, package.currency)}, {package.delivery_days} days, "
        f"{revisions} revision{'' if revisions == 1 else 's'} included"
    )
    if availability is not None:
        text = availability_label(availability)
        label += f" ({text[:1].lower()}{text[1:]})"
    return label


def human_date(value) -> str:
    """Dates as the form writes them everywhere: 18 December 2026."""
    return date_format(value, "j F Y")


class PackageRadios(forms.RadioSelect):
    """The package choices; a musician who takes no order now keeps their packages on show,
    disabled, with the reason in the label."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled = set()

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if str(value) in self.disabled:
            option["attrs"]["disabled"] = True
        return option


class CommissionForm(forms.Form):
    occasion = forms.ChoiceField(choices=[("", "Choose an occasion"), *Occasion.choices])
    occasion_date = forms.DateField(
        required=False,
        label="When is it?",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date of the occasion. Leave it empty if there is no fixed date.",
    )
    recipient_name = forms.CharField(
        max_length=BRIEF_TEXT_LIMITS["recipient_name"], label="Who is the song for?"
    )
    story = forms.CharField(
        min_length=STORY_MIN,
        max_length=BRIEF_TEXT_LIMITS["story"],
        label="Their story",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What makes them who they are, the moments to remember "
        f"({STORY_MIN} characters at least).",
        error_messages={
            "min_length": "Tell the musician a little more about them "
            f"({STORY_MIN} characters at least).",
            "required": "Tell the musician about them.",
        },
    )
    genre = forms.CharField(
        required=False, max_length=BRIEF_TEXT_LIMITS["genre"], label="Genre or style"
    )
    mood = forms.CharField(required=False, max_length=BRIEF_TEXT_LIMITS["mood"])
    tempo_feel = forms.CharField(
        required=False,
        max_length=BRIEF_TEXT_LIMITS["tempo_feel"],
        label="Tempo feel",
        help_text="Slow and tender, upbeat, danceable…",
    )
    language = forms.CharField(required=False, max_length=BRIEF_TEXT_LIMITS["language"])
    lyrics_choice = forms.ChoiceField(
        choices=LyricsChoice.choices,
        initial=LyricsChoice.MUSICIAN,
        widget=forms.RadioSelect,
        label="Lyrics",
    )
    lyrics = forms.CharField(
        required=False,
        max_length=BRIEF_TEXT_LIMITS["lyrics"],
        label="Your lyrics",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Only when you provide the lyrics; otherwise anything here is left out.",
    )
    names_to_include = forms.CharField(
        required=False,
        max_length=BRIEF_TEXT_LIMITS["names_to_include"],
        label="Names to include",
    )
    references = forms.CharField(
        required=False,
        label="Reference songs",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Links to songs you like, one per line (at most {services.MAX_REFERENCES}).",
    )
    instructions = forms.CharField(
        required=False,
        max_length=BRIEF_TEXT_LIMITS["instructions"],
        label="Anything else the musician should know",
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    package = forms.ChoiceField(
        widget=PackageRadios,
        label="Who makes your song?",
        error_messages={"required": "Choose a package, or ask us to match you."},
    )
    budget = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        label="Your budget",
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )

    def __init__(self, *args, packages=(), match_days=None, availability=None, **kwargs):
        """`match_days`: the delivery time when the customer is matched (None: matching is
        left out of the step-1 date check); `availability`: musician id -> Availability."""
        kwargs.setdefault("label_suffix", "")  # labels read as written (and as tests find them)
        super().__init__(*args, **kwargs)
        self.match_days = match_days
        availability = availability or {}
        # Every package on offer sets the step-1 date check (the fastest of them); the ones
        # that fit the occasion and its date are the choices.
        self.offered = list(packages)
        self.packages, self.hidden_note = self._fitting(self.offered)
        # Shown so the customer knows them, but not pickable: order_place would refuse them.
        self.unavailable = {
            key: availability[package.musician_id]
            for key, package in self.packages.items()
            if package.musician_id in availability
            and not availability[package.musician_id].available
        }
        self.fields["package"].widget.disabled = set(self.unavailable)
        self.fields["package"].choices = [
            *(
                (key, package_label(package, availability.get(package.musician_id)))
                for key, package in self.packages.items()
            ),
            (MATCH, "Match me with a musician for my budget"),
        ]
        days = self.delivery_days()
        if days is not None:
            date_field = self.fields["occasion_date"]
            # The browser refuses an earlier date on step 1 already; the server says why.
            earliest = occasion_earliest(days)
            date_field.widget.attrs["min"] = earliest.isoformat()
            reason = self._days_reason(days)
            date_field.widget.attrs["data-too-soon"] = (
                f"{reason[:1].upper()}{reason[1:]}: pick {human_date(earliest)} or later."
            )
            date_field.help_text = (
                f"The date of the occasion, {human_date(earliest)} or later: "
                f"{reason}. Leave it empty if there is no fixed date."
            )
        currency = settings.BILLING_CURRENCY
        symbol = SYMBOLS.get(currency, currency)
        self.fields["budget"].label = f"Your budget ({symbol})"
        self.fields["budget"].help_text = (
            f"In {currency}, e.g. 2500. Needed when we match you: it is the price you pay. "
            "With a package it must be at least the package's price."
        )

    def _brief_so_far(self):
        """The occasion and its date as posted on step 1 (None until they are valid)."""
        if not self.is_bound:
            return None, None
        occasion = self.data.get("occasion")
        if occasion not in Occasion.values:
            occasion = None
        try:
            when = self.fields["occasion_date"].clean(self.data.get("occasion_date"))
        except forms.ValidationError:
            when = None
        return occasion, when

    def _fitting(self, packages) -> tuple[dict, str]:
        """The packages that can make this song: made for its occasion (or for any) and ready
        by its date; and one line saying why others are left out ("" when none are). The
        package a link picked stays: step 1 tells what is wrong with it instead."""
        occasion, when = self._brief_so_far()
        picked = self.picked()
        fitting, other_occasion, too_slow = {}, 0, 0
        for package in packages:
            key = str(package.pk)
            if (
                key != picked
                and occasion
                and package.occasions
                and occasion not in package.occasions
            ):
                other_occasion += 1
            elif key != picked and when and occasion_earliest(package.delivery_days) > when:
                too_slow += 1
            else:
                fitting[key] = package
        reasons = []
        if other_occasion:
            reasons.append(
                f"{other_occasion} made for other occasions than {Occasion(occasion).label.lower()}"
            )
        if too_slow:
            reasons.append(f"{too_slow} that cannot be ready by {human_date(when)}")
        note = ""
        if reasons:
            hidden = other_occasion + too_slow
            note = (
                f"{hidden} package{'' if hidden == 1 else 's'} not shown: {' and '.join(reasons)}."
            )
        return fitting, note

    # --- cleaning ------------------------------------------------------------------------------

    def clean_package(self):
        value = self.cleaned_data.get("package")
        free = self.unavailable.get(value)
        if free is not None:
            raise forms.ValidationError(
                f"{availability_label(free)}. Choose another package, or ask us to match you."
            )
        return value

    def picked(self) -> str:
        """The package key picked so far (carried from a link before step 3), or MATCH."""
        value = self.data.get("package") if self.is_bound else self.initial.get("package")
        return str(value or "")

    def delivery_days(self) -> int | None:
        """The delivery time the occasion date must leave room for: the picked package's,
        matching's, or the fastest of those on offer while nothing is picked."""
        picked = self.picked()
        if picked in self.packages:
            return self.packages[picked].delivery_days
        if picked == MATCH and self.match_days is not None:
            return self.match_days
        options = [package.delivery_days for package in self.offered]
        if self.match_days is not None:
            options.append(self.match_days)
        return min(options) if options else None

    def _days_reason(self, days: int) -> str:
        picked = self.packages.get(self.picked())
        if picked is not None:
            return f"{picked.musician.display_name} takes {days} days"
        if self.picked() == MATCH:
            return f"a matched musician takes {days} days"
        return f"the fastest song takes {days} days"

    def clean_occasion_date(self):
        value = self.cleaned_data.get("occasion_date")
        if value is not None and value <= timezone.now().date():
            raise forms.ValidationError("Pick a date in the future.")
        days = self.delivery_days()
        if days is not None:
            try:
                occasion_date_check(value, delivery_days=days)
            except Invalid as error:
                raise forms.ValidationError(error.message) from None
        return value

    def clean_references(self):
        lines = self.cleaned_data.get("references", "").splitlines()
        try:
            return brief_references_clean(line for line in lines if line.strip())
        except Invalid as error:
            raise forms.ValidationError(error.message) from None

    def clean(self):
        data = super().clean()
        choice = data.get("lyrics_choice")
        lyrics = (data.get("lyrics") or "").strip()
        if choice == LyricsChoice.CUSTOMER and not lyrics:
            self.add_error("lyrics", "Paste your lyrics, or let the musician write them.")
        elif choice in (LyricsChoice.MUSICIAN, LyricsChoice.INSTRUMENTAL):
            # The box is only for the customer's own lyrics: without JavaScript it stays on
            # the page, so what was typed in it for another choice is left out, not refused.
            data["lyrics"] = ""
        if data.get("package") == MATCH and data.get("budget") in (None, ""):
            self.add_error("budget", "Tell us your budget so we can match you.")
        return data

    # --- steps ---------------------------------------------------------------------------------

    def step_errors(self, step: int) -> dict:
        """The errors of the fields of steps 1..`step` (later steps are not filled in yet)."""
        wanted = {field for n in range(1, step + 1) for field in STEPS[n]}
        return {field: errors for field, errors in self.errors.items() if field in wanted}

    def first_step_with_errors(self, up_to: int = LAST_STEP) -> int | None:
        steps = [FIELD_STEP[field] for field in self.step_errors(up_to) if field in FIELD_STEP]
        return min(steps) if steps else None

    def chosen_package(self):
        return self.packages.get(self.cleaned_data.get("package") or "")

    def currency(self) -> str:
        package = self.chosen_package()
        return package.currency if package is not None else settings.BILLING_CURRENCY

    def place_arguments(self) -> dict:
        """What order_place takes, from a fully valid form."""
        data = self.cleaned_data
        brief = {field: data[field] for field in services.BRIEF_FIELDS if field != "budget"}
        budget = data.get("budget")
        brief["budget"] = minor_units(budget, self.currency()) if budget is not None else None
        package = self.chosen_package()
        return {"package": package, "match": package is None, **brief}
