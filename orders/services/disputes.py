"""Disputes: either side opens one with a reason and evidence; staff resolve it.

Resolutions (docs/architecture.md section 5):

- ``refund``: ``refund_amount`` (default: everything the escrow holds) goes back to the
  customer; whatever the escrow still holds is released to the musician minus the platform
  fee (a split). The order ends ``refunded``.
- ``release``: everything the escrow holds goes to the musician minus the platform fee; the
  order ends ``completed``.
- ``continue``: nothing moves; the work goes on (``in_progress``).

Money is never made up: the amounts refunded and released add up to what the escrow held.
"""

from django.db import transaction
from django.utils import timezone

from billing import selectors as billing_selectors
from billing import services as billing
from orders import notices
from orders.errors import Conflict, Forbidden, Invalid, TransitionConflict
from orders.models import (
    ChatMessage,
    Dispute,
    DisputeEvidence,
    DisputeOutcome,
    DisputeStatus,
    MarketplaceSettings,
    Order,
    OrderStatus,
    RevisionStatus,
)
from orders.services.base import (
    event_add,
    is_staff,
    lock,
    party_only,
    transition_apply_locked,
)
from orders.services.reviews import musician_stats_refresh

MAX_EVIDENCE_VERSIONS = 20
MAX_EVIDENCE_MESSAGES = 50


def _clean_text(text: str, *, field: str, minimum: int = 1) -> str:
    text = (text or "").strip()
    if len(text) < minimum:
        raise Invalid(
            f"Tell us what happened ({minimum} characters at least)."
            if minimum > 1
            else "Write something.",
            field=field,
        )
    if len(text) > 5000:
        raise Invalid("At most 5000 characters.", field=field)
    return text


def _versions_of(order: Order, numbers) -> list:
    numbers = list(dict.fromkeys(numbers or []))
    if len(numbers) > MAX_EVIDENCE_VERSIONS:
        raise Invalid(f"At most {MAX_EVIDENCE_VERSIONS} versions.", field="versions")
    if not numbers:
        return []
    # Matched in Python: a number past the column's range (2**63) is "no such version", not
    # an OverflowError from the database driver.
    versions = {version.number: version for version in order.versions.all()}
    missing = [number for number in numbers if number not in versions]
    if missing:
        raise Invalid(f"This order has no version {missing[0]}.", field="versions")
    return [versions[number] for number in numbers]


def order_open_dispute(*, order: Order, actor, reason: str, versions=()) -> Dispute:
    """The customer or the musician stops the order for staff to decide. ``versions`` are the
    numbers of the drafts the reason is about."""
    reason = _clean_text(reason, field="reason", minimum=10)
    with transaction.atomic():
        order = lock(order)
        party_only(actor)(order)
        evidence_versions = _versions_of(order, versions)
        _, opened = transition_apply_locked(order, actor=actor, name="open_dispute", note=reason)
        dispute = Dispute.objects.create(order=order, opened_by=actor, reason=reason)
        evidence = DisputeEvidence.objects.create(dispute=dispute, author=actor, text=reason)
        evidence.versions.set(evidence_versions)
        for person in (order.customer, order.musician):
            notices.schedule(
                "order.dispute_opened", recipient=person, order=order, occurrence=opened
            )
    return dispute


def _messages_of(order: Order, ids) -> list:
    """The order's chat messages with these ids (any sender's: the other side's words are
    evidence too)."""
    ids = list(dict.fromkeys(ids or []))
    if len(ids) > MAX_EVIDENCE_MESSAGES:
        raise Invalid(f"At most {MAX_EVIDENCE_MESSAGES} messages.", field="messages")
    if not ids:
        return []
    if any(not 0 < message_id < 2**63 for message_id in ids):
        raise Invalid("This order has no such message.", field="messages")
    found = {m.pk: m for m in ChatMessage.objects.filter(order=order, pk__in=ids)}
    missing = [message_id for message_id in ids if message_id not in found]
    if missing:
        raise Invalid(f"This order has no message {missing[0]}.", field="messages")
    return [found[message_id] for message_id in ids]


def dispute_evidence_add(
    *, order: Order, actor, text: str, versions=(), messages=()
) -> DisputeEvidence:
    """Either side adds a statement (and the versions and chat messages it points at) to the
    open dispute."""
    text = _clean_text(text, field="text")
    with transaction.atomic():
        order = lock(order)
        party_only(actor)(order)
        dispute = order.disputes.filter(status=DisputeStatus.OPEN).first()
        if dispute is None:
            raise Conflict("This order has no open dispute.", code="no_open_dispute")
        evidence_versions = _versions_of(order, versions)
        evidence_messages = _messages_of(order, messages)
        evidence = DisputeEvidence.objects.create(dispute=dispute, author=actor, text=text)
        evidence.versions.set(evidence_versions)
        evidence.messages.set(evidence_messages)
        event_add(order, actor=actor, name="dispute_evidence", note=text)
    return evidence


