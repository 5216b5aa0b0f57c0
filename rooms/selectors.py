"""Reads of rooms, scoped by who asks."""

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from rooms.errors import RoomNotFound
from rooms.models import Room, RoomMember
from rooms.presence import online_q


def rooms_listed_for(user) -> QuerySet[Room]:
    """Public rooms and the rooms the person is in, newest first."""
    mine = RoomMember.objects.filter(room=OuterRef("pk"), user=user)
    return (
        Room.objects.annotate(is_member=Exists(mine), member_count=Count("members", distinct=True))
        .filter(Q(visibility=Room.Visibility.PUBLIC) | Q(is_member=True))
        .select_related("host")
        .order_by("-created_at", "id")
    )


def room_get_for(user, room_id) -> Room:
    """A room the person may see: public, or one they are in. Others' private rooms are 404."""
    try:
        return rooms_listed_for(user).get(pk=room_id)
    except (Room.DoesNotExist, ValueError):
        raise RoomNotFound() from None


def room_by_invite(token: str) -> Room:
    try:
        return Room.objects.get(invite_token=token)
    except Room.DoesNotExist:
        raise RoomNotFound("This invite link is not valid.") from None


def room_member_of(user, room_id) -> RoomMember | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return RoomMember.objects.filter(room_id=room_id, user=user).first()


def room_max_rtt_ms(room_id) -> int:
    """The highest round trip among the members online now."""
    rtts = RoomMember.objects.filter(online_q(), room_id=room_id).values_list("rtt_ms", flat=True)
    return max(rtts, default=0)
