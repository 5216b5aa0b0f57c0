"""The order's state changes (docs/architecture.md section 5), one service per transition.

Each opens ``transaction.atomic()``, locks the order, checks the actor's right, calls the
model's transition, saves, appends an ``OrderEvent`` and schedules the notifications on commit.
An illegal transition raises ``TransitionConflict`` (409, with the transitions allowed now); of
two requests racing on one order exactly one wins, the other finds it moved and gets the 409.
"""

import logging

from django.db import transaction
from django.utils import timezone

from billing import selectors as billing_selectors
from billing import services as billing
from billing.errors import BillingError
from notifications.formatting import money
from orders import notices, selectors
from orders.errors import Conflict, Invalid, TransitionConflict, VersionSuperseded
from orders.models import (
    MarketplaceSettings,
    Order,
    OrderStatus,
    RevisionRequest,
    RevisionStatus,
)
from orders.services import matching, pricing
from orders.services.base import (
    customer_only,
    display_name,
    event_add,
    lock,
    musician_only,
    transition_apply,
    transition_apply_locked,
)
from orders.services.core import balance_key, deposit_key, milestone_terms
from orders.services.reviews import musician_stats_refresh

logger = logging.getLogger(__name__)


def order_deposit_captured(*, order: Order, payment) -> Order:
    """billing captured the deposit: placed -> matching (inside billing's transaction), and the
    order is offered to the customer's pick or to the best match."""
    with transaction.atomic():
        order, captured = transition_apply(
            order, actor=None, name="deposit_captured", check=lambda o: None
        )
        notices.schedule(
            "order.deposit_received",
            recipient=order.customer,
            order=order,
            occurrence=captured,
            amount_minor=payment.amount,
            currency=payment.currency,
            # Nobody accepted yet: the order is offered to the customer's pick, or matched.
            picked_name="" if order.match else display_name(order.musician, ""),
        )
        matching.order_offer_first(order)
    return order


def order_accept(*, order: Order, musician) -> Order:
    """The offered musician takes the order before the offer expires: matching -> in_progress.
    An order that asked to be matched takes the price and terms of the package it was offered
    at (orders.services.pricing)."""
    with transaction.atomic():
        order = lock(order)
        matching.offered_only(musician, transition="accept")(order)
        if order.status != OrderStatus.MATCHING:
            raise TransitionConflict(order=order, transition="accept", actor=musician)
        offer = matching.offer_accept(order, musician=musician)
        order, accepted = transition_apply_locked(order, actor=musician, name="accept")
        order.accepted_at = timezone.now()
        order.save(update_fields=["accepted_at", "updated_at"])
        refunded = pricing.order_price_from_offer(order, offer=offer)
        notices.schedule(
            "order.offer_accepted",
            recipient=order.customer,
            order=order,
            occurrence=accepted,
            musician_name=display_name(musician, "Your musician"),
            # A matched order is told its price: the budget was only a ceiling.
            price=money(order.price, order.currency) if order.match else "",
            refunded=money(refunded, order.currency) if refunded else "",
        )
    return order


order_decline = matching.order_decline


def order_advance_stage(*, order: Order, musician, note: str = "") -> Order:
    with transaction.atomic():
        order, advanced = transition_apply(
            order,
            actor=musician,
            name="advance_stage",
            check=musician_only(musician),
            note=note[:5000],
        )
        notices.schedule(
            "order.stage_changed",
            recipient=order.customer,
            order=order,
            occurrence=advanced,
            stage=order.get_stage_display(),
        )
    return order


def order_submit_draft(*, order: Order, musician, note: str = "") -> Order:
    """in_progress | revision_requested -> in_review, once a draft's preview is ready (called
    by orders.services.versions; the customer hears about it)."""
    with transaction.atomic():
        order, submitted = transition_apply(
            order,
            actor=musician,
            name="submit_draft",
            check=musician_only(musician),
            note=note[:5000],
        )
        notices.schedule(
            "order.draft_ready",
            recipient=order.customer,
            order=order,
            occurrence=submitted,
            musician_name=display_name(musician, "Your musician"),
        )
    return order


