"""What may this person do with this order now: the one answer the order page's buttons, the
API detail's ``allowed`` and every 409's ``allowed`` give.

The names are the API's requests: accept, decline, advance_stage, submit_draft (upload a draft),
request_revision, revision_consent, approve, deliver (upload the finals), pay_deposit,
pay_balance, cancel, open_dispute, dispute_evidence, resolve_dispute, review.

The state machine says what the order could do in its state (``Order.allowed_transitions``);
this adds who: each side's own actions, the musician's offer still open, no second revision
request while one waits for consent, no second upload while one is processing, staff who are
not a party resolving a dispute. It reads the order's related rows through ``.all()``, so an
order from ``selectors.order_detail_for`` (prefetched) costs no further query.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from orders.models import DisputeStatus, MediaStatus, OfferStatus, OrderStatus, RevisionStatus

CUSTOMER_TRANSITIONS = frozenset(
    {"pay_deposit", "cancel", "approve", "request_revision", "pay_balance", "open_dispute"}
)
MUSICIAN_TRANSITIONS = frozenset(
    {"accept", "decline", "advance_stage", "submit_draft", "deliver", "open_dispute"}
)
STAFF_TRANSITIONS = frozenset({"cancel", "resolve_dispute"})


class Allowed(frozenset):
    """The names of the actions allowed; templates read ``actions.approve``."""

    def __getitem__(self, name) -> bool:
        return name in self


def _pending_offer_to(order, user):
    now = timezone.now()
    return any(
        offer.musician_id == user.pk
        and offer.status == OfferStatus.PENDING
        and offer.expires_at > now
        for offer in order.offers.all()
    )


def _revision_waiting(order) -> bool:
    return any(r.status == RevisionStatus.PENDING for r in order.revision_requests.all())


def _open_dispute(order) -> bool:
    return any(d.status == DisputeStatus.OPEN for d in order.disputes.all())


def _processing(uploads) -> bool:
    return any(upload.status == MediaStatus.PROCESSING for upload in uploads.all())


def _reviewed(order) -> bool:
    try:
        return order.review is not None
    except ObjectDoesNotExist:
        return False


def order_actions_for(order, user) -> Allowed:
    """The actions `user` may take on `order` now (none for anyone else, or for nobody)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Allowed()
    transitions = set(order.allowed_transitions())
    allowed = set()
    if order.customer_id == user.pk:
        allowed |= transitions & CUSTOMER_TRANSITIONS
        if "request_revision" in allowed and _revision_waiting(order):
            allowed.discard("request_revision")  # the musician answers the last one first
        if order.status == OrderStatus.COMPLETED and not _reviewed(order):
            allowed.add("review")
    if order.musician_id is not None and order.musician_id == user.pk:
        musician = transitions & MUSICIAN_TRANSITIONS
        if {"accept", "decline"} & musician and not _pending_offer_to(order, user):
            musician -= {"accept", "decline"}
        if "submit_draft" in musician and _processing(order.versions):
            musician.discard("submit_draft")
        if "deliver" in musician and _processing(order.deliveries):
            musician.discard("deliver")
        allowed |= musician
        if order.status == OrderStatus.IN_REVIEW and _revision_waiting(order):
            allowed.add("revision_consent")
    party = user.pk in (order.customer_id, order.musician_id)
    if party and order.status == OrderStatus.DISPUTED and _open_dispute(order):
        allowed.add("dispute_evidence")
    if user.is_staff and not party:
        allowed |= transitions & STAFF_TRANSITIONS
    return Allowed(allowed)
