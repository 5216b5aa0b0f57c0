"""Every write about notifications. ``notify`` is the one way Encore tells a person something.

How a notification travels:

1. A service calls ``notify(event, recipient=..., context=...)`` inside its transaction.
2. ``notify`` picks the channels (the event's defaults, the person's preferences, a verified
   phone for SMS/WhatsApp) and writes one ``Delivery`` row per channel, in the caller's
   transaction: the delivery log doubles as an outbox. The unique (event key, person, channel)
   constraint makes a repeated call a no-op. In-app notifications are written right there.
3. When the transaction commits, a Celery task is queued per delivery and the in-app ones are
   pushed over ``ws/events/``. A rollback leaves no row and sends nothing.
4. The task claims its row (queued -> sending, atomically, so a duplicate task does nothing),
   renders the templates, calls the provider and records the outcome (notifications/sending.py).
   Transient errors are retried with exponential backoff; permanent ones fail the row at once.
"""

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable
from functools import partial

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.realtime import user_event_push
from notifications import catalogue, rendering, selectors, tasks
from notifications.catalogue import EventType
from notifications.models import (
    FINAL_STATUSES,
    PHONE_CHANNELS,
    STATUS_RANK,
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    Preference,
    WhatsAppInbound,
)
from notifications.tokens import read_unsubscribe_token

logger = logging.getLogger(__name__)

CHANNEL_ORDER = (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.IN_APP)


# --- notify ---------------------------------------------------------------------------------


def _stored_context(context: dict) -> dict:
    """The context as it is kept in the delivery log: JSON (datetimes as ISO strings)."""
    return json.loads(json.dumps(context, cls=DjangoJSONEncoder))


def default_key(event_type: EventType, recipient: User, stored: dict) -> str:
    """The same event about the same thing (same context) to the same person is sent once.

    Secrets are left out of the digest; callers that send them pass their own key.
    """
    public = {k: v for k, v in stored.items() if k not in event_type.sensitive}
    payload = json.dumps([event_type.name, str(recipient.pk), public], sort_keys=True)
    return f"{event_type.name}:{hashlib.sha256(payload.encode()).hexdigest()[:40]}"


def channels_for(event_type: EventType, recipient: User) -> list[str]:
    """The channels an event goes out on for this person, in a stable order."""
    if not recipient.is_active:
        return []
    tunable = event_type.channels - event_type.locked
    choices = (
        dict(
            Preference.objects.filter(
                user=recipient, event=event_type.name, channel__in=tunable
            ).values_list("channel", "enabled")
        )
        if tunable
        else {}
    )
    chosen = []
    for channel in CHANNEL_ORDER:
        if channel not in event_type.channels:
            continue
        wanted = channel in event_type.locked or choices.get(
            channel, channel in event_type.defaults
        )
        if not wanted:
            continue
        if channel == Channel.EMAIL and not recipient.email:
            continue
        if (
            channel in PHONE_CHANNELS
            and not event_type.phone_from_context
            and not recipient.phone_verified
        ):
            continue  # SMS and WhatsApp only ever go to a verified number
        chosen.append(channel)
    return chosen


def notify(
    event: str,
    *,
    recipient: User,
    context: dict,
    key: str | None = None,
    durable: bool = False,
) -> list[Delivery]:
    """Tell `recipient` about `event` on the channels they get it on, after the commit.

    `key` identifies this occurrence (e.g. ``f"order:{order.pk}:draft:{version.pk}"``): the
    same key never goes out twice on a channel, so a retried caller is harmless. By default
    it is derived from the event, the person and the context.

    ``durable=True`` is for callers that have no transaction of their own (a password reset
    request writes nothing): the rows are written in a durable transaction (Django refuses one
    nested in another transaction) and dispatched as soon as it commits.

    Returns the deliveries this call created (none when they already existed).
    """
    event_type = catalogue.get(event)
    event_type.check_context(context)
    stored = _stored_context(context)
    key = key or default_key(event_type, recipient, stored)
    if len(key) > 200:
        raise ValueError("notification keys are at most 200 characters")
    channels = channels_for(event_type, recipient)
    if not channels:
        return []
    if durable:
        with transaction.atomic(durable=True):
            created = _record(event_type, recipient, stored, key, channels)
        _dispatch(created)
        return created
    with transaction.atomic():
        created = _record(event_type, recipient, stored, key, channels)
        if created:
            transaction.on_commit(partial(_dispatch, created))
    return created


