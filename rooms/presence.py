"""Who is in a room right now: the one rule every room decision asks (hand-over, waiting for
ready, the round trip commands are scheduled by, the members list).

A member is online while they have an open connection that has been seen lately: each
connection refreshes ``RoomMember.seen_at`` every SEEN_EVERY_SECONDS, so the connections of
a process that crashed (and never said goodbye) stop counting after ONLINE_FOR_SECONDS.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

SEEN_EVERY_SECONDS = 30
ONLINE_FOR_SECONDS = 3 * SEEN_EVERY_SECONDS


def online_since():
    return timezone.now() - timedelta(seconds=ONLINE_FOR_SECONDS)


def online_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}connections__gt": 0, f"{prefix}seen_at__gte": online_since()})


def is_online(member) -> bool:
    return bool(member.connections > 0 and member.seen_at and member.seen_at >= online_since())
