from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from audio.models import AudioAsset
from orders.models import (
    Delivery,
    MediaStatus,
    MusicianProfile,
    OfferStatus,
    Order,
    OrderOffer,
    OrderStatus,
    Package,
    Review,
    Version,
)
from tests.audio.factories import AudioAssetFactory
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


class MusicianProfileFactory(DjangoModelFactory):
    class Meta:
        model = MusicianProfile
        django_get_or_create = ("musician",)

    musician = factory.SubFactory(MusicianFactory)
    styles = factory.LazyFunction(list)
    occasions = factory.LazyFunction(list)
    capacity = 3
    accepting_orders = True


class OrderOfferFactory(DjangoModelFactory):
    """A pending offer of `order` to `musician`, answerable for two days."""

    class Meta:
        model = OrderOffer

    order = factory.SubFactory("tests.orders.factories.OrderFactory", offer=False)
    musician = factory.LazyAttribute(lambda o: o.order.musician)
    rank = 1
    score = None
    status = OfferStatus.PENDING
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=48))


class OrderFactory(DjangoModelFactory):
    """An order in any state (``status=...``), as if its services had brought it there.

    A ``matching`` order with a musician is offered to them (a pending OrderOffer), as
    ``offer_make`` leaves it; ``offer=False`` leaves the offer out (a musician it was never
    offered to), ``musician=None`` an order nobody is offered yet.
    """

    class Meta:
        model = Order
        skip_postgeneration_save = True

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

    @factory.post_generation
    def offer(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        if obj.status == OrderStatus.MATCHING and obj.musician_id is not None:
            offered_to(obj, obj.musician, **kwargs)


def offered_to(order: Order, musician, *, expires_in=timedelta(hours=48), rank=None) -> OrderOffer:
    """Offer `order` (matching) to `musician` as ``offer_make`` would: the musician becomes the
    order's musician while the offer is pending."""
    if order.musician_id != musician.pk:
        Order.objects.filter(pk=order.pk).update(musician=musician)
        order.musician = musician
    return OrderOfferFactory(
        order=order,
        musician=musician,
        rank=rank if rank is not None else order.offers.count() + 1,
        expires_at=timezone.now() + expires_in,
    )


class ReviewFactory(DjangoModelFactory):
    class Meta:
        model = Review

    order = factory.SubFactory(OrderFactory, status=OrderStatus.COMPLETED)
    customer = factory.LazyAttribute(lambda o: o.order.customer)
    musician = factory.LazyAttribute(lambda o: o.order.musician)
    rating = 5
    text = "Beautiful, she cried."


def _uploaded(model, purpose: str, order: Order, *, status, number, **fields):
    asset = AudioAssetFactory(owner=order.musician, purpose=purpose)
    return model.objects.create(
        order=order,
        number=number,
        asset=asset,
        uploaded_by=order.musician,
        status=status,
        **fields,
    )


def draft_of(order: Order, *, status=MediaStatus.READY, number=1, **fields) -> Version:
    """A draft the order's musician uploaded (its asset has no renditions)."""
    return _uploaded(
        Version, AudioAsset.Purpose.PREVIEW, order, status=status, number=number, **fields
    )


def finals_of(order: Order, *, status=MediaStatus.READY, number=1, **fields) -> Delivery:
    """Finals the order's musician uploaded (their asset has no renditions)."""
    return _uploaded(
        Delivery, AudioAsset.Purpose.DELIVERY, order, status=status, number=number, **fields
    )


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


# --- milestones paid through the sandbox checkout page ----------------------------------------


def paid_on_the_sandbox_page(checkout_url: str, on_commit) -> None:
    """What the customer's browser does: POST the outcome to the sandbox's checkout page, which
    sends the signed webhook that billing captures. `on_commit` is pytest-django's
    ``django_capture_on_commit_callbacks`` (the webhook and what it sets off run on commit)."""
    from urllib.parse import urlsplit

    from django.test import Client

    with on_commit(execute=True):
        response = Client().post(urlsplit(checkout_url).path, {"outcome": "success"})
    assert response.status_code == 302, response.content


def deposit_paid(order: Order, on_commit) -> Order:
    """The customer pays the deposit of a placed order: it moves to matching and is offered."""
    from orders import services

    checkout = services.order_deposit_checkout(order=order, actor=order.customer)
    paid_on_the_sandbox_page(checkout.url, on_commit)
    order.refresh_from_db()
    return order


def balance_checkout(order: Order):
    """The balance checkout of a delivered order (None when the order completed at once)."""
    from orders import services

    order.refresh_from_db()
    return services.order_balance_checkout(order=order, actor=order.customer)


def balance_paid(order: Order, on_commit, checkout=None) -> Order:
    """The customer pays the balance (on `checkout`, or a new one) of a delivered order."""
    checkout = checkout or balance_checkout(order)
    paid_on_the_sandbox_page(checkout.url, on_commit)
    order.refresh_from_db()
    return order


def api_client_for(user):
    """An API client authenticated as `user` (tokens and sessions are tested in accounts)."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client
