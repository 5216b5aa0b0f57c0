"""Reads about orders, always scoped by who asks."""

import re
from dataclasses import dataclass

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import User
from audio.models import Rendition
from billing import selectors as billing_selectors
from orders.availability import musicians_availability
from orders.models import (
    STAGES,
    ChatMessage,
    ChatPointer,
    Dispute,
    MediaStatus,
    MusicianProfile,
    OfferStatus,
    Order,
    OrderEvent,
    OrderOffer,
    OrderStatus,
    Package,
    Review,
    Stage,
    Version,
)
from orders.wording import track_label

MILESTONE_PURPOSES = ("order_deposit", "order_balance")


def orders_visible_to(user) -> QuerySet[Order]:
    """The customer's orders and the ones assigned to the musician; staff see all."""
    if user is None or not user.is_authenticated:
        return Order.objects.none()
    queryset = Order.objects.select_related("customer", "musician", "package")
    if user.is_staff:
        return queryset
    # A picked musician hears of an order once its deposit is paid and it is offered to them;
    # an order cancelled before anyone accepted it is the customer's alone.
    offered = Q(musician=user) & ~Q(status__in=[OrderStatus.PLACED, OrderStatus.CANCELLED])
    return queryset.filter(Q(customer=user) | offered)


def order_detail_for(user, order_id) -> Order | None:
    """One order with everything its page and API show, in a fixed number of queries."""
    return (
        orders_visible_to(user)
        .select_related("review")
        .prefetch_related(
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
            Prefetch(
                "versions",
                queryset=Version.objects.select_related(
                    "asset", "revision_request"
                ).prefetch_related(
                    Prefetch("asset__renditions", queryset=Rendition.objects.order_by("kind"))
                ),
            ),
            "deliveries",
            "revision_requests",
            Prefetch("offers", queryset=OrderOffer.objects.select_related("package")),
            Prefetch(
                "disputes",
                queryset=Dispute.objects.prefetch_related(
                    "evidence__versions", "evidence__messages"
                ),
            ),
        )
        .filter(pk=order_id)
        .first()
    )


def viewer_role(order, user) -> str:
    """Who `user` is to an order they may see: its customer, its musician (offered or
    assigned), or staff."""
    if user is not None and order.customer_id == user.pk:
        return "customer"
    if user is not None and order.musician_id is not None and order.musician_id == user.pk:
        return "musician"
    return "staff"


def offer_pending_for(order, user) -> OrderOffer | None:
    """The offer of `order` waiting for `user`'s answer, if any (``order.offers`` is prefetched
    by ``order_detail_for``)."""
    user_id = getattr(user, "pk", None)
    return next(
        (
            o
            for o in order.offers.all()
            if o.musician_id == user_id and o.status == OfferStatus.PENDING
        ),
        None,
    )


