"""Reads of the studio, each scoped to the musician who asks: another musician's order, song,
album or package does not exist here (None or 404), whatever its id.

The studio owns no data. These read the apps below through their own selectors where one
exists (``orders.selectors``, ``catalog.selectors``, ``billing.selectors``) and only shape what
the musician's pages show: offers with their deadlines, work grouped by stage, money per
currency, catalog figures per day.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404
from django.utils import timezone

from audio.models import QualityReport
from billing import selectors as billing_selectors
from catalog import selectors as catalog_selectors
from catalog.models import Album, ArtistFollow, PlayEvent, Song, SongLike
from orders import selectors as orders_selectors
from orders.models import (
    STAGES,
    Delivery,
    OfferStatus,
    Order,
    OrderOffer,
    OrderStatus,
    Package,
    Stage,
    Version,
)
from orders.wording import status_label

S = OrderStatus

# The orders a musician is working on or still answers for: accepted and not yet closed.
ACTIVE = (S.IN_PROGRESS, S.REVISION_REQUESTED, S.IN_REVIEW, S.APPROVED, S.DELIVERED, S.DISPUTED)
# While in these the next move is the musician's: a passed due date is theirs to answer for.
MUSICIANS_TURN = (S.IN_PROGRESS, S.REVISION_REQUESTED, S.APPROVED)
# The dashboard's groups after the stages of the work in progress, in the order work flows.
STATUS_GROUPS = (
    (S.REVISION_REQUESTED, "Revision requested"),
    (S.IN_REVIEW, "With the customer for review"),
    (S.APPROVED, "Approved: upload the finals"),
    (S.DELIVERED, "Delivered: waiting for the balance"),
    (S.DISPUTED, "Disputed: on hold"),
)
# The list's filters: what a musician asks for, mapped to the statuses it means.
ORDER_FILTERS = {
    "active": ("Active", ACTIVE),
    "offers": ("Offers waiting", (S.MATCHING,)),
    "finished": ("Finished", (S.COMPLETED, S.CANCELLED, S.REFUNDED)),
    "all": ("All", None),
}
STATS_DAYS = 30


# --- orders ---------------------------------------------------------------------------------


def _musicians(user) -> QuerySet[Order]:
    """The orders of `user` as their musician, through orders' own rule of who sees what (an
    order cancelled before anyone accepted it, or still unpaid, is not theirs)."""
    return orders_selectors.orders_visible_to(user).filter(musician=user)


def offers_waiting(user, *, now=None) -> list[OrderOffer]:
    """Offers waiting for the musician's answer, the soonest to expire first. Each offer's
    order carries its offers (what ``order_actions_for`` and ``order_terms_for`` read)."""
    now = now or timezone.now()
    return list(
        OrderOffer.objects.filter(
            musician=user,
            status=OfferStatus.PENDING,
            expires_at__gt=now,
            order__in=_musicians(user).filter(status=S.MATCHING),
        )
        .select_related("order", "order__customer", "order__musician", "package")
        .prefetch_related(
            Prefetch("order__offers", queryset=OrderOffer.objects.select_related("package"))
        )
        .order_by("expires_at", "pk")
    )


def orders_active(user) -> list[Order]:
    """The musician's accepted, open orders, the earliest due first."""
    return list(
        _musicians(user).filter(status__in=ACTIVE).order_by("accepted_at", "created_at", "pk")
    )


def is_late(order, *, now=None) -> bool:
    """Past its due date while the next move is the musician's."""
    now = now or timezone.now()
    due = order.due_at
    return due is not None and due < now and order.status in MUSICIANS_TURN


@dataclass
class OrderGroup:
    key: str
    label: str
    rows: list = field(default_factory=list)

    @property
    def late(self) -> int:
        return sum(1 for row in self.rows if row["late"])


