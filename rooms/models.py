"""Listening rooms: who is in a room, what it will play, and the playback state everyone follows.

The database is the source of truth for all of it, so a reconnect or a restarted server picks
the room up where it was; the channel layer only fans changes out.

Playback is a timeline anchored on the server's clock: at server time ``at_server_ms`` the song
is at ``position_ms``. Playing, a member at server time ``t`` is at
``position_ms + (t - at_server_ms)``; paused or waiting, at ``position_ms``.
"""

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from catalog.models import Song

MAX_MEMBERS = 32


def _invite_token() -> str:
    return secrets.token_urlsafe(18)


class Room(models.Model):
    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        PRIVATE = "private", "Private"

    class Status(models.TextChoices):
        PLAYING = "playing", "Playing"
        PAUSED = "paused", "Paused"
        # A new song is loading: members report ``ready``, or the deadline passes.
        WAITING = "waiting", "Waiting"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=80)
    visibility = models.CharField(max_length=8, choices=Visibility.choices)
    invite_token = models.CharField(max_length=32, unique=True, default=_invite_token)
    # Null only while nobody is in the room.
    host = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rooms_hosted",
    )
    guests_may_command = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PAUSED)
    current = models.ForeignKey(
        "RoomQueueEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    position_ms = models.PositiveBigIntegerField(default=0)
    at_server_ms = models.BigIntegerField(default=0)
    # While waiting: when the room plays whether or not everyone reported ready.
    waiting_until_ms = models.BigIntegerField(null=True, blank=True)
    # Bumped by every change of state, so clients drop stale messages and deferred work
    # (the waiting deadline, the song's end) acts only on the state it was planned for.
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["visibility", "-created_at"])]

    def __str__(self):
        return self.name


class RoomMember(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_memberships"
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    # Open websockets of this member (a person may have the room open in two tabs).
    connections = models.PositiveSmallIntegerField(default=0)
    disconnected_at = models.DateTimeField(null=True, blank=True)
    # Refreshed by the member's open connections (rooms.presence): connections counted by a
    # process that died stop counting once this is stale.
    seen_at = models.DateTimeField(null=True, blank=True)
    # The member's best clock-sync round trip, as their client measured it.
    rtt_ms = models.PositiveIntegerField(default=0)
    # The room version whose song this member has loaded (compared while waiting).
    ready_version = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="rooms_member_once"),
        ]

    def __str__(self):
        return f"{self.user} in {self.room}"


class RoomQueueEntry(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="queue")
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    position = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["room", "position"], name="rooms_queue_position_once"),
            models.CheckConstraint(condition=Q(position__gte=1), name="rooms_queue_position_1"),
        ]

    def __str__(self):
        return f"{self.position}. {self.song_id}"
