"""Notifications: what was sent to whom, on which channel, and what each person wants.

- ``Delivery`` is the delivery log and the outbox: one row per (event key, person, channel),
  written in the caller's transaction, sent by a Celery task after it commits. The unique
  constraint is what makes ``notify`` idempotent.
- ``Notification`` is the in-app message behind the bell.
- ``Preference`` keeps a person's choices; anything not stored follows the event's defaults.
- ``WhatsAppInbound`` remembers when a number last wrote to us on WhatsApp (the 24-hour window
  in which free-form messages are allowed).
"""

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    WHATSAPP = "whatsapp", "WhatsApp"
    IN_APP = "in_app", "In the app"


PHONE_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP})


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    READ = "read", "Read"
    FAILED = "failed", "Failed"
    LOGGED = "logged", "Written to the log (provider not configured)"


# A status only moves forward: a late or replayed provider callback never moves a row back.
STATUS_RANK = {
    DeliveryStatus.QUEUED: 0,
    DeliveryStatus.SENDING: 1,
    DeliveryStatus.SENT: 2,
    DeliveryStatus.DELIVERED: 3,
    DeliveryStatus.FAILED: 3,
    DeliveryStatus.READ: 4,
}
FINAL_STATUSES = frozenset({DeliveryStatus.FAILED, DeliveryStatus.LOGGED})


class Delivery(models.Model):
    """One channel attempt of one event for one person: the delivery log."""

    event = models.CharField(max_length=64)
    event_key = models.CharField(
        max_length=200, help_text="Idempotency key: the same key never goes out twice."
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    context = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    provider = models.CharField(max_length=32, blank=True)
    provider_id = models.CharField(max_length=255, blank=True)
    to = models.CharField("address", max_length=254, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "delivery"
        verbose_name_plural = "delivery log"
        constraints = [
            models.UniqueConstraint(
                fields=["event_key", "recipient", "channel"],
                name="notifications_delivery_once_per_key",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_id"],
                condition=~Q(provider_id=""),
                name="notifications_delivery_provider_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=Channel.values), name="notifications_delivery_channel"
            ),
            models.CheckConstraint(
                condition=Q(status__in=DeliveryStatus.values), name="notifications_delivery_status"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "updated_at"], name="notif_delivery_status_idx"),
            models.Index(fields=["recipient", "-created_at"], name="notif_delivery_person_idx"),
        ]

    def __str__(self):
        return f"{self.event} -> {self.recipient_id} by {self.channel}: {self.status}"


class Notification(models.Model):
    """An in-app notification: what the bell counts and the notifications page lists."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    delivery = models.OneToOneField(
        Delivery, on_delete=models.SET_NULL, null=True, blank=True, related_name="notification"
    )
    event = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notif_person_recent_idx"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notif_person_unread_idx",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Preference(models.Model):
    """A person's choice for one event on one channel (absent: the event's default)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    event = models.CharField(max_length=64)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    enabled = models.BooleanField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event", "channel"], name="notifications_preference_unique"
            ),
        ]

    def __str__(self):
        return f"{self.user_id} {self.event} {self.channel}: {'on' if self.enabled else 'off'}"


class WhatsAppInbound(models.Model):
    """When a phone number last wrote to us on WhatsApp (opens a 24-hour free-form window)."""

    phone_number = models.CharField(max_length=16, unique=True)
    last_inbound_at = models.DateTimeField()

    class Meta:
        verbose_name = "WhatsApp inbound message"

    def __str__(self):
        return f"{self.phone_number} at {self.last_inbound_at:%Y-%m-%d %H:%M}"