def orders_by_stage(orders, *, unread=None, now=None) -> list[OrderGroup]:
    """Active orders grouped as the work flows: in progress by stage, then each later status;
    each row with its due date and whether it is late. Empty groups are left out."""
    now = now or timezone.now()
    unread = unread or {}
    groups = {stage: OrderGroup(stage, Stage(stage).label) for stage in STAGES}
    groups.update({status: OrderGroup(status, label) for status, label in STATUS_GROUPS})
    for order in orders:
        key = order.stage if order.status == S.IN_PROGRESS and order.stage in STAGES else None
        group = groups.get(key or order.status)
        if group is None:
            continue
        group.rows.append(
            {
                "order": order,
                "due_at": order.due_at,
                "late": is_late(order, now=now),
                "unread": unread.get(order.pk, 0),
            }
        )
    for group in groups.values():
        group.rows.sort(key=lambda row: (row["due_at"] is None, row["due_at"] or now))
    return [group for group in groups.values() if group.rows]


def order_list(user, *, show: str = "active", stage: str = "", search: str = "") -> QuerySet:
    """The musician's orders for the orders page: by filter (``ORDER_FILTERS``), stage and
    words of the recipient's or the customer's name; offers carry the musician's pending one
    (``my_pending_offers``)."""
    statuses = ORDER_FILTERS.get(show, ORDER_FILTERS["active"])[1]
    queryset = _musicians(user)
    if statuses is not None:
        queryset = queryset.filter(status__in=statuses)
    if stage in STAGES:
        queryset = queryset.filter(status=S.IN_PROGRESS, stage=stage)
    for word in search.split()[:5]:
        queryset = queryset.filter(
            Q(recipient_name__icontains=word) | Q(customer__display_name__icontains=word)
        )
    return queryset.prefetch_related(
        Prefetch(
            "offers",
            queryset=OrderOffer.objects.filter(musician=user, status=OfferStatus.PENDING),
            to_attr="my_pending_offers",
        )
    ).order_by("-created_at", "pk")


def order_row(order, user, *, unread: int = 0, now=None) -> dict:
    """One line of the orders page, worded for the musician."""
    now = now or timezone.now()
    offer = order.my_pending_offers[0] if order.my_pending_offers else None
    return {
        "order": order,
        "offer": offer,
        "status": status_label(
            order.status, "musician", offer_over=offer is None or offer.expires_at <= now
        ),
        "due_at": order.due_at,
        "late": is_late(order, now=now),
        "unread": unread,
    }


def workspace_order(user, order_id) -> Order | None:
    """The order with everything the order page shows (``orders.selectors.order_detail_for``),
    only when `user` is its musician: the studio is not where a customer or staff opens it."""
    order = orders_selectors.order_detail_for(user, order_id)
    if order is None or order.musician_id != user.pk:
        return None
    return order


def order_uploads(order) -> tuple[list[Version], list[Delivery]]:
    """The order's drafts and finals, newest first, with their audio and its quality reports
    (checks included): what the workspace's uploads panel shows. Four queries."""
    assets = Prefetch(
        "asset__quality_reports",
        queryset=QualityReport.objects.prefetch_related("checks").order_by("stage"),
    )
    versions = list(
        Version.objects.filter(order=order)
        .select_related("asset", "revision_request")
        .prefetch_related(assets)
        .order_by("-number")
    )
    deliveries = list(
        Delivery.objects.filter(order=order)
        .select_related("asset")
        .prefetch_related(assets)
        .order_by("-number")
    )
    return versions, deliveries


# --- money ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Earnings:
    """Where a musician's money stands in one currency (minor units)."""

    currency: str
    in_escrow: int  # paid by customers for open orders, released when each completes
    payable: int  # owed to the musician: on hold + ready for the next payout
    on_hold: int
    available: int
    in_transit: int
    paid_out: int
    next_release_at: datetime | None


def earnings(user, *, open_orders) -> list[Earnings]:
    """In escrow for `open_orders` (the musician's accepted ones), and what billing's payout
    figures say of the rest: the payouts page's own numbers."""
    escrow = billing_selectors.escrow_balances(
        scope="order", references=[order.pk for order in open_orders]
    )
    figures = {row.currency: row for row in billing_selectors.payout_figures(user)}
    rows = []
    for currency in sorted(set(escrow) | set(figures)):
        row = figures.get(currency)
        rows.append(
            Earnings(
                currency=currency,
                in_escrow=escrow.get(currency, 0),
                payable=row.payable if row else 0,
                on_hold=row.on_hold if row else 0,
                available=row.available if row else 0,
                in_transit=row.in_transit if row else 0,
                paid_out=row.paid_out if row else 0,
                next_release_at=row.next_release_at if row else None,
            )
        )
    return rows


