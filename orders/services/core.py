"""Every write about commission orders (docs/architecture.md sections 2 and 5).

A transition service opens ``transaction.atomic()``, locks the order (``select_for_update``),
checks the actor's right, calls the model's transition, saves, appends an ``OrderEvent`` and
schedules the notifications on commit. An illegal transition raises ``TransitionConflict``
(409, with the transitions the order allows now); of two requests racing on one order exactly
one wins, the other finds the order moved and gets the conflict.
"""

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from billing import services as billing
from orders import notices
from orders.availability import musician_availability
from orders.errors import Forbidden, Invalid, MusicianUnavailable, TransitionConflict
from orders.models import (
    LyricsChoice,
    MarketplaceSettings,
    Occasion,
    Order,
    OrderEvent,
    OrderStatus,
    Package,
)

logger = logging.getLogger(__name__)

MAX_REFERENCES = 10
STORY_MIN = 20
MAX_REFERENCE_LENGTH = 500
MAX_PRICE = 100_000_000  # 1,000,000.00 in any two-decimal currency
BRIEF_TEXT_LIMITS = {
    "recipient_name": 100,
    "story": 5000,
    "genre": 60,
    "mood": 60,
    "tempo_feel": 60,
    "language": 40,
    "lyrics": 10000,
    "names_to_include": 300,
    "instructions": 3000,
}
PACKAGE_FIELDS = (
    "name",
    "description",
    "price",
    "currency",
    "delivery_days",
    "revisions_included",
    "occasions",
    "active",
)


def deposit_key(order) -> str:
    return f"order:{order.pk}:deposit"


def balance_key(order) -> str:
    return f"order:{order.pk}:balance"


def milestone_terms(order, milestone: str) -> dict:
    """What billing needs to know of a milestone payment ("deposit" or "balance")."""
    deposit = milestone == "deposit"
    return {
        "payer": order.customer,
        "amount": order.deposit_amount if deposit else order.balance_amount,
        "currency": order.currency,
        "purpose": f"order_{milestone}",
        "reference": str(order.pk),
        "description": f"{milestone.title()}: {order.title}"[:200],
        "idempotency_key": deposit_key(order) if deposit else balance_key(order),
    }


# --- packages -------------------------------------------------------------------------------


def _clean_package(data: dict) -> dict:
    cleaned = dict(data)
    if "currency" in cleaned:
        currency = str(cleaned["currency"] or "").upper()
        if len(currency) != 3 or not currency.isalpha():
            raise Invalid("Not a currency code.", code="invalid_currency", field="currency")
        cleaned["currency"] = currency
    if "price" in cleaned and not 0 < cleaned["price"] <= MAX_PRICE:
        raise Invalid(f"The price is between 1 and {MAX_PRICE} minor units.", field="price")
    if "delivery_days" in cleaned and not 1 <= cleaned["delivery_days"] <= 365:
        raise Invalid("Delivery takes 1 to 365 days.", field="delivery_days")
    if "revisions_included" in cleaned and not 0 <= cleaned["revisions_included"] <= 20:
        raise Invalid("At most 20 revisions can be included.", field="revisions_included")
    if "occasions" in cleaned:
        cleaned["occasions"] = occasions_clean(cleaned["occasions"])
    return cleaned


def occasions_clean(values) -> list[str]:
    """A package's occasions: each once, in the order given; an unknown one is refused."""
    occasions = list(dict.fromkeys(values or []))
    unknown = [value for value in occasions if value not in Occasion.values]
    if unknown:
        raise Invalid(f"Unknown occasion: {unknown[0]}.", field="occasions")
    return occasions


def package_create(*, musician, **data) -> Package:
    if not musician.is_musician:
        raise Forbidden("Only musicians offer packages.")
    data.setdefault("currency", settings.BILLING_CURRENCY)
    data = _clean_package({key: value for key, value in data.items() if key in PACKAGE_FIELDS})
    return Package.objects.create(musician=musician, **data)


def package_update(*, package: Package, actor, **data) -> Package:
    if package.musician_id != actor.pk:
        raise Forbidden("Only the musician who offers a package changes it.")
    data = _clean_package({key: value for key, value in data.items() if key in PACKAGE_FIELDS})
    for field, value in data.items():
        setattr(package, field, value)
    package.save()
    return package


def package_deactivate(*, package: Package, actor) -> Package:
    """Packages are never deleted (orders point at them); they stop being offered."""
    return package_update(package=package, actor=actor, active=False)


# --- placing an order -----------------------------------------------------------------------


def brief_references_clean(references) -> list[str]:
    """The brief's reference links, stripped; Invalid unless each is an http(s) link."""
    references = list(references or [])
    if len(references) > MAX_REFERENCES:
        raise Invalid(f"At most {MAX_REFERENCES} reference links.", field="references")
    cleaned = []
    for reference in references:
        reference = str(reference).strip()
        parts = urlsplit(reference)
        if (
            len(reference) > MAX_REFERENCE_LENGTH
            or parts.scheme not in ("http", "https")
            or not parts.netloc
        ):
            raise Invalid(f"Not a web link: {reference[:80]}", field="references")
        cleaned.append(reference)
    return cleaned