def _clean_feedback(feedback: str) -> str:
    feedback = (feedback or "").strip()
    if not feedback:
        raise Invalid("Tell the musician what to change.", field="feedback")
    if len(feedback) > 5000:
        raise Invalid("At most 5000 characters.", field="feedback")
    return feedback


def _judged_check(order: Order, version: int | None) -> None:
    """On the locked order in review: `version` (the number the customer's page showed) must
    be the draft in review now. None skips the check (API callers that name no version)."""
    if version is None:
        return
    current = selectors.version_in_review(order)
    current_number = current.number if current is not None else None
    if version != current_number:
        raise VersionSuperseded(judged=version, current=current_number)


def order_request_revision(
    *, order: Order, customer, feedback: str, version: int | None = None
) -> RevisionRequest:
    """The customer asks for changes to the draft in review. Within the included revisions the
    order goes to revision_requested at once; beyond them the request waits for the musician's
    consent (``revision_consent``) and the order stays in review. `version`, when given, is the
    draft the customer answers: a newer one in review refuses the request (409)."""
    feedback = _clean_feedback(feedback)
    with transaction.atomic():
        order = lock(order)
        customer_only(customer)(order)
        if order.status != OrderStatus.IN_REVIEW:
            raise TransitionConflict(order=order, transition="request_revision", actor=customer)
        _judged_check(order, version)
        if order.revision_requests.filter(status=RevisionStatus.PENDING).exists():
            raise Conflict(
                "Your last request is still waiting for the musician's answer.",
                code="revision_pending",
            )
        included = order.revisions_used < order.revisions_included
        request = RevisionRequest.objects.create(
            order=order,
            requested_by=customer,
            feedback=feedback,
            included=included,
            status=RevisionStatus.GRANTED if included else RevisionStatus.PENDING,
        )
        if included:
            _, asked = transition_apply_locked(
                order, actor=customer, name="request_revision", note=feedback
            )
        else:
            asked = event_add(order, actor=customer, name="extra_revision_requested", note=feedback)
        notices.schedule(
            "order.revision_requested",
            recipient=order.musician,
            order=order,
            occurrence=asked,
            customer_name=display_name(customer, "The customer"),
            consent_needed=not included,
            notes=feedback,
        )
    return request


def revision_consent(*, order: Order, musician, accept: bool, note: str = "") -> RevisionRequest:
    """The musician answers a request beyond the included revisions: yes sends the order back
    to revision_requested; no keeps the draft in review (approve it, or open a dispute)."""
    note = (note or "").strip()
    if len(note) > 1000:
        raise Invalid("At most 1000 characters.", field="note")
    with transaction.atomic():
        order = lock(order)
        musician_only(musician)(order)
        request = (
            order.revision_requests.select_for_update()
            .filter(status=RevisionStatus.PENDING)
            .first()
        )
        if request is None:
            raise Conflict("No revision is waiting for your answer.", code="no_revision_pending")
        if order.status != OrderStatus.IN_REVIEW:
            # A request left waiting when a dispute stopped the order is answered, if ever,
            # once the draft is in review again, not on a disputed or closed order.
            raise TransitionConflict(order=order, transition="revision_consent", actor=musician)
        request.status = RevisionStatus.GRANTED if accept else RevisionStatus.DECLINED
        request.response_note = note
        request.responded_at = timezone.now()
        request.save(update_fields=["status", "response_note", "responded_at"])
        if accept:
            _, answered = transition_apply_locked(
                order, actor=musician, name="request_revision", note=request.feedback
            )
        else:
            answered = event_add(order, actor=musician, name="extra_revision_declined", note=note)
        notices.schedule(
            "order.revision_consent",
            recipient=order.customer,
            order=order,
            occurrence=answered,
            musician_name=display_name(musician, "Your musician"),
            accepted=accept,
            response_note=note,
        )
    return request


