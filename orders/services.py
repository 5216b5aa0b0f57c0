"""Every write about commission orders (DESIGN.md sections 2 and 5).

A transition service opens ``transaction.atomic()``, locks the order (``select_for_update``),
checks the actor's right, calls the model's transition, saves, appends an ``OrderEvent`` and
schedules the notifications on commit. An illegal transition raises ``TransitionConflict``
(409, with the transitions the order allows now); of two requests racing on one order exactly
one wins, the other finds the order moved and gets the conflict.
"""

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from billing import services as billing
from billing.errors import BillingError
from billing.models import CAPTURED_STATUSES, Payment
from orders import notices
from orders.errors import Conflict, Forbidden, Invalid, TransitionConflict
from orders.models import (
    LyricsChoice,
    MarketplaceSettings,
    Occasion,
    Order,
    OrderEvent,
    OrderStatus,
    Package,
)

logger = logging.getLogger(__name__)

MAX_REFERENCES = 10
MAX_REFERENCE_LENGTH = 500
MAX_PRICE = 100_000_000  # 1,000,000.00 in any two-decimal currency
BRIEF_TEXT_LIMITS = {
    "recipient_name": 100,
    "story": 5000,
    "genre": 60,
    "mood": 60,
    "tempo_feel": 60,
    "language": 40,
    "lyrics": 10000,
    "names_to_include": 300,
    "instructions": 3000,
}
PACKAGE_FIELDS = (
    "name",
    "description",
    "price",
    "currency",
    "delivery_days",
    "revisions_included",
    "occasions",
    "active",
)


def deposit_key(order) -> str:
    return f"order:{order.pk}:deposit"


def balance_key(order) -> str:
    return f"order:{order.pk}:balance"


# --- packages -------------------------------------------------------------------------------


def _clean_package(data: dict) -> dict:
    cleaned = dict(data)
    if "currency" in cleaned:
        currency = str(cleaned["currency"] or "").upper()
        if len(currency) != 3 or not currency.isalpha():
            raise Invalid("Not a currency code.", code="invalid_currency", field="currency")
        cleaned["currency"] = currency
    if "price" in cleaned and not 0 < cleaned["price"] <= MAX_PRICE:
        raise Invalid(f"The price is between 1 and {MAX_PRICE} minor units.", field="price")
    if "delivery_days" in cleaned and not 1 <= cleaned["delivery_days"] <= 365:
        raise Invalid("Delivery takes 1 to 365 days.", field="delivery_days")
    if "revisions_included" in cleaned and not 0 <= cleaned["revisions_included"] <= 20:
        raise Invalid("At most 20 revisions can be included.", field="revisions_included")
    if "occasions" in cleaned:
        occasions = list(dict.fromkeys(cleaned["occasions"] or []))
        unknown = [value for value in occasions if value not in Occasion.values]
        if unknown:
            raise Invalid(f"Unknown occasion: {unknown[0]}.", field="occasions")
        cleaned["occasions"] = occasions
    return cleaned


def package_create(*, musician, **data) -> Package:
    if not musician.is_musician:
        raise Forbidden("Only musicians offer packages.")
    data.setdefault("currency", settings.BILLING_CURRENCY)
    data = _clean_package({key: value for key, value in data.items() if key in PACKAGE_FIELDS})
    return Package.objects.create(musician=musician, **data)


def package_update(*, package: Package, actor, **data) -> Package:
    if package.musician_id != actor.pk:
        raise Forbidden("Only the musician who offers a package changes it.")
    data = _clean_package({key: value for key, value in data.items() if key in PACKAGE_FIELDS})
    for field, value in data.items():
        setattr(package, field, value)
    package.save()
    return package


def package_deactivate(*, package: Package, actor) -> Package:
    """Packages are never deleted (orders point at them); they stop being offered."""
    return package_update(package=package, actor=actor, active=False)


# --- placing an order -----------------------------------------------------------------------


