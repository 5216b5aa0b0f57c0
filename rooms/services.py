"""Every write to a room: a transaction, the room's row lock, the change, the version bump, and
the fan-out scheduled for after the commit (``rooms.realtime.room_events_send``).

Locking the room row serialises everything that happens in one room (joins against the
32-member limit, commands, readies, deadlines), on PostgreSQL and SQLite alike.
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from catalog.models import Song, Visibility
from catalog.selectors import songs_visible_to
from rooms.errors import Invalid, NotHost, NotMember, QueueEmpty, RoomFull, RoomNotFound
from rooms.models import MAX_MEMBERS, Room, RoomMember, RoomQueueEntry
from rooms.presence import is_online, online_q
from rooms.realtime import now_ms, room_events_send
from rooms.selectors import room_max_rtt_ms
from rooms.state import member_dict, room_state_shared

ACTIONS = ("play", "pause", "seek", "next", "previous", "queue_add", "queue_remove")
# "previous" restarts the song instead when it has played this long, as players do.
RESTART_AFTER_MS = 3000
MAX_RTT_MS = 5000


def min_lead_ms() -> int:
    return int(getattr(settings, "ROOMS_MIN_LEAD_MS", 500))


def ready_timeout_ms() -> int:
    return int(getattr(settings, "ROOMS_READY_TIMEOUT_MS", 5000))


def host_grace_seconds() -> float:
    return float(getattr(settings, "ROOMS_HOST_GRACE_SECONDS", 15))


def lead_ms(room_id) -> int:
    """How far ahead a command is scheduled: twice the slowest online member's round trip, so
    the change reaches everyone before it takes effect, and never under the floor."""
    return max(2 * room_max_rtt_ms(room_id), min_lead_ms())


def _locked(room_id) -> Room:
    try:
        return Room.objects.select_for_update().get(pk=room_id)
    except (Room.DoesNotExist, ValueError):
        raise RoomNotFound() from None


def _changed(room: Room, *extra_events: dict) -> dict:
    """Save the room under a new version and broadcast its state (after commit)."""
    room.version += 1
    room.save()
    state = room_state_shared(room)
    room_events_send(
        room_id=room.pk, events=[*extra_events, {"type": "room.state", "state": state}]
    )
    return state


# --- rooms and members ----------------------------------------------------------------------


def room_create(*, user, name: str, visibility: str) -> Room:
    name = " ".join(str(name or "").split())
    if not name:
        raise Invalid("Give the room a name.", code="name_required")
    if len(name) > 80:
        raise Invalid("A room's name has at most 80 characters.", code="name_too_long")
    if visibility not in Room.Visibility.values:
        raise Invalid("Visibility is public or private.", code="invalid_visibility")
    with transaction.atomic():
        room = Room.objects.create(name=name, visibility=visibility, host=user)
        RoomMember.objects.create(room=room, user=user)
    return room


def room_join(*, room_id, user, invite_token: str | None = None) -> tuple[RoomMember, bool]:
    """Join a public room, or a private one with its invite token. Joining twice is a no-op.
    Others' private rooms without the right token are 404: their existence is not told."""
    with transaction.atomic():
        room = _locked(room_id)
        member = RoomMember.objects.filter(room=room, user=user).first()
        if member is not None:
            return member, False
        if room.visibility == Room.Visibility.PRIVATE and invite_token != room.invite_token:
            raise RoomNotFound()
        # Counted under the room's lock: two joins for the 32nd place cannot both pass.
        if RoomMember.objects.filter(room=room).count() >= MAX_MEMBERS:
            raise RoomFull()
        member = RoomMember.objects.create(room=room, user=user)
        if room.host_id is None:
            room.host = user
        _changed(room, {"type": "member.joined", "member": member_dict(member, room)})
    return member, True


def _next_host(room: Room, *, leaving_user_id) -> RoomMember | None:
    """The longest-present member besides the one leaving: online ones first."""
    others = RoomMember.objects.filter(room=room).exclude(user_id=leaving_user_id)
    return (
        others.filter(online_q()).order_by("joined_at", "id").first()
        or others.order_by("joined_at", "id").first()
    )


def room_leave(*, room_id, user) -> None:
    with transaction.atomic():
        room = _locked(room_id)
        member = RoomMember.objects.filter(room=room, user=user).first()
        if member is None:
            raise NotMember()
        member.delete()
        if room.host_id == user.pk:
            successor = _next_host(room, leaving_user_id=user.pk)
            room.host_id = successor.user_id if successor else None
        _changed(room, {"type": "member.left", "user_id": str(user.pk), "reason": "left"})


def room_settings_update(*, room_id, user, guests_may_command: bool) -> dict:
    with transaction.atomic():
        room = _locked(room_id)
        _require_member(room, user)
        if room.host_id != user.pk:
            raise NotHost()
        room.guests_may_command = bool(guests_may_command)
        return _changed(room)