def _record(event_type, recipient, stored, key, channels) -> list[Delivery]:
    created_rows = []
    for channel in channels:
        delivery, created = Delivery.objects.get_or_create(
            event_key=key,
            recipient=recipient,
            channel=channel,
            defaults={"event": event_type.name, "context": stored},
        )
        if not created:
            continue  # this occurrence was already recorded: never twice
        if channel == Channel.IN_APP:
            _write_in_app(delivery, event_type, recipient, stored)
        created_rows.append(delivery)
    return created_rows


def _write_in_app(delivery: Delivery, event_type: EventType, recipient: User, stored: dict):
    now = timezone.now()
    try:
        context = rendering.template_context(event_type, recipient, stored)
        rendered = rendering.render_in_app(event_type, stored, context)
    except Exception as error:  # a broken template must not undo the caller's work
        logger.exception("in-app notification %s could not be rendered", event_type.name)
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = f"render: {error!r}"[:2000]
        delivery.attempts = 1
        delivery.save(update_fields=["status", "last_error", "attempts", "updated_at"])
        return
    # Creating it caches the reverse accessor: delivery.notification needs no query later.
    Notification.objects.create(
        recipient=recipient,
        delivery=delivery,
        event=event_type.name,
        title=rendered.title,
        body=rendered.body,
        link=rendered.link,
    )
    delivery.status = DeliveryStatus.SENT
    delivery.provider = "in_app"
    delivery.to = str(recipient.pk)
    delivery.attempts = 1
    delivery.sent_at = now
    delivery.save(update_fields=["status", "provider", "to", "attempts", "sent_at", "updated_at"])


def _dispatch(deliveries: list[Delivery]) -> None:
    """After the commit: queue a task per delivery; push the in-app ones to open pages."""
    for delivery in deliveries:
        if delivery.channel == Channel.IN_APP:
            try:
                notification = delivery.notification
            except Notification.DoesNotExist:  # it could not be rendered
                continue
            _push(
                delivery.recipient_id,
                {
                    "type": "notification",
                    "notification": selectors.notification_payload(notification),
                },
            )
        else:
            tasks.delivery_enqueue(delivery.pk)


def _push(user_id, event: dict) -> None:
    event["unread"] = selectors.unread_count(user_id=user_id)
    try:
        user_event_push(user_id=user_id, event=event)
    except Exception:  # the channel layer being down must not break the caller
        logger.exception("could not push %s to %s", event.get("type"), user_id)


# --- provider callbacks ---------------------------------------------------------------------

# Twilio's message statuses -> ours. Statuses before "sent" carry no news for us.
TWILIO_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
    "canceled": DeliveryStatus.FAILED,
}


def delivery_status_record(
    *, provider: str, provider_id: str, status: str, error_code: str = ""
) -> Delivery | None:
    """Apply a provider's status report. Statuses only move forward, so a replayed or late
    report changes nothing. Returns the delivery, or None when it is not ours."""
    new_status = TWILIO_STATUSES.get((status or "").lower())
    if new_status is None or not provider_id:
        return None
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update()
            .filter(provider=provider, provider_id=provider_id)
            .first()
        )
        if delivery is None:
            return None
        current = delivery.status
        if current in FINAL_STATUSES or STATUS_RANK[new_status] <= STATUS_RANK.get(current, 0):
            return delivery
        now = timezone.now()
        delivery.status = new_status
        fields = ["status", "updated_at"]
        if new_status in (DeliveryStatus.DELIVERED, DeliveryStatus.READ):
            delivery.delivered_at = delivery.delivered_at or now
            fields.append("delivered_at")
        if new_status == DeliveryStatus.FAILED:
            delivery.error_code = (error_code or status)[:32]
            delivery.last_error = f"{provider} reported {status}" + (
                f" (error {error_code})" if error_code else ""
            )
            fields += ["error_code", "last_error"]
        delivery.save(update_fields=fields)
    return delivery