def _clean_references(references) -> list[str]:
    references = list(references or [])
    if len(references) > MAX_REFERENCES:
        raise Invalid(f"At most {MAX_REFERENCES} reference links.", field="references")
    cleaned = []
    for reference in references:
        reference = str(reference).strip()
        parts = urlsplit(reference)
        if (
            len(reference) > MAX_REFERENCE_LENGTH
            or parts.scheme not in ("http", "https")
            or not parts.netloc
        ):
            raise Invalid(f"Not a web link: {reference[:80]}", field="references")
        cleaned.append(reference)
    return cleaned


def _clean_brief(brief: dict) -> dict:
    brief = dict(brief)
    for field, limit in BRIEF_TEXT_LIMITS.items():
        value = str(brief.get(field) or "").strip()
        if len(value) > limit:
            raise Invalid(f"At most {limit} characters.", field=field)
        brief[field] = value
    if brief.get("occasion") not in Occasion.values:
        raise Invalid("Choose one of the occasions.", field="occasion")
    if not brief["recipient_name"]:
        raise Invalid("Who is the song for?", field="recipient_name")
    if len(brief["story"]) < 20:
        raise Invalid(
            "Tell the musician a little more about them (20 characters at least).",
            field="story",
        )
    choice = brief.get("lyrics_choice") or LyricsChoice.MUSICIAN
    if choice not in LyricsChoice.values:
        raise Invalid("Choose customer, musician or instrumental.", field="lyrics_choice")
    brief["lyrics_choice"] = choice
    if choice == LyricsChoice.CUSTOMER and not brief["lyrics"]:
        raise Invalid("Paste your lyrics, or let the musician write them.", field="lyrics")
    if choice == LyricsChoice.INSTRUMENTAL and brief["lyrics"]:
        raise Invalid("An instrumental has no lyrics.", field="lyrics")
    brief["references"] = _clean_references(brief.get("references"))
    budget = brief.get("budget")
    if budget is not None and (not isinstance(budget, int) or not 0 <= budget <= MAX_PRICE):
        raise Invalid(f"The budget is between 0 and {MAX_PRICE} minor units.", field="budget")
    return brief


BRIEF_FIELDS = (
    "occasion",
    "occasion_date",
    "recipient_name",
    "story",
    "genre",
    "mood",
    "tempo_feel",
    "language",
    "lyrics_choice",
    "lyrics",
    "names_to_include",
    "references",
    "instructions",
    "budget",
)


def order_place(*, customer, package: Package | None = None, match: bool = False, **brief):
    """Place an order with a musician's package, or ask to be matched (``match=True``, the
    budget is the price). The package's terms are copied onto the order; the deposit payment
    (ceil(price / 2)) is created with it. Returns the order; ``order_deposit_checkout`` gives
    the page where the customer pays the deposit."""
    unknown = set(brief) - set(BRIEF_FIELDS)
    if unknown:
        raise TypeError(f"unknown brief fields: {', '.join(sorted(unknown))}")
    brief = _clean_brief(brief)
    if (package is None) == (not match):
        raise Invalid("Choose a package, or ask to be matched.", field="package")
    if package is not None:
        if not package.active:
            raise Invalid("This package is no longer offered.", field="package")
        if package.musician_id == customer.pk:
            raise Invalid("You cannot commission yourself.", field="package")
        if package.occasions and brief["occasion"] not in package.occasions:
            raise Invalid("This package is not offered for that occasion.", field="occasion")
        terms = {
            "musician": package.musician,
            "price": package.price,
            "currency": package.currency,
            "revisions_included": package.revisions_included,
            "delivery_days": package.delivery_days,
        }
    else:
        if not brief.get("budget"):
            raise Invalid("Tell us your budget so we can match you.", field="budget")
        rules = MarketplaceSettings.load()
        terms = {
            "musician": None,
            "price": brief["budget"],
            "currency": settings.BILLING_CURRENCY,
            "revisions_included": rules.default_revisions,
            "delivery_days": rules.match_delivery_days,
        }
    budget = brief.get("budget")
    if budget is not None and budget < terms["price"]:
        raise Invalid("The budget is below the package's price.", field="budget")
    occasion_date = brief.get("occasion_date")
    if occasion_date is not None:
        earliest = timezone.now().date() + timedelta(days=terms["delivery_days"])
        if occasion_date < earliest:
            raise Invalid(
                f"This takes {terms['delivery_days']} days: the occasion date is "
                f"{earliest.isoformat()} at the earliest.",
                code="occasion_too_soon",
                field="occasion_date",
            )
    with transaction.atomic():
        order = Order.objects.create(
            customer=customer, package=package, match=package is None, **terms, **brief
        )
        OrderEvent.objects.create(
            order=order,
            actor=customer,
            name="place",
            from_status=OrderStatus.PLACED,
            to_status=OrderStatus.PLACED,
        )
        billing.payment_create(
            payer=customer,
            amount=order.deposit_amount,
            currency=order.currency,
            purpose="order_deposit",
            reference=str(order.pk),
            description=f"Deposit: {order.title}"[:200],
            idempotency_key=deposit_key(order),
        )
        notices.schedule("order.placed", recipient=customer, order=order, key="placed")
    return order