def _require_member(room: Room, user) -> RoomMember:
    member = RoomMember.objects.filter(room=room, user=user).first()
    if member is None:
        raise NotMember()
    return member


# --- presence -------------------------------------------------------------------------------


def room_connect(*, room_id, user) -> dict:
    """A member's websocket opened. Returns the room's state for that connection; the others
    hear a small ``member.presence`` event, not the whole state (a crowd arriving would
    otherwise cost everyone a state per arrival)."""
    with transaction.atomic():
        room = _locked(room_id)
        member = _require_member(room, user)
        # Connections counted before the member went unseen died with their process.
        still_counted = F("connections") if is_online(member) else 0
        RoomMember.objects.filter(pk=member.pk).update(
            connections=still_counted + 1, disconnected_at=None, seen_at=timezone.now()
        )
        if _host_pass_if_absent(room):
            return _changed(room)
        _presence_send(room, user, online=True)
        return room_state_shared(room)


def _presence_send(room: Room, user, *, online: bool) -> None:
    room_events_send(
        room_id=room.pk,
        events=[{"type": "member.presence", "user_id": str(user.pk), "online": online}],
    )


def room_disconnect(*, room_id, user) -> bool:
    """A member's websocket closed. Returns whether that leaves the host away (so the role
    may pass on after the grace period)."""
    with transaction.atomic():
        room = _locked(room_id)
        member = RoomMember.objects.filter(room=room, user=user).first()
        if member is None:
            return False  # they left the room; the leave said so already
        left = max(member.connections - 1, 0)
        RoomMember.objects.filter(pk=member.pk).update(
            connections=left, disconnected_at=timezone.now() if left == 0 else None
        )
        # Those still here may all be ready: the one who left was the last being waited for.
        if room.status == Room.Status.WAITING and _play_if_all_ready(room, now=now_ms()):
            _changed(room)
        if left == 0:
            _presence_send(room, user, online=False)
        return left == 0 and room.host_id == user.pk


def room_seen_touch(*, room_id, user) -> None:
    """An open connection of the member is still there (every SEEN_EVERY_SECONDS)."""
    RoomMember.objects.filter(room_id=room_id, user=user, connections__gt=0).update(
        seen_at=timezone.now()
    )


def room_host_check(*, room_id) -> bool:
    """Pass the host role on if the host has been away longer than the grace period (a page
    reload or a network blip keeps it). Returns whether it passed."""
    with transaction.atomic():
        room = _locked(room_id)
        if not _host_pass_if_absent(room):
            return False
        _changed(room)
        return True


def _away_since(member: RoomMember):
    """False while the member is here (online, or never connected yet); else when they were
    last here (None: unknown, long ago)."""
    if is_online(member):
        return False
    if member.connections > 0:
        return member.seen_at  # their connections died with a process
    return member.disconnected_at or False


def _host_pass_if_absent(room: Room) -> bool:
    if room.host_id is None:
        successor = _next_host(room, leaving_user_id=None)
        if successor:
            room.host_id = successor.user_id
            return True
        return False
    host = RoomMember.objects.filter(room=room, user_id=room.host_id).first()
    cutoff = timezone.now() - timedelta(seconds=host_grace_seconds())
    if host is not None:
        away_since = _away_since(host)
        if away_since is False or (away_since is not None and away_since > cutoff):
            return False
    successor = (
        RoomMember.objects.filter(online_q(), room=room)
        .exclude(user_id=room.host_id)
        .order_by("joined_at", "id")
        .first()
    )
    if successor is None:
        return False
    room.host_id = successor.user_id
    return True


def room_rtt_report(*, room_id, user, rtt_ms) -> None:
    """A member's client finished a clock sync: its best round trip sets how far ahead the
    room schedules commands. Stored without a broadcast; the next command uses it."""
    try:
        rtt = int(rtt_ms)
    except (TypeError, ValueError):
        raise Invalid("rtt_ms is a whole number of milliseconds.", code="invalid_rtt") from None
    if not 0 <= rtt <= MAX_RTT_MS:
        raise Invalid(f"rtt_ms is between 0 and {MAX_RTT_MS}.", code="invalid_rtt")
    updated = RoomMember.objects.filter(room_id=room_id, user=user).update(rtt_ms=rtt)
    if not updated:
        raise NotMember()


# --- playback -------------------------------------------------------------------------------


def _position_at(room: Room, t: int) -> int:
    if room.status == Room.Status.PLAYING and t > room.at_server_ms:
        return room.position_ms + (t - room.at_server_ms)
    return room.position_ms