def whatsapp_inbound_record(*, phone_number: str) -> None:
    """A person wrote to us on WhatsApp: free-form replies are allowed for 24 hours."""
    WhatsAppInbound.objects.update_or_create(
        phone_number=phone_number, defaults={"last_inbound_at": timezone.now()}
    )


# --- in-app notifications -------------------------------------------------------------------


def notification_mark_read(*, user: User, notification_id) -> Notification:
    """Mark one of the person's own notifications read (DoesNotExist for anyone else's)."""
    notification = selectors.notification_get(user=user, notification_id=notification_id)
    if notification.read_at is None:
        now = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=now)
        notification.read_at = now
        transaction.on_commit(partial(_push, user.pk, {"type": "notification.read"}))
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    marked = Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if marked:
        transaction.on_commit(partial(_push, user.pk, {"type": "notification.read"}))
    return marked


# --- preferences ----------------------------------------------------------------------------


class PreferenceError(ValidationError):
    pass


def _check_preference(event: str, channel: str, enabled: bool) -> EventType:
    try:
        event_type = catalogue.get(event)
    except catalogue.UnknownEvent:
        raise PreferenceError(f"Unknown event {event!r}.", code="unknown_event") from None
    if channel not in event_type.channels:
        raise PreferenceError(
            f"{event_type.label} is not sent by {channel}.", code="unknown_channel"
        )
    if channel in event_type.locked and not enabled:
        raise PreferenceError(
            f"{event_type.label} is needed to keep your account safe and cannot be turned off.",
            code="critical",
        )
    return event_type


def preferences_update(*, user: User, changes: Iterable[tuple[str, str, bool]]) -> None:
    """Set several (event, channel, enabled) choices at once; all or nothing."""
    changes = list(changes)
    for event, channel, enabled in changes:
        _check_preference(event, channel, enabled)
    with transaction.atomic():
        for event, channel, enabled in changes:
            Preference.objects.update_or_create(
                user=user, event=event, channel=channel, defaults={"enabled": bool(enabled)}
            )


def preference_set(*, user: User, event: str, channel: str, enabled: bool) -> None:
    preferences_update(user=user, changes=[(event, channel, enabled)])


class InvalidUnsubscribe(Exception):
    pass


def unsubscribe_check(*, token: str) -> tuple[User, EventType]:
    """Who and what a one-click unsubscribe link is for; InvalidUnsubscribe if forged."""
    try:
        user_id, event = read_unsubscribe_token(token)
    except signing.BadSignature:
        raise InvalidUnsubscribe("This link is not valid.") from None
    event_type = catalogue.EVENTS.get(event)
    user = User.objects.filter(pk=user_id).first() if _is_uuid(user_id) else None
    if user is None or event_type is None:
        raise InvalidUnsubscribe("This link is not valid.")
    return user, event_type


def unsubscribe(*, token: str) -> tuple[User, EventType]:
    """Turn off the email of one event for the link's person (no login needed)."""
    user, event_type = unsubscribe_check(token=token)
    if Channel.EMAIL in event_type.locked:
        raise InvalidUnsubscribe(f"{event_type.label} emails cannot be turned off.")
    preference_set(user=user, event=event_type.name, channel=Channel.EMAIL, enabled=False)
    return user, event_type


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- digests --------------------------------------------------------------------------------


def chat_digest_send(
    *, recipient: User, conversations: list[dict], up_to: str, url: str
) -> list[Delivery]:
    """Sum up unread chat messages for a person who was offline when they arrived.

    The chat (a later issue) calls this for people with unread messages and no open
    connection. ``conversations``: ``[{"title", "count", "url", "last_sender",
    "last_excerpt"}]``; ``up_to`` identifies the newest unread message, so the same batch is
    never summed up twice; ``url`` is where the person reads them all.
    """
    conversations = [c for c in conversations if int(c.get("count") or 0) > 0]
    if not conversations:
        return []
    total = sum(int(c["count"]) for c in conversations)
    return notify(
        "chat.unread_digest",
        recipient=recipient,
        context={"conversations": conversations[:10], "total": total, "url": url},
        key=f"chat.unread_digest:{recipient.pk}:{up_to}"[:200],
    )