def order_deposit_checkout(*, order: Order, actor, return_to: str = ""):
    """The billing checkout where the customer pays (or retries) the deposit. Outside any
    transaction: a real provider is called."""
    if order.customer_id != actor.pk:
        raise Forbidden("Only the customer pays the deposit.")
    if order.status != OrderStatus.PLACED:
        raise TransitionConflict(order=order, transition="pay_deposit")
    return billing.payment_checkout_start(
        payer=order.customer,
        amount=order.deposit_amount,
        currency=order.currency,
        purpose="order_deposit",
        reference=str(order.pk),
        description=f"Deposit: {order.title}"[:200],
        idempotency_key=deposit_key(order),
        return_to=return_to,
    )


# --- transitions ----------------------------------------------------------------------------


def _is_staff(user) -> bool:
    return bool(user and user.is_staff)


def _transition(order, *, actor, name: str, check, note: str = "", args=()):
    """Lock `order`, check `actor` with `check(locked)`, apply transition `name`, save and
    append the event. Call inside transaction.atomic(). Returns (order, from_status)."""
    locked = Order.objects.select_for_update().get(pk=order.pk)
    check(locked)
    from_status = locked.status
    try:
        getattr(locked, name)(*args)
    except TransitionNotAllowed:
        raise TransitionConflict(order=locked, transition=name) from None
    locked.save()
    OrderEvent.objects.create(
        order=locked,
        actor=actor,
        name=name,
        from_status=from_status,
        to_status=locked.status,
        stage=locked.stage,
        note=note,
    )
    return locked, from_status


def _musician_only(actor):
    def check(order):
        if order.musician_id is None or order.musician_id != actor.pk:
            raise Forbidden("Only the order's musician may do this.")

    return check


def _customer_only(actor, *, staff_too=False):
    def check(order):
        if order.customer_id != actor.pk and not (staff_too and _is_staff(actor)):
            raise Forbidden("Only the customer may do this.")

    return check


def order_deposit_captured(*, order: Order, payment) -> Order:
    """billing captured the deposit: placed -> matching (inside billing's transaction)."""
    with transaction.atomic():
        order, _ = _transition(order, actor=None, name="deposit_captured", check=lambda o: None)
        notices.schedule(
            "order.deposit_received",
            recipient=order.customer,
            order=order,
            key="deposit",
            amount_minor=payment.amount,
            currency=payment.currency,
        )
        if order.musician is not None:
            _offer(order)
    return order