# --- packages -------------------------------------------------------------------------------


def packages_of(user) -> list[Package]:
    """The musician's packages, those on offer first (orders' rule: their own retired ones
    too)."""
    return list(
        orders_selectors.packages_for(user, musician_id=user.pk).order_by(
            "-active", "price", "created_at"
        )
    )


def package_of(user, package_id) -> Package:
    packages = orders_selectors.packages_for(user, musician_id=user.pk)
    return get_object_or_404(packages, pk=package_id)


# --- the catalog ----------------------------------------------------------------------------


def songs_of(user, *, album=None) -> QuerySet[Song]:
    """The musician's own songs, private and failed ones included (catalog's one gate shows an
    artist all of theirs), newest first."""
    songs = catalog_selectors.songs_visible_to(user).filter(artist__user=user)
    if album is not None:
        songs = songs.filter(album=album).order_by("track_number", "created_at")
    else:
        songs = songs.order_by("-created_at", "pk")
    return songs


def song_of(user, song_id) -> Song:
    return get_object_or_404(songs_of(user), pk=song_id)


def albums_of(user) -> QuerySet[Album]:
    return (
        catalog_selectors.albums_visible_to(user)
        .filter(artist__user=user)
        .order_by("-created_at", "pk")
    )


def album_of(user, album_id) -> Album:
    return get_object_or_404(albums_of(user), pk=album_id)


# --- statistics -----------------------------------------------------------------------------


@dataclass
class CatalogStats:
    plays: int = 0
    likes: int = 0
    favorites: int = 0
    followers: int = 0
    new_followers: int = 0  # in the last STATS_DAYS days
    new_likes: int = 0
    songs: list = field(default_factory=list)
    days: list = field(default_factory=list)  # [{"day", "plays", "share"}], oldest first

    @property
    def period_plays(self) -> int:
        return sum(day["plays"] for day in self.days)

    @property
    def busiest(self) -> int:
        return max((day["plays"] for day in self.days), default=0)


def catalog_stats(user, *, days: int = STATS_DAYS, today=None) -> CatalogStats:
    """Plays, likes, favourites and followers of the musician's catalog: totals (the counts the
    catalog keeps on each song and on the artist), each song's, and counted plays per day over
    the last `days` days (days without plays at zero). Five queries."""
    artist = catalog_selectors.artist_of(user)
    today = today or timezone.localdate()
    first_day = today - timedelta(days=days - 1)
    stats = CatalogStats()
    if artist is not None:
        stats.songs = list(
            Song.objects.filter(artist=artist)
            .select_related("album")
            .order_by("-play_count", "-like_count", "title", "pk")
        )
        stats.plays = sum(song.play_count for song in stats.songs)
        stats.likes = sum(song.like_count for song in stats.songs)
        stats.favorites = sum(song.favorite_count for song in stats.songs)
        stats.followers = artist.follower_count
        since = timezone.make_aware(datetime.combine(first_day, datetime.min.time()))
        stats.new_followers = ArtistFollow.objects.filter(
            artist=artist, created_at__gte=since
        ).count()
        stats.new_likes = SongLike.objects.filter(
            song__artist=artist, created_at__gte=since
        ).count()
        per_day = dict(
            PlayEvent.objects.filter(song__artist=artist, counted=True, started_at__gte=since)
            .annotate(day=TruncDate("started_at"))
            .values("day")
            .annotate(plays=Count("id"))
            .order_by("day")
            .values_list("day", "plays")
        )
    else:
        per_day = {}
    busiest = max(per_day.values(), default=0)
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        plays = per_day.get(day, 0)
        stats.days.append(
            {"day": day, "plays": plays, "share": plays / busiest if busiest else 0.0}
        )
    return stats
