"""The room's state as the protocol sends it (``room.state``), built once per change for
everyone; each member's connection adds their own stream links (``rooms.consumers``)."""

from rooms.models import Room, RoomMember, RoomQueueEntry
from rooms.presence import is_online


def member_dict(member: RoomMember, room: Room) -> dict:
    return {
        "id": str(member.user_id),
        "display_name": member.user.display_name,
        "joined_at": member.joined_at.isoformat(),
        "online": is_online(member),
        "rtt_ms": member.rtt_ms,
        "is_host": member.user_id == room.host_id,
    }


def _song_dict(song) -> dict:
    return {
        "id": str(song.pk),
        "title": song.title,
        "artist_name": song.artist_name,
        "duration_ms": int(song.duration * 1000) if song.duration else None,
    }


def room_state_shared(room: Room) -> dict:
    entries = list(RoomQueueEntry.objects.filter(room=room).select_related("song", "added_by"))
    members = list(RoomMember.objects.filter(room=room).select_related("user"))
    current = next((e for e in entries if e.pk == room.current_id), None)
    return {
        "version": room.version,
        "status": room.status,
        "song": _song_dict(current.song) if current else None,
        "entry_id": current.pk if current else None,
        "position_ms": room.position_ms,
        "at_server_ms": room.at_server_ms,
        "waiting_until_ms": room.waiting_until_ms,
        "queue": [
            {
                "entry_id": e.pk,
                "position": e.position,
                "song": _song_dict(e.song),
                "added_by": (
                    {"id": str(e.added_by_id), "display_name": e.added_by.display_name}
                    if e.added_by
                    else None
                ),
                "current": e.pk == room.current_id,
            }
            for e in entries
        ],
        "host_id": str(room.host_id) if room.host_id else None,
        "guests_may_command": room.guests_may_command,
        "members": [member_dict(m, room) for m in members],
    }
