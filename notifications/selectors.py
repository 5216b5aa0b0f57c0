"""Reads about notifications, always scoped to the person asking."""

from django.db.models import QuerySet

from notifications import catalogue
from notifications.models import PHONE_CHANNELS, Channel, Notification, Preference


def notifications_for(*, user, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset


def notification_get(*, user, notification_id) -> Notification:
    """One of the person's own notifications; Notification.DoesNotExist for anyone else's."""
    return Notification.objects.get(recipient=user, pk=notification_id)


def unread_count(*, user=None, user_id=None) -> int:
    user_id = user_id if user_id is not None else user.pk
    return Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()


def _iso(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def notification_payload(notification: Notification) -> dict:
    """What the ws/events/ push carries (the same fields as the API's representation)."""
    return {
        "id": str(notification.pk),
        "event": notification.event,
        "title": notification.title,
        "body": notification.body,
        "link": notification.link,
        "created_at": _iso(notification.created_at),
        "read_at": _iso(notification.read_at),
    }


def preference_matrix(*, user) -> list[dict]:
    """Every event the person may tune, with each channel's state.

    ``enabled``: whether it goes out on that channel (their choice, else the default);
    ``locked``: critical, cannot be turned off; ``available``: whether it can reach them now
    (SMS and WhatsApp need a verified phone number).
    """
    stored = {
        (event, channel): enabled
        for event, channel, enabled in Preference.objects.filter(user=user).values_list(
            "event", "channel", "enabled"
        )
    }
    rows = []
    for event_type in catalogue.events_for(user):
        channels = []
        for channel in (Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.IN_APP):
            if channel not in event_type.channels:
                continue
            locked = channel in event_type.locked
            enabled = locked or stored.get(
                (event_type.name, channel), channel in event_type.defaults
            )
            available = (
                channel not in PHONE_CHANNELS
                or event_type.phone_from_context
                or user.phone_verified
            )
            channels.append(
                {
                    "channel": channel.value,
                    "label": channel.label,
                    "enabled": bool(enabled),
                    "locked": locked,
                    "available": bool(available),
                }
            )
        rows.append(
            {
                "event": event_type.name,
                "label": event_type.label,
                "group": event_type.group,
                "critical": event_type.critical,
                "channels": channels,
            }
        )
    return rows
