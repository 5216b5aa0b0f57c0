from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from orders.models import Order, OrderStatus, Package
from tests.factories import MusicianFactory, UserFactory


class PackageFactory(DjangoModelFactory):
    class Meta:
        model = Package

    musician = factory.SubFactory(MusicianFactory)
    name = factory.Sequence(lambda n: f"Personal song {n}")
    description = "A two-minute song, written and recorded for one person."
    price = 200_001  # odd, so the deposit rounds up
    currency = "INR"
    delivery_days = 7
    revisions_included = 2
    occasions = factory.LazyFunction(list)
    active = True


class OrderFactory(DjangoModelFactory):
    """An order in any state (``status=...``), as if its services had brought it there."""

    class Meta:
        model = Order

    customer = factory.SubFactory(UserFactory)
    musician = factory.SubFactory(MusicianFactory)
    package = None
    status = OrderStatus.MATCHING
    stage = factory.LazyAttribute(
        lambda o: "consultation" if o.status == OrderStatus.IN_PROGRESS else ""
    )
    price = 200_001
    currency = "INR"
    revisions_included = 2
    delivery_days = 7
    occasion = "birthday"
    occasion_date = factory.LazyFunction(lambda: (timezone.now() + timedelta(days=30)).date())
    recipient_name = "Asha"
    story = "My sister loves the sea and sings in the car every morning."
    lyrics_choice = "musician"


def brief(**overrides) -> dict:
    """A valid brief, as the API takes it."""
    data = {
        "occasion": "birthday",
        "occasion_date": (timezone.now() + timedelta(days=30)).date().isoformat(),
        "recipient_name": "Asha",
        "story": "My sister loves the sea and sings in the car every morning.",
        "genre": "acoustic pop",
        "mood": "joyful",
        "tempo_feel": "upbeat",
        "language": "English",
        "lyrics_choice": "musician",
        "names_to_include": "Asha, Ravi",
        "references": ["https://example.com/song"],
        "instructions": "Mention the beach at Kovalam.",
    }
    data.update(overrides)
    return data


def service_brief(**overrides) -> dict:
    """A valid brief, as order_place takes it (a date, not a string)."""
    data = brief(**overrides)
    if isinstance(data.get("occasion_date"), str):
        data["occasion_date"] = timezone.datetime.fromisoformat(data["occasion_date"]).date()
    return data