def _offer(order: Order) -> None:
    expires_at = timezone.now() + timedelta(hours=MarketplaceSettings.load().offer_expiry_hours)
    notices.schedule(
        "order.offer",
        recipient=order.musician,
        order=order,
        key=f"offer:{order.musician_id}",
        customer_name=order.customer.display_name or "A customer",
        **notices.expires_context(expires_at),
    )


def order_accept(*, order: Order, musician) -> Order:
    with transaction.atomic():
        order, _ = _transition(order, actor=musician, name="accept", check=_musician_only(musician))
        order.accepted_at = timezone.now()
        order.save(update_fields=["accepted_at", "updated_at"])
        notices.schedule(
            "order.offer_accepted",
            recipient=order.customer,
            order=order,
            key="accepted",
            musician_name=musician.display_name or "Your musician",
        )
    return order


def order_decline(*, order: Order, musician, reason: str = "") -> Order:
    """The offered musician says no (with a reason): the order stays matching, unassigned."""
    reason = (reason or "").strip()
    if len(reason) > 1000:
        raise Invalid("At most 1000 characters.", field="reason")
    with transaction.atomic():
        order, _ = _transition(
            order,
            actor=musician,
            name="decline",
            check=_musician_only(musician),
            note=reason,
        )
        notices.schedule(
            "order.offer_declined",
            recipient=order.customer,
            order=order,
            key=f"declined:{musician.pk}",
            musician_name=musician.display_name or "The musician",
        )
    return order


def order_advance_stage(*, order: Order, musician, note: str = "") -> Order:
    with transaction.atomic():
        order, _ = _transition(
            order,
            actor=musician,
            name="advance_stage",
            check=_musician_only(musician),
            note=note[:5000],
        )
        notices.schedule(
            "order.stage_changed",
            recipient=order.customer,
            order=order,
            key=f"stage:{order.stage}",
            stage=order.get_stage_display(),
        )
    return order


def order_submit_draft(*, order: Order, musician, note: str = "") -> Order:
    """in_progress | revision_requested -> in_review. The draft's Version (upload, preview)
    is the versions service's; this is the state change it makes."""
    with transaction.atomic():
        order, from_status = _transition(
            order,
            actor=musician,
            name="submit_draft",
            check=_musician_only(musician),
            note=note[:5000],
        )
        drafts = order.events.filter(name="submit_draft").count()
        notices.schedule(
            "order.draft_ready",
            recipient=order.customer,
            order=order,
            key=f"draft:{drafts}",
            musician_name=musician.display_name or "Your musician",
        )
    return order


def order_request_revision(*, order: Order, customer, feedback: str) -> Order:
    feedback = (feedback or "").strip()
    if not feedback:
        raise Invalid("Tell the musician what to change.", field="feedback")
    if len(feedback) > 5000:
        raise Invalid("At most 5000 characters.", field="feedback")

    def check(locked):
        _customer_only(customer)(locked)
        if (
            locked.status == OrderStatus.IN_REVIEW
            and locked.revisions_used >= locked.revisions_included
        ):
            raise Conflict(
                "All the revisions included in this order are used.",
                code="revisions_exhausted",
            )

    with transaction.atomic():
        order, _ = _transition(
            order, actor=customer, name="request_revision", check=check, note=feedback
        )
        notices.schedule(
            "order.revision_requested",
            recipient=order.musician,
            order=order,
            key=f"revision:{order.revisions_used}",
            customer_name=customer.display_name or "The customer",
        )
    return order


def order_approve(*, order: Order, customer) -> Order:
    with transaction.atomic():
        order, _ = _transition(
            order, actor=customer, name="approve", check=_customer_only(customer)
        )
        notices.schedule(
            "order.draft_approved",
            recipient=order.musician,
            order=order,
            key="approved",
            customer_name=customer.display_name or "The customer",
        )
    return order