@dataclass(frozen=True)
class OrderTerms:
    """An order's price and terms as the viewer reads them. A matched order's price is the
    customer's budget (a ceiling) until a musician accepts; the musician it is offered to reads
    the terms of the package it is offered at, which the order takes if they accept
    (orders.services.pricing)."""

    price: int
    currency: str
    delivery_days: int
    revisions_included: int
    package: Package | None
    budget: bool  # the price is the customer's ceiling: nobody accepted the order yet
    offered: bool  # the terms of the viewer's pending offer

    @property
    def deposit_amount(self) -> int:
        return -(-self.price // 2)

    @property
    def balance_amount(self) -> int:
        return self.price - self.deposit_amount


def order_terms_for(order, user) -> OrderTerms:
    offer = offer_pending_for(order, user)
    terms = offer.terms if offer is not None else None
    if terms is not None:
        return OrderTerms(
            price=terms["price"],
            currency=order.currency,
            delivery_days=terms["delivery_days"],
            revisions_included=terms["revisions_included"],
            package=offer.package,
            budget=False,
            offered=True,
        )
    return OrderTerms(
        price=order.price,
        currency=order.currency,
        delivery_days=order.delivery_days,
        revisions_included=order.revisions_included,
        package=order.package,
        budget=order.match and order.accepted_at is None,
        offered=offer is not None,
    )


def versions_of(order) -> QuerySet[Version]:
    """The versions of an order the caller may see (checked by the caller), oldest first,
    with what their links and feedback need."""
    return (
        order.versions.select_related("asset", "revision_request")
        .prefetch_related(
            Prefetch("asset__renditions", queryset=Rendition.objects.order_by("kind"))
        )
        .order_by("number")
    )


def version_in_review(order) -> Version | None:
    """The draft the customer judges: the newest version whose preview is ready (a processing
    or failed upload is not something they have heard)."""
    return order.versions.filter(status=MediaStatus.READY).order_by("-number").first()


def packages_for(user, *, musician_id=None) -> QuerySet[Package]:
    """Active packages for everyone, plus the caller's own inactive ones."""
    queryset = Package.objects.select_related("musician").filter(musician__is_active=True)
    if user is not None and user.is_authenticated:
        queryset = queryset.filter(Q(active=True) | Q(musician=user))
    else:
        queryset = queryset.filter(active=True)
    if musician_id is not None:
        queryset = queryset.filter(musician_id=musician_id)
    return queryset


def order_payments(order):
    """The order's milestone payments, oldest first."""
    return billing_selectors.payments_for(purposes=MILESTONE_PURPOSES, reference=str(order.pk))


# --- the timeline ---------------------------------------------------------------------------

# The steps an order goes through, as its customer tracks them. A revision request is work in
# progress again; cancelled, disputed and refunded orders stop on the step they left.
TRACK = (
    (OrderStatus.PLACED, "Placed"),
    (OrderStatus.MATCHING, "Finding your musician"),
    (OrderStatus.IN_PROGRESS, "In progress"),
    (OrderStatus.IN_REVIEW, "Review"),
    (OrderStatus.APPROVED, "Approved"),
    (OrderStatus.DELIVERED, "Delivered"),
    (OrderStatus.COMPLETED, "Completed"),
)
TRACK_POSITION = {status: index for index, (status, _) in enumerate(TRACK)}
TRACK_POSITION[OrderStatus.REVISION_REQUESTED] = TRACK_POSITION[OrderStatus.IN_PROGRESS]
IN_PROGRESS_AT = TRACK_POSITION[OrderStatus.IN_PROGRESS]
WORKING = (OrderStatus.IN_PROGRESS, OrderStatus.REVISION_REQUESTED)


def _track_position(order, events) -> int:
    if order.status in TRACK_POSITION:
        return TRACK_POSITION[order.status]
    # Cancelled, disputed or refunded: where the order stood when it left the track.
    for event in reversed(events):
        for status in (event.to_status, event.from_status):
            if status in TRACK_POSITION:
                return TRACK_POSITION[status]
    return 0


def stages_reached(order, events) -> list[str]:
    """The stages the order has been in, in order: up to the furthest one its events (each
    records the stage of its moment) or the order itself name. Stages advance one at a time,
    so every stage before one reached was passed."""
    seen = {event.stage for event in events} | {order.stage}
    furthest = max((STAGES.index(stage) for stage in seen if stage in STAGES), default=-1)
    return list(STAGES[: furthest + 1])


def order_timeline(order: Order, events=None, *, role: str = "customer") -> list[dict]:
    """The steps of the order's tracking timeline, each ``{"status", "label", "state",
    "stages"}`` with ``state`` done, current, stopped or upcoming. The in-progress step lists
    its stages (``{"stage", "label", "state"}``): the ones the order has been in are done, the
    one it is in now is current while the musician works on it, and the ones still ahead are
    upcoming only while it is in progress. A draft sent for review from composition never
    claims that recording and production happened. `events` are the order's events, oldest
    first (default: ``order.events.all()``, prefetched by ``order_detail_for``). `role` (customer,
    musician or staff, see ``viewer_role``) words the steps for whoever looks (orders.wording)."""
    events = list(order.events.all() if events is None else events)
    position = _track_position(order, events)
    on_track = order.status in TRACK_POSITION
    reached = stages_reached(order, events)
    # Stages still ahead are shown while they can still come: before and during the work.
    ahead = order.status in WORKING or (on_track and position < IN_PROGRESS_AT)
    steps = []
    for index, (status, label) in enumerate(TRACK):
        if index < position or (index == position and order.status == OrderStatus.COMPLETED):
            state = "done"
        elif index == position:
            state = "current" if on_track else "stopped"
        else:
            state = "upcoming"
        step = {
            "status": status,
            "label": track_label(status, label, role),
            "state": state,
            "stages": [],
        }
        if index == IN_PROGRESS_AT:
            if order.status == OrderStatus.REVISION_REQUESTED:
                step["label"] = "In progress: revision requested"
            here = position == IN_PROGRESS_AT and (order.status in WORKING or not on_track)
            step["stages"] = _stages(order, reached, ahead=ahead, here=here)
        steps.append(step)
    return steps


def _stages(order, reached, *, ahead: bool, here: bool) -> list[dict]:
    """`here`: the order is in progress now, or stopped while in progress."""
    stages = []
    for stage in STAGES:
        if here and stage == order.stage:
            state = "current"  # worked on now, or where a stopped order stopped
        elif stage in reached:
            state = "done"
        elif ahead:
            state = "upcoming"
        else:
            continue  # never reached, and the order has moved on: it did not happen
        stages.append({"stage": stage, "label": Stage(stage).label, "state": state})
    return stages


# --- matching -------------------------------------------------------------------------------

# How much each part weighs in a candidate's score (they add up to 1).
MATCH_WEIGHTS = {"style": 0.30, "occasion": 0.20, "rating": 0.20, "on_time": 0.15, "load": 0.15}
# Until a musician has a track record, they are scored as if they had these.
RATING_PRIOR, RATING_PRIOR_WEIGHT = 4.0, 3
ON_TIME_PRIOR = 0.8


@dataclass(frozen=True)
class Candidate:
    musician: object
    score: float
    parts: dict
    load: int
    capacity: int


def _words(text: str) -> set[str]:
    return {word for word in re.split(r"[^\w]+", (text or "").lower()) if word}


def style_fit(genre: str, styles: list[str]) -> float:
    """1 when the brief's genre is one of the musician's styles, the share of its words they
    name otherwise; 0.5 (no signal) when the brief names no genre."""
    wanted = _words(genre)
    if not wanted:
        return 0.5
    styles = [str(style).strip().lower() for style in styles or []]
    if genre.strip().lower() in styles:
        return 1.0
    offered = set().union(*(_words(style) for style in styles)) if styles else set()
    return len(wanted & offered) / len(wanted)


def occasion_fit(occasion: str, occasions: list[str]) -> float:
    """1 when the musician names the occasion, 0.5 when they take any, 0 otherwise."""
    if not occasions:
        return 0.5
    return 1.0 if occasion in occasions else 0.0


def rating_fit(average, count: int) -> float:
    """The rating, pulled towards the prior while there are few reviews, scaled to 0-1."""
    total = (average or 0) * count + RATING_PRIOR * RATING_PRIOR_WEIGHT
    smoothed = total / (count + RATING_PRIOR_WEIGHT)
    return (smoothed - 1) / 4


def match_packages(order: Order, *, musician=None, today=None) -> list[Package]:
    """The active packages an order that asked to be matched can be offered at, cheapest
    first: in its currency, within its budget (the order's price until a musician accepts),
    for its occasion, and delivered by the occasion date."""
    today = today or timezone.now().date()
    packages = Package.objects.filter(active=True, currency=order.currency, price__lte=order.price)
    if musician is not None:
        packages = packages.filter(musician=musician)
    if order.occasion_date is not None:
        packages = packages.filter(delivery_days__lte=(order.occasion_date - today).days)
    # Occasions are filtered here, not in SQL: SQLite's JSON lookups cannot test containment.
    return [
        package
        for package in packages.order_by("price", "created_at")
        if not package.occasions or order.occasion in package.occasions
    ]


def match_package_for(order: Order, musician, *, today=None) -> Package | None:
    """The package a matched order is offered to `musician` at: their cheapest that fits. The
    budget is a ceiling; the platform does not spend it up to the top on the customer's
    behalf."""
    packages = match_packages(order, musician=musician, today=today)
    return packages[0] if packages else None


def musician_candidates(order: Order, *, exclude=(), today=None) -> list[Candidate]:
    """Musicians who could take `order`, best first.

    A candidate is a musician other than the customer who has not been offered this order yet,
    is available today (``orders.availability``: not paused, away or full) and offers a package
    that fits the order (``match_packages``). The score weighs
    style and occasion fit, rating, on-time rate and free capacity (MATCH_WEIGHTS); ties go to
    the less loaded musician.
    """
    today = today or timezone.now().date()
    package_occasions: dict = {}
    for package in match_packages(order, today=today):
        package_occasions.setdefault(package.musician_id, set()).update(package.occasions or [])
    if not package_occasions:
        return []
    musicians = (
        User.objects.filter(pk__in=package_occasions, is_active=True, is_musician=True)
        .exclude(pk=order.customer_id)
        .exclude(pk__in=list(exclude))
        .select_related("musician_profile")
    )
    musicians = list(musicians)
    availability = musicians_availability(musicians, on=today)
    candidates = []
    for musician in musicians:
        free = availability[musician.pk]
        if not free.available:
            continue
        profile = getattr(musician, "musician_profile", None) or MusicianProfile(musician=musician)
        occasions = sorted(set(profile.occasions or []) | package_occasions[musician.pk])
        parts = {
            "style": style_fit(order.genre, profile.styles),
            "occasion": occasion_fit(order.occasion, occasions),
            "rating": rating_fit(profile.rating_average, profile.rating_count),
            "on_time": ON_TIME_PRIOR if profile.on_time_rate is None else profile.on_time_rate,
            "load": 1 - free.load / free.capacity,
        }
        score = sum(MATCH_WEIGHTS[name] * value for name, value in parts.items())
        candidates.append(
            Candidate(
                musician=musician,
                score=round(score, 6),
                parts=parts,
                load=free.load,
                capacity=free.capacity,
            )
        )
    candidates.sort(key=lambda c: (-c.score, c.load, str(c.musician.pk)))
    return candidates


# --- musicians --------------------------------------------------------------------------------


def musician_public(musician_id):
    """An active musician, with their matching profile, for the public musician endpoint."""
    return (
        User.objects.filter(pk=musician_id, is_active=True, is_musician=True)
        .select_related("musician_profile")
        .first()
    )


def reviews_of(musician) -> QuerySet[Review]:
    return Review.objects.filter(musician=musician).select_related("customer")


# --- the order chat -----------------------------------------------------------------------------

CHAT_PAGE = 50
CHAT_PAGE_MAX = 200


def chat_order_for(user, order_id) -> Order | None:
    """The order whose chat `user` may use: the customer's, its musician's, any for staff."""
    return orders_visible_to(user).filter(pk=order_id).first()


def _chat_messages(order) -> QuerySet[ChatMessage]:
    return (
        ChatMessage.objects.filter(order=order)
        .select_related("sender")
        .prefetch_related("attachments")
        .order_by("id")
    )


def chat_messages_after(order, *, after_id: int = 0, limit: int = CHAT_PAGE) -> list[ChatMessage]:
    """At most `limit` messages after `after_id`, in id order (``sync`` and the REST mirror
    page through them this way). Three queries whatever the count."""
    limit = max(1, min(int(limit), CHAT_PAGE_MAX))
    return list(_chat_messages(order).filter(id__gt=after_id)[:limit])


def chat_messages_latest(order, *, limit: int = CHAT_PAGE) -> list[ChatMessage]:
    """The newest `limit` messages, oldest first (what a page opens with)."""
    limit = max(1, min(int(limit), CHAT_PAGE_MAX))
    newest = list(_chat_messages(order).order_by("-id")[:limit])
    return newest[::-1]


def chat_messages_to_cite(order, *, limit: int) -> list[ChatMessage]:
    """The newest ``limit`` messages, newest first, as a dispute's evidence can point at them
    (their words; attachments are not read)."""
    return list(ChatMessage.objects.filter(order=order).order_by("-id")[:limit])


def chat_unread_counts(user, order_ids) -> dict:
    """Per order of ``order_ids``: the messages of others after the person's read pointer (one
    query for a page of orders; orders with none are left out)."""
    last_read = ChatPointer.objects.filter(order=OuterRef("order_id"), user=user).values(
        "last_read_id"
    )[:1]
    rows = (
        ChatMessage.objects.filter(order_id__in=list(order_ids))
        .exclude(sender=user)
        .annotate(last_read=Coalesce(Subquery(last_read), 0))
        .filter(id__gt=F("last_read"))
        .values("order_id")
        .annotate(unread=Count("id"))
        .values_list("order_id", "unread")
    )
    return dict(rows)


def chat_unread_count(order, user) -> int:
    return chat_unread_counts(user, [order.pk]).get(order.pk, 0)


def chat_read_marks(order) -> dict[str, int]:
    """How far each person has read: ``{user id: last read message id}``."""
    return {
        str(user_id): last_read
        for user_id, last_read in ChatPointer.objects.filter(
            order=order, last_read_id__gt=0
        ).values_list("user_id", "last_read_id")
    }


def chat_digest_candidates(*, unread_before, seen_before) -> QuerySet[ChatPointer]:
    """Pointers of customers and musicians with a message of someone else they have neither
    read nor been told of, sent before `unread_before`, and no chat connection seen since
    `seen_before`."""
    waiting = ChatMessage.objects.filter(
        order=OuterRef("order"),
        id__gt=Greatest(OuterRef("last_read_id"), OuterRef("digested_up_to")),
        created_at__lte=unread_before,
    ).exclude(sender=OuterRef("user"))
    return (
        ChatPointer.objects.filter(
            Q(user=F("order__customer")) | Q(user=F("order__musician")),
            Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=seen_before),
        )
        .filter(Exists(waiting))
        .select_related("user", "order")
        .order_by("user_id", "order_id")
    )