def _clean_brief(brief: dict) -> dict:
    brief = dict(brief)
    for field, limit in BRIEF_TEXT_LIMITS.items():
        value = str(brief.get(field) or "").strip()
        if len(value) > limit:
            raise Invalid(f"At most {limit} characters.", field=field)
        brief[field] = value
    if brief.get("occasion") not in Occasion.values:
        raise Invalid("Choose one of the occasions.", field="occasion")
    if not brief["recipient_name"]:
        raise Invalid("Who is the song for?", field="recipient_name")
    if len(brief["story"]) < STORY_MIN:
        raise Invalid(
            f"Tell the musician a little more about them ({STORY_MIN} characters at least).",
            field="story",
        )
    choice = brief.get("lyrics_choice") or LyricsChoice.MUSICIAN
    if choice not in LyricsChoice.values:
        raise Invalid("Choose customer, musician or instrumental.", field="lyrics_choice")
    brief["lyrics_choice"] = choice
    if choice == LyricsChoice.CUSTOMER and not brief["lyrics"]:
        raise Invalid("Paste your lyrics, or let the musician write them.", field="lyrics")
    if choice == LyricsChoice.INSTRUMENTAL and brief["lyrics"]:
        raise Invalid("An instrumental has no lyrics.", field="lyrics")
    brief["references"] = brief_references_clean(brief.get("references"))
    budget = brief.get("budget")
    if budget is not None and (not isinstance(budget, int) or not 0 <= budget <= MAX_PRICE):
        raise Invalid(f"The budget is between 0 and {MAX_PRICE} minor units.", field="budget")
    return brief


BRIEF_FIELDS = (
    "occasion",
    "occasion_date",
    "recipient_name",
    "story",
    "genre",
    "mood",
    "tempo_feel",
    "language",
    "lyrics_choice",
    "lyrics",
    "names_to_include",
    "references",
    "instructions",
    "budget",
)


def occasion_earliest(delivery_days: int):
    """The first occasion date a song that takes `delivery_days` can be ready for."""
    return timezone.now().date() + timedelta(days=delivery_days)


def occasion_date_check(occasion_date, *, delivery_days: int) -> None:
    """Refuse an occasion the song cannot be ready for. The commission form asks this on its
    first step, with the delivery time of the package picked (or the fastest on offer)."""
    if occasion_date is None:
        return
    earliest = occasion_earliest(delivery_days)
    if occasion_date < earliest:
        raise Invalid(
            f"This takes {delivery_days} days: the occasion date is "
            f"{date_format(earliest, 'j F Y')} at the earliest.",
            code="occasion_too_soon",
            field="occasion_date",
        )


def order_place(*, customer, package: Package | None = None, match: bool = False, **brief):
    """Place an order with a musician's package, or ask to be matched (``match=True``, the
    budget is the price). The package's terms are copied onto the order; the deposit payment
    (ceil(price / 2)) is created with it. Returns the order; ``order_deposit_checkout`` gives
    the page where the customer pays the deposit."""
    unknown = set(brief) - set(BRIEF_FIELDS)
    if unknown:
        raise TypeError(f"unknown brief fields: {', '.join(sorted(unknown))}")
    brief = _clean_brief(brief)
    if (package is None) == (not match):
        raise Invalid("Choose a package, or ask to be matched.", field="package")
    if package is not None:
        if not package.active:
            raise Invalid("This package is no longer offered.", field="package")
        if package.musician_id == customer.pk:
            raise Invalid("You cannot commission yourself.", field="package")
        if package.occasions and brief["occasion"] not in package.occasions:
            raise Invalid("This package is not offered for that occasion.", field="occasion")
        availability = musician_availability(package.musician)
        if not availability.available:
            # Paying a deposit only to wait for an offer that expires helps nobody.
            raise MusicianUnavailable(availability)
        terms = {
            "musician": package.musician,
            "price": package.price,
            "currency": package.currency,
            "revisions_included": package.revisions_included,
            "delivery_days": package.delivery_days,
        }
    else:
        if not brief.get("budget"):
            raise Invalid("Tell us your budget so we can match you.", field="budget")
        rules = MarketplaceSettings.load()
        terms = {
            "musician": None,
            "price": brief["budget"],
            "currency": settings.BILLING_CURRENCY,
            "revisions_included": rules.default_revisions,
            "delivery_days": rules.match_delivery_days,
        }
    budget = brief.get("budget")
    if budget is not None and budget < terms["price"]:
        raise Invalid("The budget is below the package's price.", field="budget")
    occasion_date_check(brief.get("occasion_date"), delivery_days=terms["delivery_days"])
    with transaction.atomic():
        order = Order.objects.create(
            customer=customer, package=package, match=package is None, **terms, **brief
        )
        placed = OrderEvent.objects.create(
            order=order,
            actor=customer,
            name="place",
            from_status=OrderStatus.PLACED,
            to_status=OrderStatus.PLACED,
        )
        billing.payment_create(**milestone_terms(order, "deposit"))
        notices.schedule("order.placed", recipient=customer, order=order, occurrence=placed)
    return order


def order_deposit_checkout(*, order: Order, actor, return_to: str = ""):
    """The billing checkout where the customer pays (or retries) the deposit. Outside any
    transaction: a real provider is called."""
    if order.customer_id != actor.pk:
        raise Forbidden("Only the customer pays the deposit.")
    if order.status != OrderStatus.PLACED:
        raise TransitionConflict(order=order, transition="pay_deposit", actor=actor)
    return billing.payment_checkout_start(**milestone_terms(order, "deposit"), return_to=return_to)
