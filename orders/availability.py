"""Whether a musician can take a new order now, and if not, why and when they are next free.

The one rule behind matching's exclusions, the 409 a customer gets for picking an unavailable
musician, and the availability shown on Discover and the commission form. A musician is
unavailable when they are not an active musician, have paused taking orders, are away today,
or are full: the orders they hold plus the offers waiting for their answer reach their capacity.

``musician_availability`` answers for one musician; ``musicians_availability`` answers for a
list in a fixed number of queries whatever its length.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from orders.models import MusicianProfile, Order, OrderStatus

# What counts against a musician's capacity: the work they hold, and the orders offered to them
# now (an order in matching with a musician is one waiting for that musician's answer).
LOAD_STATUSES = (
    OrderStatus.MATCHING,
    OrderStatus.IN_PROGRESS,
    OrderStatus.IN_REVIEW,
    OrderStatus.REVISION_REQUESTED,
    OrderStatus.APPROVED,
    OrderStatus.DISPUTED,
)
DEFAULT_CAPACITY = 3

INACTIVE, PAUSED, AWAY, FULL = "inactive", "paused", "away", "full"
REASONS = {
    INACTIVE: "is not taking commissions",
    PAUSED: "has paused new commissions",
    AWAY: "is away",
    FULL: "is fully booked",
}


@dataclass(frozen=True)
class Availability:
    """``reason`` is one of inactive, paused, away, full (None when available).
    ``next_free_date`` is when they are expected to take orders again: the day after their time
    away ends, or, when full, the day enough of the orders they hold are due; None when nobody
    can tell (paused, away with no end, inactive) or when they are available."""

    available: bool
    reason: str | None = None
    next_free_date: date | None = None
    load: int = 0
    capacity: int = DEFAULT_CAPACITY

    @property
    def message(self) -> str:
        """A sentence for a person: 'This musician is away until 12 May.'"""
        if self.available:
            return "This musician is taking commissions."
        text = f"This musician {REASONS.get(self.reason, 'is not available')}"
        if self.next_free_date is not None:
            text += f"; they are next free on {self.next_free_date:%-d %B %Y}"
        return text + "."


def _free_on(ends: list[date], *, load: int, capacity: int, on: date) -> date | None:
    """The day enough held orders are due for the musician to fall below capacity. An order
    past its due date is counted as freeing the next day (it is about to be delivered)."""
    needed = load - capacity + 1
    if needed <= 0:
        return on
    ends = sorted(max(end, on + timedelta(days=1)) for end in ends)
    if len(ends) < needed:
        return None
    return ends[needed - 1]


def availability_from(
    profile: MusicianProfile | None,
    *,
    active: bool = True,
    load: int,
    ends: list[date] = (),
    on: date,
) -> Availability:
    """The rule itself, on what was read: ``profile`` (None: the defaults), whether the user is
    an active musician, how many orders count against their capacity and when each is due."""
    if profile is None:
        profile = MusicianProfile()
    capacity = profile.capacity or DEFAULT_CAPACITY
    if not active:
        return Availability(False, INACTIVE, None, load, capacity)
    if not profile.accepting_orders:
        return Availability(False, PAUSED, None, load, capacity)
    full = load >= capacity
    free_on = _free_on(list(ends), load=load, capacity=capacity, on=on) if full else None
    if profile.is_away(on):
        back = profile.away_until + timedelta(days=1) if profile.away_until else None
        if back is not None and full:
            back = max(back, free_on) if free_on is not None else None
        return Availability(False, AWAY, back, load, capacity)
    if full:
        return Availability(False, FULL, free_on, load, capacity)
    return Availability(True, None, None, load, capacity)


def _user_id(subject) -> object:
    if isinstance(subject, MusicianProfile):
        return subject.musician_id
    return getattr(subject, "pk", subject)


def _users_and_profiles(subjects, ids) -> tuple[dict, dict]:
    """The users and profiles behind `subjects`, reusing what the caller loaded already
    (a user list fetched with select_related("musician_profile") costs no query)."""
    User = get_user_model()
    users = {s.pk: s for s in subjects if isinstance(s, User)}
    profiles = {s.musician_id: s for s in subjects if isinstance(s, MusicianProfile)}
    missing = [pk for pk in ids if pk not in users]
    if missing:
        for user in User.objects.filter(pk__in=missing).select_related("musician_profile"):
            users[user.pk] = user
    unread = []
    for pk, user in users.items():
        if pk in profiles:
            continue
        if User.musician_profile.is_cached(user):
            profiles[pk] = getattr(user, "musician_profile", None)
        else:
            unread.append(pk)
    if unread:
        profiles.update(
            (profile.musician_id, profile)
            for profile in MusicianProfile.objects.filter(musician_id__in=unread)
        )
    return users, profiles


def musicians_availability(subjects, *, on: date | None = None) -> dict:
    """Availability of each musician in `subjects` (users, profiles or user ids), keyed by user
    id, in at most three queries whatever their number (none for users or profiles the caller
    already loaded with their profile)."""
    on = on or timezone.now().date()
    ids = list(dict.fromkeys(_user_id(subject) for subject in subjects))
    if not ids:
        return {}
    users, profiles = _users_and_profiles(subjects, ids)
    ends: dict = defaultdict(list)
    held = Order.objects.filter(musician_id__in=ids, status__in=LOAD_STATUSES).values_list(
        "musician_id", "accepted_at", "delivery_days"
    )
    now = timezone.now()
    for musician_id, accepted_at, delivery_days in held:
        # An offer not answered yet would be held from now if accepted.
        ends[musician_id].append(((accepted_at or now) + timedelta(days=delivery_days)).date())
    result = {}
    for pk in ids:
        user = users.get(pk)
        profile = profiles.get(pk)
        active = user is not None and user.is_active and user.is_musician
        result[pk] = availability_from(
            profile, active=active, load=len(ends[pk]), ends=ends[pk], on=on
        )
    return result


def musician_availability(subject, *, on: date | None = None) -> Availability:
    """Whether the musician (a user, their profile or their id) can take a new order `on` a day
    (today by default), and if not, why and when they are next free."""
    return musicians_availability([subject], on=on)[_user_id(subject)]
