"""The commission form, in three steps (brief, style, musician and budget).

Each step checks its own fields here so the customer hears about a mistake on the step that
made it; ``order_place`` stays the authority and its ``Invalid(field=...)`` lands on the same
fields (the date against the chosen package's delivery days, the budget against its price).
"""

from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.conf import settings
from django.utils import timezone

from notifications.formatting import SYMBOLS, ZERO_DECIMAL, money
from orders import services
from orders.errors import Invalid
from orders.models import LyricsChoice, Occasion
from orders.services.core import BRIEF_TEXT_LIMITS, STORY_MIN, brief_references_clean

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


def package_label(package) -> str:
    revisions = package.revisions_included
    return (
        f"{package.musician.display_name}: {package.name}, "
        f"{money(package.price, package.currency)}, {package.delivery_days} days, "
        f"{revisions} revision{'' if revisions == 1 else 's'} included"
    )


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
        help_text="Only if you write them yourself.",
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
        widget=forms.RadioSelect,
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

    def __init__(self, *args, packages=(), **kwargs):
        kwargs.setdefault("label_suffix", "")  # labels read as written (and as tests find them)
        super().__init__(*args, **kwargs)
        self.packages = {str(package.pk): package for package in packages}
        self.fields["package"].choices = [
            *((key, package_label(package)) for key, package in self.packages.items()),
            (MATCH, "Match me with a musician for my budget"),
        ]
        currency = settings.BILLING_CURRENCY
        symbol = SYMBOLS.get(currency, currency)
        self.fields["budget"].label = f"Your budget ({symbol})"
        self.fields["budget"].help_text = (
            f"In {currency}, e.g. 2500. Needed when we match you: it is the price you pay. "
            "With a package it must be at least the package's price."
        )

    # --- cleaning ------------------------------------------------------------------------------

    def clean_occasion_date(self):
        value = self.cleaned_data.get("occasion_date")
        if value is not None and value <= timezone.now().date():
            raise forms.ValidationError("Pick a date in the future.")
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
        elif choice == LyricsChoice.INSTRUMENTAL and lyrics:
            self.add_error("lyrics", "An instrumental has no lyrics: clear them, or pick another.")
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
