import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from notifications.models import Channel, Delivery, Notification
from tests.factories import UserFactory


class VerifiedPhoneUserFactory(UserFactory):
    phone_number = factory.Sequence(lambda n: f"+1415555{n:04d}")
    phone_verified_at = factory.LazyFunction(timezone.now)
    email_verified_at = factory.LazyFunction(timezone.now)


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification

    recipient = factory.SubFactory(UserFactory)
    event = "order.draft_ready"
    title = factory.Sequence(lambda n: f"A draft is ready: Song {n}")
    body = "Listen, then approve it or ask for changes."
    link = "/orders/1/"


class DeliveryFactory(DjangoModelFactory):
    class Meta:
        model = Delivery

    event = "order.draft_ready"
    event_key = factory.Sequence(lambda n: f"test:{n}")
    recipient = factory.SubFactory(VerifiedPhoneUserFactory)
    channel = Channel.SMS
    context = factory.LazyFunction(
        lambda: {"order_title": "Song for Mum", "url": "/orders/1/", "musician_name": "Nina"}
    )