def escrow_held(order: Order) -> int:
    """What the order's escrow holds now (captured milestones minus refunds and releases)."""
    return billing_selectors.escrow_balance(
        scope="order", reference=str(order.pk), currency=order.currency
    )


def _refund(order: Order, dispute: Dispute, amount: int, actor) -> None:
    """Give `amount` back from the order's captured milestones, the balance first."""
    payments = billing_selectors.payments_for(
        purposes=("order_balance", "order_deposit"), reference=str(order.pk), captured=True
    ).order_by("purpose")  # "order_balance" sorts before "order_deposit"
    left = amount
    for payment in payments:
        if left == 0:
            break
        part = min(left, payment.amount - payment.amount_refunded)
        if part <= 0:
            continue
        billing.payment_refund(
            payment=payment,
            amount=part,
            reason=f"dispute {dispute.pk} resolved",
            idempotency_key=f"order:{order.pk}:dispute:{dispute.pk}:refund:{payment.pk}",
            requested_by=actor,
        )
        left -= part
    if left:
        raise Conflict("The payments hold less than the refund.", code="refund_exceeds_payment")


def _release(order: Order, dispute: Dispute, amount: int) -> None:
    if amount <= 0:
        return
    billing.escrow_release(
        reference=str(order.pk),
        musician=order.musician,
        amount=amount,
        platform_fee=MarketplaceSettings.load().platform_fee(amount),
        currency=order.currency,
        idempotency_key=f"order:{order.pk}:dispute:{dispute.pk}:release",
    )


def dispute_resolve(
    *, order: Order, staff, outcome: str, refund_amount: int | None = None, note: str = ""
) -> Dispute:
    """Staff decide an open dispute: refund (full or partial), release, or continue."""
    if not is_staff(staff):
        raise Forbidden("Only staff resolve disputes.")
    if outcome not in DisputeOutcome.values:
        raise Invalid("Choose refund, release or continue.", field="outcome")
    note = (note or "").strip()
    if len(note) > 5000:
        raise Invalid("At most 5000 characters.", field="note")
    if refund_amount is not None and outcome != DisputeOutcome.REFUND:
        raise Invalid("Only a refund has an amount.", field="refund_amount")
    with transaction.atomic():
        order = lock(order)
        if order.status != OrderStatus.DISPUTED:
            raise TransitionConflict(order=order, transition="resolve_dispute", actor=staff)
        if staff.pk in (order.customer_id, order.musician_id):
            # Staff who are a party would decide where their own money goes.
            raise Forbidden("A dispute on your own order is resolved by other staff.")
        dispute = order.disputes.select_for_update().filter(status=DisputeStatus.OPEN).first()
        if dispute is None:  # a disputed order always has one; be clear if not
            raise Conflict("This order has no open dispute.", code="no_open_dispute")
        held = escrow_held(order)
        refunded = released = 0
        if outcome == DisputeOutcome.REFUND:
            refunded = held if refund_amount is None else refund_amount
            if not isinstance(refunded, int) or not 0 < refunded <= held:
                raise Invalid(
                    f"Refund between 1 and {held} {order.currency} (what the escrow holds).",
                    field="refund_amount",
                )
            _refund(order, dispute, refunded, staff)
            released = held - refunded
            if released and order.musician is None:
                raise Invalid(
                    "Nobody to release the rest to: refund it all.", field="refund_amount"
                )
            _release(order, dispute, released)
        elif outcome == DisputeOutcome.RELEASE:
            released = held
            _release(order, dispute, released)
        _, resolved = transition_apply_locked(
            order,
            actor=staff,
            name="resolve_dispute",
            args=(outcome,),
            note=note or DisputeOutcome(outcome).label,
        )
        if order.status in (OrderStatus.REFUNDED, OrderStatus.COMPLETED):
            order.closed_at = timezone.now()
            order.save(update_fields=["closed_at", "updated_at"])
            # The order is closed: a request for an extra revision waits for nothing now.
            order.revision_requests.filter(status=RevisionStatus.PENDING).update(
                status=RevisionStatus.DECLINED,
                response_note="Closed by the dispute's resolution.",
                responded_at=timezone.now(),
            )
        dispute.status = DisputeStatus.RESOLVED
        dispute.outcome = outcome
        dispute.refunded_amount = refunded
        dispute.released_amount = released
        dispute.resolution_note = note
        dispute.resolved_by = staff
        dispute.resolved_at = timezone.now()
        dispute.save()
        if order.musician is not None:
            musician_stats_refresh(musician=order.musician)
        for person in (order.customer, order.musician):
            notices.schedule(
                "order.dispute_resolved",
                recipient=person,
                order=order,
                occurrence=resolved,
                outcome=DisputeOutcome(outcome).label,
                refunded_minor=refunded,
                released_minor=released,
                currency=order.currency,
            )
    return dispute