def order_deliver(*, order: Order, musician) -> Order:
    """approved -> delivered: the balance is due. The finals' upload and QC are the delivery
    service's (media pipeline); this is the state change it makes once they pass."""
    with transaction.atomic():
        order, _ = _transition(
            order, actor=musician, name="deliver", check=_musician_only(musician)
        )
        notices.schedule(
            "order.delivered",
            recipient=order.customer,
            order=order,
            key="delivered",
            amount_minor=order.balance_amount,
            currency=order.currency,
        )
    return order


def order_cancel(*, order: Order, actor, reason: str = "") -> Order:
    """Cancel before a musician accepts (placed or matching): a captured deposit is refunded in
    full. The refund is recorded in this transaction (billing then asks the provider)."""
    reason = (reason or "").strip()[:1000]
    with transaction.atomic():
        order, _ = _transition(
            order,
            actor=actor,
            name="cancel",
            check=_customer_only(actor, staff_too=True),
            note=reason,
        )
        order.closed_at = timezone.now()
        order.save(update_fields=["closed_at", "updated_at"])
        deposit = Payment.objects.filter(idempotency_key=deposit_key(order)).first()
        if deposit is not None and deposit.status in CAPTURED_STATUSES:
            remaining = deposit.amount - deposit.amount_refunded
            if remaining > 0:
                try:
                    billing.payment_refund(
                        payment=deposit,
                        reason="order cancelled",
                        idempotency_key=f"order:{order.pk}:cancel-refund",
                        requested_by=actor,
                    )
                except BillingError:
                    # Recorded and reversed by billing when the provider refuses; staff
                    # retry it from the payments screen. The cancellation stands.
                    logger.exception("refund of the deposit of order %s failed", order.pk)
    return order


def order_open_dispute(*, order: Order, actor, reason: str) -> Order:
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise Invalid("Tell us what went wrong (10 characters at least).", field="reason")
    if len(reason) > 5000:
        raise Invalid("At most 5000 characters.", field="reason")

    def check(locked):
        if actor.pk not in (locked.customer_id, locked.musician_id):
            raise Forbidden("Only the customer or the musician opens a dispute.")

    with transaction.atomic():
        order, _ = _transition(order, actor=actor, name="open_dispute", check=check, note=reason)
        for person in (order.customer, order.musician):
            notices.schedule("order.dispute_opened", recipient=person, order=order, key="dispute")
    return order


# --- the balance milestone ------------------------------------------------------------------


def order_balance_checkout(*, order: Order, actor, return_to: str = ""):
    """The billing checkout where the customer pays the balance of a delivered order. Outside
    any transaction: a real provider is called. None when nothing is due (the deposit was the
    whole price): the order completes at once."""
    if order.customer_id != actor.pk:
        raise Forbidden("Only the customer pays the balance.")
    if order.status != OrderStatus.DELIVERED:
        raise TransitionConflict(order=order, transition="pay_balance")
    if order.balance_amount == 0:
        order_balance_captured(order=order, payment=None)
        return None
    return billing.payment_checkout_start(
        payer=order.customer,
        amount=order.balance_amount,
        currency=order.currency,
        purpose="order_balance",
        reference=str(order.pk),
        description=f"Balance: {order.title}"[:200],
        idempotency_key=balance_key(order),
        return_to=return_to,
    )


def order_balance_captured(*, order: Order, payment) -> Order:
    """The balance is in: delivered -> completed, and the escrow (the whole price) is released
    to the musician's payable minus the platform fee (MarketplaceSettings)."""
    with transaction.atomic():
        order, _ = _transition(order, actor=None, name="balance_captured", check=lambda o: None)
        order.closed_at = timezone.now()
        order.save(update_fields=["closed_at", "updated_at"])
        fee = MarketplaceSettings.load().platform_fee(order.price)
        billing.escrow_release(
            reference=str(order.pk),
            musician=order.musician,
            amount=order.price,
            platform_fee=fee,
            currency=order.currency,
            idempotency_key=f"order:{order.pk}:release",
        )
        notices.schedule("order.balance_paid", recipient=order.customer, order=order, key="paid")
    return order
