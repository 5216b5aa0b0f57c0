"""Sending one queued delivery through its provider, and recording the outcome.

The Celery task ``notifications.deliver`` calls :func:`delivery_send`. The task claims its row
first (queued -> sending, atomically), so a duplicate or replayed task sends nothing; transient
provider errors put the row back in the queue for the task to retry with backoff; permanent ones
fail it at once. This module imports neither the tasks nor the services that queue them: the
dependencies run services -> tasks -> sending.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from notifications import catalogue, providers, rendering
from notifications.catalogue import EventType
from notifications.models import PHONE_CHANNELS, Channel, Delivery, DeliveryStatus
from notifications.tokens import unsubscribe_url

logger = logging.getLogger(__name__)

SCRUBBED = "[removed]"


def delivery_send(*, delivery_id: int) -> Delivery | None:
    """Send one queued delivery. Returns None when there was nothing to do (already sent or
    being sent: a duplicate or replayed task). Raises providers.TransientError after putting
    the row back in the queue, for the task to retry."""
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED).update(
        status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("recipient").filter(pk=delivery_id).first()
    if delivery is None:  # the person was deleted meanwhile (their log goes with them)
        return None
    try:
        result = _send(delivery)
    except providers.PermanentError as error:
        return _finish(delivery, status=DeliveryStatus.FAILED, error=error)
    except providers.TransientError as error:
        _update_if(
            delivery,
            DeliveryStatus.SENDING,
            status=DeliveryStatus.QUEUED,
            error_code=error.code[:32],
            last_error=str(error)[:2000],
        )
        raise
    except Exception as error:
        _finish(delivery, status=DeliveryStatus.FAILED, error=error)
        raise
    return _finish(delivery, status=result.status, result=result)


def delivery_give_up(*, delivery_id: int, error: Exception) -> None:
    """The retries are used up: the delivery failed."""
    delivery = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED).first()
    if delivery is not None:
        _finish(delivery, status=DeliveryStatus.FAILED, error=error, expected=DeliveryStatus.QUEUED)


def _update_if(delivery: Delivery, expected: str, **fields) -> bool:
    fields["updated_at"] = timezone.now()
    changed = Delivery.objects.filter(pk=delivery.pk, status=expected).update(**fields)
    for name, value in fields.items():
        setattr(delivery, name, value)
    return bool(changed)


def _scrubbed(delivery: Delivery) -> dict:
    event_type = catalogue.EVENTS.get(delivery.event)
    if event_type is None or not event_type.sensitive:
        return delivery.context
    return {
        key: (SCRUBBED if key in event_type.sensitive else value)
        for key, value in delivery.context.items()
    }


def _finish(
    delivery: Delivery,
    *,
    status: str,
    result: providers.SendResult | None = None,
    error: Exception | None = None,
    expected: str = DeliveryStatus.SENDING,
) -> Delivery:
    fields: dict = {"status": status, "context": _scrubbed(delivery)}
    if result is not None:
        fields.update(
            provider=result.provider,
            provider_id=result.provider_id,
            to=result.to,
            sent_at=timezone.now(),
            error_code="",
            last_error="",
        )
    if error is not None:
        fields.update(
            error_code=str(getattr(error, "code", "") or type(error).__name__)[:32],
            last_error=str(error)[:2000] or repr(error),
        )
    _update_if(delivery, expected, **fields)
    if status == DeliveryStatus.FAILED:
        logger.warning(
            "delivery %s (%s by %s) failed: %s",
            delivery.pk,
            delivery.event,
            delivery.channel,
            delivery.last_error,
        )
    return delivery


def _phone_for(delivery: Delivery, event_type: EventType, recipient: User) -> str:
    if event_type.phone_from_context:
        number = delivery.context.get("phone_number", "")
        if not number or number != str(recipient.phone_number):
            raise providers.PermanentError(
                "the phone number changed since this was queued", code="phone_changed"
            )
        return number
    if not recipient.phone_verified:
        raise providers.PermanentError("no verified phone number", code="phone_unverified")
    return str(recipient.phone_number)  # E.164


def _send(delivery: Delivery) -> providers.SendResult:
    event_type = catalogue.get(delivery.event)
    recipient = delivery.recipient
    if not recipient.is_active:
        raise providers.PermanentError("the account is deactivated", code="inactive")

    if delivery.channel == Channel.EMAIL:
        if not recipient.email:
            raise providers.PermanentError("no email address", code="no_email")
        unsubscribe = (
            ""
            if Channel.EMAIL in event_type.locked
            else unsubscribe_url(user_id=recipient.pk, event=event_type.name)
        )
        context = rendering.template_context(
            event_type, recipient, delivery.context, unsubscribe_url=unsubscribe
        )
        return providers.send_email(
            to=recipient.email,
            rendered=rendering.render_email(event_type, context),
            unsubscribe_url=unsubscribe,
        )

    if delivery.channel in PHONE_CHANNELS:
        number = _phone_for(delivery, event_type, recipient)
        context = rendering.template_context(event_type, recipient, delivery.context)
        body = rendering.render_sms(event_type, context)
        if delivery.channel == Channel.WHATSAPP and not providers.whatsapp_window_open(number):
            # Outside the 24-hour window WhatsApp accepts approved templates only.
            content_sid = providers.whatsapp_template(event_type)
            if content_sid:
                return providers.send_twilio(
                    channel=Channel.WHATSAPP,
                    to=number,
                    body=body,
                    content_sid=content_sid,
                    content_variables=rendering.whatsapp_variables(event_type, context),
                )
            if providers.twilio_configured(Channel.WHATSAPP):
                raise providers.PermanentError(
                    f"no approved WhatsApp template for {event_type.name} "
                    "(TWILIO_WHATSAPP_CONTENT_SIDS) and the 24-hour window is closed",
                    code="no_template",
                )
        return providers.send_twilio(channel=delivery.channel, to=number, body=body)

    raise providers.PermanentError(f"channel {delivery.channel} is not sent by a task")


def deliveries_stale_collect() -> list[int]:
    """The queued deliveries whose task was lost (broker down, worker killed before it
    started), for the beat task to queue again. A task that finds its row no longer queued does
    nothing, so queueing one twice never sends twice. A row left 'sending' by a crashed worker is
    failed here, not resent: the provider may have accepted it."""
    now = timezone.now()
    backoff_cap = timedelta(seconds=settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS)
    never_tried = Delivery.objects.filter(
        status=DeliveryStatus.QUEUED, attempts=0, updated_at__lt=now - timedelta(minutes=5)
    )
    retry_lost = Delivery.objects.filter(
        status=DeliveryStatus.QUEUED,
        attempts__gt=0,
        updated_at__lt=now - backoff_cap - timedelta(minutes=5),
    )
    ids = list(never_tried.values_list("pk", flat=True)[:500]) + list(
        retry_lost.values_list("pk", flat=True)[:500]
    )
    Delivery.objects.filter(
        status=DeliveryStatus.SENDING, updated_at__lt=now - timedelta(minutes=30)
    ).update(
        status=DeliveryStatus.FAILED,
        error_code="interrupted",
        last_error="The worker stopped while sending; not resent to avoid a double send.",
        updated_at=now,
    )
    return ids
