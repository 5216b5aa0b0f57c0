"""notify(): channels chosen, one row per (key, person, channel), sent only after commit."""

import pytest
from django.core import mail
from django.db import transaction

from notifications import catalogue
from notifications.models import Channel, Delivery, DeliveryStatus, Notification, Preference
from notifications.services import channels_for, notify
from tests.factories import UserFactory
from tests.notifications.conftest import sample_context

pytestmark = pytest.mark.django_db


def test_every_event_of_the_issue_is_in_the_catalogue():
    expected = {
        "account.welcome",
        "account.email_verification",
        "account.password_reset",
        "account.phone_verification",
        "order.placed",
        "order.deposit_received",
        "order.offer",
        "order.offer_accepted",
        "order.offer_declined",
        "order.offer_expired",
        "order.stage_changed",
        "order.draft_ready",
        "order.revision_requested",
        "order.draft_approved",
        "order.delivered",
        "order.balance_paid",
        "order.dispute_opened",
        "order.dispute_resolved",
        "order.review_received",
        # Added with the commissions issue: the answer to a request for an extra revision.
        "order.revision_consent",
        "order.unmatched",
        "chat.unread_digest",
        # Added with payouts: the musician paid, or asked to check their account; staff told.
        "payout.paid",
        "payout.failed",
        "payout.failed_staff",
        "subscription.started",
        "subscription.trial_ending",
        "subscription.payment_failed",
        "subscription.seat_invitation",
        # Added with the admin: student price reviews, and catalog moderation told to the owner.
        "subscription.student_approved",
        "subscription.student_rejected",
        "catalog.hidden",
        "catalog.restored",
    }

    assert set(catalogue.EVENTS) == expected
    for event in catalogue.EVENTS.values():
        assert event.defaults <= event.channels
        assert event.locked <= event.defaults


def test_critical_account_events_are_locked_on():
    for name in ("account.email_verification", "account.password_reset"):
        assert catalogue.get(name).locked == {Channel.EMAIL}
    assert catalogue.get("account.phone_verification").locked == {Channel.SMS}
    assert not catalogue.get("order.draft_ready").critical


def test_defaults_without_a_verified_phone_are_email_and_in_app(user):
    assert channels_for(catalogue.get("order.draft_ready"), user) == ["email", "in_app"]


def test_a_verified_phone_adds_sms_where_it_is_a_default(verified):
    assert channels_for(catalogue.get("order.draft_ready"), verified) == ["email", "sms", "in_app"]
    # WhatsApp is offered but off until the person turns it on.
    assert "whatsapp" not in channels_for(catalogue.get("order.draft_ready"), verified)


def test_sms_and_whatsapp_never_go_to_an_unverified_number(user):
    user.phone_number = "+14155550123"
    user.save()
    for channel in ("sms", "whatsapp"):
        Preference.objects.create(
            user=user, event="order.draft_ready", channel=channel, enabled=True
        )

    assert channels_for(catalogue.get("order.draft_ready"), user) == ["email", "in_app"]


def test_preferences_are_honoured(verified, django_capture_on_commit_callbacks, no_twilio):
    Preference.objects.create(
        user=verified, event="order.draft_ready", channel="email", enabled=False
    )
    Preference.objects.create(
        user=verified, event="order.draft_ready", channel="whatsapp", enabled=True
    )

    with django_capture_on_commit_callbacks(execute=True):
        notify("order.draft_ready", recipient=verified, context=sample_context("order.draft_ready"))

    channels = set(Delivery.objects.values_list("channel", flat=True))
    assert channels == {"sms", "whatsapp", "in_app"}
    assert mail.outbox == []


def test_inactive_people_get_nothing(user, django_capture_on_commit_callbacks):
    user.is_active = False
    user.save()

    with django_capture_on_commit_callbacks(execute=True):
        created = notify("order.placed", recipient=user, context=sample_context("order.placed"))

    assert created == []
    assert not Delivery.objects.exists()


def test_unknown_events_and_missing_context_are_programming_errors(user):
    with pytest.raises(catalogue.UnknownEvent):
        notify("order.teleported", recipient=user, context={})
    with pytest.raises(catalogue.MissingContext, match="musician_name"):
        notify("order.draft_ready", recipient=user, context={"order_title": "x", "url": "/"})


def test_nothing_is_sent_before_the_commit(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify("order.placed", recipient=user, context=sample_context("order.placed"))

    assert len(callbacks) == 1
    assert mail.outbox == []
    email = Delivery.objects.get(channel="email")
    assert email.status == DeliveryStatus.QUEUED

    callbacks[0]()

    email.refresh_from_db()
    assert email.status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1


def test_the_same_key_twice_sends_once(user, django_capture_on_commit_callbacks):
    context = sample_context("order.placed")

    with django_capture_on_commit_callbacks(execute=True):
        first = notify("order.placed", recipient=user, context=context, key="order:42:placed")
    with django_capture_on_commit_callbacks(execute=True):
        second = notify("order.placed", recipient=user, context=context, key="order:42:placed")

    assert len(first) == 2
    assert second == []
    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1
    assert Delivery.objects.count() == 2


def test_a_retried_caller_with_the_same_context_sends_once(
    user, django_capture_on_commit_callbacks
):
    context = sample_context("order.delivered")

    with django_capture_on_commit_callbacks(execute=True):
        notify("order.delivered", recipient=user, context=context)
        notify("order.delivered", recipient=user, context=dict(context))

    assert len(mail.outbox) == 1
    # A different occurrence (another order) is another notification.
    with django_capture_on_commit_callbacks(execute=True):
        notify("order.delivered", recipient=user, context={**context, "url": "/orders/43/"})
    assert len(mail.outbox) == 2


def test_a_duplicate_inside_the_callers_transaction_does_not_break_it(
    user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        notify("order.placed", recipient=user, context=sample_context("order.placed"), key="k")
        notify("order.placed", recipient=user, context=sample_context("order.placed"), key="k")
        other = UserFactory()  # the transaction is still usable

    assert other.pk
    assert len(mail.outbox) == 1


def test_in_app_notifications_are_written_with_the_callers_transaction(user):
    notify("order.draft_ready", recipient=user, context=sample_context("order.draft_ready"))

    notification = Notification.objects.get(recipient=user)
    assert notification.title == "A draft is ready: Song for Mum & Dad"
    assert "Nina sent a draft" in notification.body
    assert notification.link == "/orders/42/"
    delivery = notification.delivery
    assert (delivery.channel, delivery.status, delivery.provider) == ("in_app", "sent", "in_app")


def test_keys_are_bounded(user):
    with pytest.raises(ValueError):
        notify(
            "order.placed", recipient=user, context=sample_context("order.placed"), key="k" * 201
        )
