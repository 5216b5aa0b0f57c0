"""Against real commits and rollbacks (transactional tests): a rolled-back caller sends nothing."""

import pytest
from django.core import mail
from django.db import transaction

from notifications.models import Delivery, Notification
from notifications.services import notify
from tests.factories import UserFactory
from tests.notifications.conftest import sample_context

pytestmark = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


def test_nothing_is_sent_or_kept_when_the_caller_rolls_back():
    person = UserFactory()

    with pytest.raises(Boom), transaction.atomic():
        notify("order.delivered", recipient=person, context=sample_context("order.delivered"))
        raise Boom

    assert mail.outbox == []
    assert not Delivery.objects.exists()
    assert not Notification.objects.exists()


def test_everything_is_sent_once_the_caller_commits():
    person = UserFactory()

    with transaction.atomic():
        notify("order.delivered", recipient=person, context=sample_context("order.delivered"))
        assert mail.outbox == []  # still inside the caller's transaction

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "“Song for Mum & Dad” is delivered: ₹2,500.00 left to pay"
    assert Notification.objects.filter(recipient=person).count() == 1


def test_a_registration_that_rolls_back_sends_no_welcome():
    from accounts.services import user_create
    from tests.factories import DEFAULT_PASSWORD

    with pytest.raises(Boom), transaction.atomic():
        user_create(email="gone@example.com", password=DEFAULT_PASSWORD, display_name="Gone")
        raise Boom

    assert mail.outbox == []
    assert not Delivery.objects.exists()


def test_a_registration_sends_the_welcome_and_the_confirmation_link():
    from accounts.services import user_create
    from tests.factories import DEFAULT_PASSWORD

    user = user_create(email="mira@example.com", password=DEFAULT_PASSWORD, display_name="Mira")

    subjects = sorted(message.subject for message in mail.outbox)
    assert subjects == ["Confirm your email for Encore", "Welcome to Encore, Mira"]
    assert Notification.objects.get(recipient=user).title == "Welcome to Encore, Mira"