def order_approve(*, order: Order, customer, version: int | None = None) -> Order:
    """The customer approves the draft in review: the musician prepares the finals. `version`,
    when given, is the draft the customer heard: a newer one in review refuses it (409), so a
    page left open never approves a draft nobody listened to."""
    with transaction.atomic():
        order = lock(order)
        customer_only(customer)(order)
        if order.status != OrderStatus.IN_REVIEW:
            raise TransitionConflict(order=order, transition="approve", actor=customer)
        _judged_check(order, version)
        if order.revision_requests.filter(status=RevisionStatus.PENDING).exists():
            # Approving settles the question: the extra revision is no longer wanted.
            order.revision_requests.filter(status=RevisionStatus.PENDING).update(
                status=RevisionStatus.DECLINED,
                response_note="Withdrawn: the customer approved the draft.",
                responded_at=timezone.now(),
            )
        order, approved = transition_apply_locked(order, actor=customer, name="approve")
        order.approved_at = timezone.now()
        order.save(update_fields=["approved_at", "updated_at"])
        musician_stats_refresh(musician=order.musician)
        notices.schedule(
            "order.draft_approved",
            recipient=order.musician,
            order=order,
            occurrence=approved,
            customer_name=display_name(customer, "The customer"),
        )
    return order


def order_deliver(*, order: Order, musician) -> Order:
    """approved -> delivered once the finals passed QC (called by orders.services.versions):
    the balance is due."""
    with transaction.atomic():
        order, delivered = transition_apply(
            order, actor=musician, name="deliver", check=musician_only(musician)
        )
        order.delivered_at = timezone.now()
        order.save(update_fields=["delivered_at", "updated_at"])
        musician_stats_refresh(musician=order.musician)
        notices.schedule(
            "order.delivered",
            recipient=order.customer,
            order=order,
            occurrence=delivered,
            amount_minor=order.balance_amount,
            currency=order.currency,
        )
    return order


def order_cancel(*, order: Order, actor, reason: str = "") -> Order:
    """Cancel before a musician accepts (placed or matching): a captured deposit is refunded in
    full. The refund is recorded in this transaction (billing then asks the provider)."""
    reason = (reason or "").strip()[:1000]
    with transaction.atomic():
        order, _ = transition_apply(
            order,
            actor=actor,
            name="cancel",
            check=customer_only(actor, staff_too=True),
            note=reason,
        )
        order.closed_at = timezone.now()
        order.save(update_fields=["closed_at", "updated_at"])
        matching.offer_withdraw(order)
        deposit = billing_selectors.payment_by_key(deposit_key(order))
        if billing_selectors.payment_refundable(deposit) > 0:
            try:
                billing.payment_refund(
                    payment=deposit,
                    reason="order cancelled",
                    idempotency_key=f"order:{order.pk}:cancel-refund",
                    requested_by=actor,
                )
            except BillingError:
                # Recorded and reversed by billing when the provider refuses; staff retry it
                # from the payments screen. The cancellation stands.
                logger.exception("refund of the deposit of order %s failed", order.pk)
    return order


# --- the balance milestone ------------------------------------------------------------------


def order_balance_checkout(*, order: Order, actor, return_to: str = ""):
    """The billing checkout where the customer pays the balance of a delivered order. Outside
    any transaction: a real provider is called. None when nothing is due (the deposit was the
    whole price, or the balance is paid already): the order completes at once."""
    customer_only(actor)(order)
    if order.status != OrderStatus.DELIVERED:
        raise TransitionConflict(order=order, transition="pay_balance", actor=actor)
    # Captured already when it arrived while the order was disputed and the dispute was
    # resolved with "continue": the escrow holds it, so the order completes now.
    paid = billing_selectors.payment_by_key(balance_key(order), captured=True)
    if order.balance_amount == 0 or paid is not None:
        order_balance_captured(order=order, payment=paid)
        return None
    return billing.payment_checkout_start(**milestone_terms(order, "balance"), return_to=return_to)


def order_balance_captured(*, order: Order, payment) -> Order:
    """The balance is in: delivered -> completed, and the escrow (the whole price) is released
    to the musician's payable minus the platform fee (MarketplaceSettings)."""
    with transaction.atomic():
        order, captured = transition_apply(
            order, actor=None, name="balance_captured", check=lambda o: None
        )
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
        musician_stats_refresh(musician=order.musician)
        notices.schedule(
            "order.balance_paid", recipient=order.customer, order=order, occurrence=captured
        )
    return order
