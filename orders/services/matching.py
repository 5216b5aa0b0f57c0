"""Matching: offer an order to one musician at a time, best candidate first.

The customer's pick is offered first; a decline or an expired offer moves the order on to the
next candidate (``selectors.musician_candidates``) while it stays ``matching``. An order with
no candidate left waits unassigned; the beat task offers it again when someone becomes free.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from orders import notices, selectors
from orders.errors import Conflict, Forbidden, Invalid, TransitionConflict
from orders.models import (
    MarketplaceSettings,
    MusicianProfile,
    Occasion,
    OfferStatus,
    Order,
    OrderOffer,
    OrderStatus,
)
from orders.services.base import (
    display_name,
    event_add,
    lock,
    transition_apply_locked,
)

logger = logging.getLogger(__name__)

MAX_STYLES = 20
MAX_STYLE_LENGTH = 40


def offer_make(order: Order, *, musician, rank: int, score: float | None) -> OrderOffer:
    """Offer the locked `order` to `musician` (inside the caller's transaction)."""
    expires_at = timezone.now() + timedelta(hours=MarketplaceSettings.load().offer_expiry_hours)
    _, offered = transition_apply_locked(
        order,
        actor=None,
        name="offer",
        args=(musician,),
        note=f"Offered to {display_name(musician, 'a musician')}",
    )
    terms = {}
    if order.match and order.accepted_at is None:
        package = selectors.match_package_for(order, musician)
        if package is not None:
            terms = {
                "package": package,
                "price": package.price,
                "delivery_days": package.delivery_days,
                "revisions_included": package.revisions_included,
            }
    offer = OrderOffer.objects.create(
        order=order, musician=musician, rank=rank, score=score, expires_at=expires_at, **terms
    )
    notices.schedule(
        "order.offer",
        recipient=musician,
        order=order,
        occurrence=offered,
        customer_name=display_name(order.customer, "A customer"),
        **notices.expires_context(expires_at),
    )
    return offer


def order_offer_next(order: Order) -> OrderOffer | None:
    """Offer the locked, unassigned `order` to the best musician not offered it yet. None when
    nobody fits now (the timeline says so once; the beat task tries again later)."""
    if order.status != OrderStatus.MATCHING or order.musician_id is not None:
        return None
    tried = set(order.offers.values_list("musician_id", flat=True))
    candidates = selectors.musician_candidates(order, exclude=tried)
    if not candidates:
        last = order.events.order_by("-created_at", "-id").values_list("name", flat=True).first()
        if last != "no_candidate":
            waiting = event_add(
                order,
                actor=None,
                name="no_candidate",
                note="No musician is free for this order yet; we keep looking.",
            )
            notices.schedule(
                "order.unmatched", recipient=order.customer, order=order, occurrence=waiting
            )
        return None
    best = candidates[0]
    return offer_make(order, musician=best.musician, rank=len(tried) + 1, score=best.score)


def order_offer_first(order: Order) -> OrderOffer | None:
    """The deposit is in: offer the locked order to the customer's pick, or match it."""
    if order.musician_id is not None:
        return offer_make(order, musician=order.musician, rank=1, score=None)
    return order_offer_next(order)


def offered_only(musician, *, transition: str):
    """The check for answering an offer: Forbidden unless the locked order is (or was) offered
    to `musician`. When it was, but their offer is closed (answered, expired, withdrawn: a
    concurrent request got there first), the answer is a 409 instead, as for any transition
    that lost a race: the order's own (with what it allows now) once it left matching."""

    def check(order):
        if order.musician_id is not None and order.musician_id == musician.pk:
            return
        closed = (
            OrderOffer.objects.filter(order=order, musician=musician)
            .exclude(status=OfferStatus.PENDING)
            .values_list("status", flat=True)
            .first()
        )
        if closed is not None and order.status != OrderStatus.MATCHING:
            raise TransitionConflict(order=order, transition=transition, actor=musician)
        if closed == OfferStatus.EXPIRED:
            raise Conflict("This offer has expired.", code="offer_expired")
        if closed is not None:
            raise Conflict(f"This offer is {closed} already.", code="offer_closed")
        raise Forbidden("This order is not offered to you.")

    return check


def _pending_offer(order: Order, musician) -> OrderOffer:
    offer = (
        OrderOffer.objects.select_for_update()
        .filter(order=order, musician=musician, status=OfferStatus.PENDING)
        .first()
    )
    if offer is None:
        raise Forbidden("This order is not offered to you.")
    if offer.expires_at <= timezone.now():
        raise Conflict("This offer has expired.", code="offer_expired")
    return offer


def offer_accept(order: Order, *, musician) -> OrderOffer:
    """Inside order_accept's transaction, on the locked order."""
    offer = _pending_offer(order, musician)
    offer.status = OfferStatus.ACCEPTED
    offer.responded_at = timezone.now()
    offer.save(update_fields=["status", "responded_at"])
    return offer


def order_decline(*, order: Order, musician, reason: str = "") -> Order:
    """The offered musician says no, with a reason: the order moves on to the next candidate."""
    reason = (reason or "").strip()
    if len(reason) > 1000:
        raise Invalid("At most 1000 characters.", field="reason")
    with transaction.atomic():
        order = lock(order)
        offered_only(musician, transition="decline")(order)
        if order.status != OrderStatus.MATCHING:
            raise TransitionConflict(order=order, transition="decline", actor=musician)
        offer = _pending_offer(order, musician)
        offer.status = OfferStatus.DECLINED
        offer.reason = reason
        offer.responded_at = timezone.now()
        offer.save(update_fields=["status", "reason", "responded_at"])
        _, declined = transition_apply_locked(order, actor=musician, name="decline", note=reason)
        notices.schedule(
            "order.offer_declined",
            recipient=order.customer,
            order=order,
            occurrence=declined,
            musician_name=display_name(musician, "The musician"),
        )
        order_offer_next(order)
    return order


def offer_withdraw(order: Order) -> None:
    """The order left matching (cancelled): its pending offer, if any, is withdrawn."""
    OrderOffer.objects.filter(order=order, status=OfferStatus.PENDING).update(
        status=OfferStatus.WITHDRAWN, responded_at=timezone.now()
    )


def offer_expire(*, offer_id) -> bool:
    """Expire one offer that was not answered in time and move its order on. False when it was
    answered (or expired) meanwhile."""
    order_id = OrderOffer.objects.filter(pk=offer_id).values_list("order_id", flat=True).first()
    if order_id is None:
        return False
    with transaction.atomic():
        # The order first, then the offer: the order the musician's accept and decline lock
        # them in (the other way round, an accept at the deadline deadlocks with the beat).
        order = lock(Order(pk=order_id))
        offer = OrderOffer.objects.select_for_update().filter(pk=offer_id).first()
        if offer is None or offer.status != OfferStatus.PENDING:
            return False
        if offer.expires_at > timezone.now():
            return False
        offer.status = OfferStatus.EXPIRED
        offer.responded_at = timezone.now()
        offer.save(update_fields=["status", "responded_at"])
        if order.status == OrderStatus.MATCHING and order.musician_id == offer.musician_id:
            musician = order.musician
            _, expired = transition_apply_locked(
                order, actor=None, name="expire_offer", note="The offer was not answered in time."
            )
            notices.schedule(
                "order.offer_expired", recipient=musician, order=order, occurrence=expired
            )
            order_offer_next(order)
    return True


def offers_expire_due(*, now=None) -> int:
    """Expire every offer past its time (the beat task). Returns how many expired."""
    now = now or timezone.now()
    due = OrderOffer.objects.filter(status=OfferStatus.PENDING, expires_at__lte=now)
    return sum(offer_expire(offer_id=pk) for pk in due.values_list("pk", flat=True)[:500])


def orders_rematch(*, limit: int = 200) -> int:
    """Offer again the paid orders that found no musician (someone may be free now)."""
    waiting = Order.objects.filter(status=OrderStatus.MATCHING, musician__isnull=True).exclude(
        offers__status=OfferStatus.PENDING
    )
    offered = 0
    for pk in waiting.values_list("pk", flat=True)[:limit]:
        with transaction.atomic():
            order = Order.objects.select_for_update().filter(pk=pk).first()
            if order is not None and order_offer_next(order) is not None:
                offered += 1
    return offered


# --- the musician's matching profile ---------------------------------------------------------

PROFILE_FIELDS = ("styles", "occasions", "capacity", "accepting_orders", "away_from", "away_until")


def musician_profile_get(musician) -> MusicianProfile:
    profile, _ = MusicianProfile.objects.get_or_create(musician=musician)
    return profile


def musician_profile_update(*, musician, **data) -> MusicianProfile:
    """A musician says what they make, how much they take on and when they are away."""
    if not musician.is_musician:
        raise Forbidden("Only musicians have a matching profile.")
    unknown = set(data) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"unknown profile fields: {', '.join(sorted(unknown))}")
    if "styles" in data:
        styles = [str(style).strip().lower() for style in data["styles"] or []]
        styles = list(dict.fromkeys(style for style in styles if style))
        if len(styles) > MAX_STYLES:
            raise Invalid(f"At most {MAX_STYLES} styles.", field="styles")
        if any(len(style) > MAX_STYLE_LENGTH for style in styles):
            raise Invalid(f"A style has at most {MAX_STYLE_LENGTH} characters.", field="styles")
        data["styles"] = styles
    if "occasions" in data:
        occasions = list(dict.fromkeys(data["occasions"] or []))
        unknown = [value for value in occasions if value not in Occasion.values]
        if unknown:
            raise Invalid(f"Unknown occasion: {unknown[0]}.", field="occasions")
        data["occasions"] = occasions
    if "capacity" in data and not 1 <= int(data["capacity"]) <= 50:
        raise Invalid("Take on 1 to 50 orders at once.", field="capacity")
    with transaction.atomic():
        profile, _ = MusicianProfile.objects.select_for_update().get_or_create(musician=musician)
        for field, value in data.items():
            setattr(profile, field, value)
        if profile.away_from and profile.away_until and profile.away_until < profile.away_from:
            raise Invalid("The end of your time away comes after its start.", field="away_until")
        profile.save()
    return profile
