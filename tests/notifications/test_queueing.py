"""Queueing a delivery's task: services -> tasks -> sending. A broker that refuses the task
neither breaks the caller nor loses the message: the row stays queued and the beat task
queues it again later, and it is sent once."""

from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from notifications import tasks
from notifications.models import Delivery, DeliveryStatus
from notifications.services import notify
from tests.notifications.conftest import sample_context

pytestmark = pytest.mark.django_db


def test_a_broker_that_refuses_the_task_loses_nothing(
    verified, twilio, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    with pytest.MonkeyPatch.context() as broker:
        broker.setattr(tasks.deliver, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            created = notify(
                "order.draft_ready",
                recipient=verified,
                context=sample_context("order.draft_ready"),
            )

    assert {d.channel for d in created} >= {"sms", "in_app"}  # the caller got its deliveries
    sms = Delivery.objects.get(recipient=verified, channel="sms")
    assert sms.status == DeliveryStatus.QUEUED and twilio.requests == []

    # The broker is back.
    Delivery.objects.filter(pk=sms.pk).update(updated_at=timezone.now() - timedelta(minutes=6))
    twilio.accept()
    assert tasks.redispatch_stale.apply().get() >= 1
    tasks.redispatch_stale.apply()

    sms.refresh_from_db()
    assert sms.status == DeliveryStatus.SENT
    assert len(twilio.messages) == 1