def _duration_ms(entry: RoomQueueEntry | None) -> int | None:
    if entry is None or not entry.song.duration:
        return None
    return int(entry.song.duration * 1000)


def _start(room: Room, entry: RoomQueueEntry, position_ms: int, *, now: int) -> None:
    """Load a song: everyone fetches it and reports ready; it plays when all online members
    have, or at the deadline."""
    room.current = entry
    room.status = Room.Status.WAITING
    room.position_ms = position_ms
    room.at_server_ms = now
    room.waiting_until_ms = now + ready_timeout_ms()


def _play_if_all_ready(room: Room, *, now: int, force: bool = False) -> bool:
    online = RoomMember.objects.filter(online_q(), room=room)
    # A member is ready for the version the waiting began at or any later one. With nobody
    # online the room keeps waiting: the deadline decides once someone is back.
    if not force and (
        not online.exists() or online.filter(ready_version__lt=room.version).exists()
    ):
        return False
    room.status = Room.Status.PLAYING
    room.at_server_ms = now + lead_ms(room.pk)
    room.waiting_until_ms = None
    return True


def _entry_after(room: Room, entry: RoomQueueEntry | None) -> RoomQueueEntry | None:
    entries = RoomQueueEntry.objects.filter(room=room).select_related("song")
    if entry is None:
        return entries.first()
    return entries.filter(position__gt=entry.position).first()


def _entry_before(room: Room, entry: RoomQueueEntry) -> RoomQueueEntry | None:
    return (
        RoomQueueEntry.objects.filter(room=room, position__lt=entry.position)
        .select_related("song")
        .order_by("-position")
        .first()
    )


def _song_for_queue(user, song_id) -> Song:
    """A song everyone in the room may hear: public and visible to whoever adds it."""
    try:
        return songs_visible_to(user).get(pk=song_id, visibility=Visibility.PUBLIC)
    except (Song.DoesNotExist, ValueError, TypeError):
        raise Invalid("No such song to queue.", code="song_not_found") from None


def _song_id(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Invalid("No such song.", code="song_not_found") from None


def _position_arg(value, entry: RoomQueueEntry | None) -> int:
    try:
        position = int(value)
    except (TypeError, ValueError):
        raise Invalid("position_ms is a whole number.", code="invalid_position") from None
    duration = _duration_ms(entry)
    if position < 0 or (duration is not None and position > duration):
        raise Invalid("position_ms is outside the song.", code="invalid_position")
    return position


def _may_command(room: Room, user) -> None:
    _require_member(room, user)
    if room.host_id != user.pk and not room.guests_may_command:
        raise NotHost()


def _queue_append(room: Room, user, songs) -> list[RoomQueueEntry]:
    last = RoomQueueEntry.objects.filter(room=room).aggregate(last=Max("position"))["last"] or 0
    entries = [
        RoomQueueEntry(room=room, song=song, added_by=user, position=last + n)
        for n, song in enumerate(songs, start=1)
    ]
    RoomQueueEntry.objects.bulk_create(entries)
    return list(RoomQueueEntry.objects.filter(room=room, position__gt=last).select_related("song"))


def room_queue_add_songs(*, room_id, user, songs) -> dict:
    """Append songs to the queue, in order, recorded as added by ``user``. Playlists queue
    through here with their songs (each checked by ``_song_for_queue``'s rule first)."""
    with transaction.atomic():
        room = _locked(room_id)
        _may_command(room, user)
        if not songs:
            raise Invalid("Nothing to add.", code="nothing_to_add")
        _queue_append(room, user, songs)
        return _changed(room)


def room_queue_add(*, room_id, user, song_id) -> dict:
    return room_queue_add_songs(room_id=room_id, user=user, songs=[_song_for_queue(user, song_id)])


def room_queue_remove(*, room_id, user, entry_id=None, song_id=None) -> dict:
    """Remove an entry (by its id; or, given only a song, that song's latest entry). Removing
    the entry playing now moves on to the next one."""
    with transaction.atomic():
        room = _locked(room_id)
        _may_command(room, user)
        if entry_id is None and song_id is not None:
            latest = RoomQueueEntry.objects.filter(room=room, song_id=str(song_id)).last()
            entry_id = latest.pk if latest else None
        entry = _queue_entry(room, entry_id)
        if room.current_id == entry.pk:
            following = _entry_after(room, entry)
            if following:
                _start(room, following, 0, now=now_ms())
            else:
                room.current = None
                room.status = Room.Status.PAUSED
                room.position_ms = 0
                room.waiting_until_ms = None
        entry.delete()
        return _changed(room)


def _queue_entry(room: Room, entry_id) -> RoomQueueEntry:
    try:
        return RoomQueueEntry.objects.get(room=room, pk=int(entry_id))
    except (RoomQueueEntry.DoesNotExist, TypeError, ValueError):
        raise Invalid("No such entry in the queue.", code="entry_not_found") from None


def room_command(*, room_id, user, action: str, song_id=None, position_ms=None, entry_id=None):
    """One of the protocol's commands, from the host (or a guest when the host allows).
    Playback changes take effect at ``now + lead`` on the server clock."""
    if action not in ACTIONS:
        raise Invalid(f"action is one of {', '.join(ACTIONS)}.", code="invalid_action")
    if song_id is not None:
        song_id = _song_id(song_id)
    if action == "queue_add":
        return room_queue_add(room_id=room_id, user=user, song_id=song_id)
    if action == "queue_remove":
        return room_queue_remove(room_id=room_id, user=user, entry_id=entry_id, song_id=song_id)
    with transaction.atomic():
        room = _locked(room_id)
        _host_pass_if_absent(room)
        _may_command(room, user)
        now = now_ms()
        at = now + lead_ms(room.pk)
        current = (
            RoomQueueEntry.objects.select_related("song").get(pk=room.current_id)
            if room.current_id
            else None
        )
        if action == "play":
            _play(room, user, current, song_id, position_ms, now=now, at=at)
        elif action == "pause":
            if room.status == Room.Status.PLAYING:
                room.position_ms = _position_at(room, at)
                room.at_server_ms = at
            room.status = Room.Status.PAUSED
            room.waiting_until_ms = None
        elif action == "seek":
            if current is None:
                raise QueueEmpty()
            room.position_ms = _position_arg(position_ms, current)
            room.at_server_ms = at
        elif action == "next":
            following = _entry_after(room, current)
            if following is None:
                raise QueueEmpty("No song after this one.", code="queue_end")
            _start(room, following, 0, now=now)
        elif action == "previous":
            if current is None:
                raise QueueEmpty()
            earlier = _entry_before(room, current)
            if earlier is None or _position_at(room, now) > RESTART_AFTER_MS:
                earlier = current
            _start(room, earlier, 0, now=now)
        return _changed(room)


def _play(room, user, current, song_id, position_ms, *, now: int, at: int) -> None:
    if song_id is not None and (current is None or current.song_id != song_id):
        entry = (
            RoomQueueEntry.objects.filter(room=room, song_id=song_id).select_related("song").first()
        )
        if entry is None:
            entry = _queue_append(room, user, [_song_for_queue(user, song_id)])[0]
        start = _position_arg(position_ms, entry) if position_ms is not None else 0
        _start(room, entry, start, now=now)
        return
    if current is None:
        first = _entry_after(room, None)
        if first is None:
            raise QueueEmpty()
        _start(room, first, 0, now=now)
        return
    if position_ms is not None:
        room.position_ms = _position_arg(position_ms, current)
    elif room.status == Room.Status.PLAYING:
        room.position_ms = _position_at(room, at)
    if room.status == Room.Status.WAITING:
        return  # it plays once everyone has loaded it
    room.status = Room.Status.PLAYING
    room.at_server_ms = at


def room_ready(*, room_id, user, version=None) -> dict | None:
    """A member has loaded the song of the state ``version`` (the latest when not given)."""
    with transaction.atomic():
        room = _locked(room_id)
        member = _require_member(room, user)
        try:
            ready_for = room.version if version is None else int(version)
        except (TypeError, ValueError):
            raise Invalid("version is a whole number.", code="invalid_version") from None
        ready_for = min(ready_for, room.version)
        if ready_for > member.ready_version:
            RoomMember.objects.filter(pk=member.pk).update(ready_version=ready_for)
        if room.status != Room.Status.WAITING:
            return None
        if not _play_if_all_ready(room, now=now_ms()):
            return None
        return _changed(room)


def room_deadline(*, room_id, version: int) -> dict | None:
    """What happens at a state's own deadline, if the room is still in that state: a waiting
    room plays anyway; a song that has ended gives way to the next (or the room stops).
    Every member's connection calls this at the deadline; the version makes one of them act."""
    with transaction.atomic():
        room = _locked(room_id)
        if room.version != version:
            return None
        now = now_ms()
        if room.status == Room.Status.WAITING:
            if room.waiting_until_ms is None or now < room.waiting_until_ms:
                return None
            _play_if_all_ready(room, now=now, force=True)
            return _changed(room)
        if room.status != Room.Status.PLAYING or room.current_id is None:
            return None
        current = RoomQueueEntry.objects.select_related("song").get(pk=room.current_id)
        duration = _duration_ms(current)
        if duration is None or _position_at(room, now) < duration:
            return None
        following = _entry_after(room, current)
        if following is None:
            room.status = Room.Status.PAUSED
            room.position_ms = 0
            room.at_server_ms = now
        else:
            _start(room, following, 0, now=now)
        return _changed(room)
