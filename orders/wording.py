"""How the pages and the API word an order (its status, its timeline, its history) and a
musician's availability for whoever is looking.

An order's status labels (``OrderStatus``) are written for the customer ("Finding your
musician"); the musician making the song reads what the state asks of them instead, and never
the customer's budget. Staff read the customer's words. Availability is worded from
``orders.availability`` so Discover and the commission form say the same thing.
"""

from django.utils.formats import date_format

from notifications.formatting import money
from orders.availability import AWAY, FULL, INACTIVE, PAUSED, Availability
from orders.models import OrderStatus

S = OrderStatus

MUSICIAN_STATUS = {
    S.PLACED: "Waiting for the customer's deposit",
    S.MATCHING: "Waiting for your answer",
    S.IN_PROGRESS: "In progress",
    S.IN_REVIEW: "Customer is reviewing your draft",
    S.REVISION_REQUESTED: "Revision requested: your turn",
    S.APPROVED: "Approved: upload the finals",
    S.DELIVERED: "Delivered: waiting for the customer's balance",
    S.COMPLETED: "Completed",
    S.CANCELLED: "Cancelled",
    S.DISPUTED: "Disputed: on hold",
    S.REFUNDED: "Refunded",
}
OFFER_OVER = "Your time to answer is over"


def status_label(status: str, role: str, *, offer_over: bool = False) -> str:
    """The status of an order as `role` (customer, musician or staff) reads it. A musician
    whose offer ran out is told so rather than asked for an answer."""
    if role == "musician":
        if status == S.MATCHING and offer_over:
            return OFFER_OVER
        return MUSICIAN_STATUS[status]
    return S(status).label


# The history's lines. The page follows a line with "by <who>" when the event has an actor, so
# a label never names the actor itself ("Accepted by the musician by Mira").
EVENT_LABELS = {
    "place": "Order placed",
    "deposit_captured": "Deposit received",
    "offer": "Offered to a musician",
    "accept": "Accepted",
    "priced": "Priced at the musician's package",
    "decline": "Declined",
    "expire_offer": "The offer expired",
    "no_candidate": "Looking for a musician",
    "advance_stage": "Moved to the next stage",
    "version_uploaded": "Draft uploaded",
    "version_ready": "Draft ready",
    "version_failed": "A draft could not be processed",
    "submit_draft": "Draft ready for review",
    "request_revision": "Revision requested",
    "extra_revision_requested": "Extra revision asked for",
    "extra_revision_declined": "Extra revision declined",
    "approve": "Draft approved",
    "delivery_uploaded": "Finals uploaded",
    "delivery_failed": "The finals did not pass the checks",
    "deliver": "Finals delivered",
    "balance_captured": "Balance received",
    "cancel": "Order cancelled",
    "open_dispute": "Dispute opened",
    "dispute_evidence": "Evidence added to the dispute",
    "resolve_dispute": "Dispute resolved",
    "review": "Review posted",
}
MUSICIAN_EVENT_LABELS = {
    "deposit_captured": "Deposit paid by the customer",
    "priced": "Priced at your package",
}
# The timeline's steps the musician reads differently (orders.selectors.TRACK).
MUSICIAN_TRACK = {
    S.MATCHING: "Offered to you",
}


def event_label(name: str, role: str) -> str:
    if role == "musician" and name in MUSICIAN_EVENT_LABELS:
        return MUSICIAN_EVENT_LABELS[name]
    return EVENT_LABELS.get(name, name.replace("_", " ").capitalize())


def event_note(event, *, order, role: str) -> str:
    """An event's note as `role` reads it. The pricing note tells the customer their budget
    and the refund of the deposit's excess: the musician reads only the price of their package
    (which the order took when they accepted)."""
    if role == "musician" and event.name == "priced":
        return f"Priced at your package, {money(order.price, order.currency)}."
    return event.note


def track_label(status: str, label: str, role: str) -> str:
    """A step of the tracking timeline (`label`: the customer's words) as `role` reads it."""
    if role == "musician":
        return MUSICIAN_TRACK.get(status, label)
    return label


def _day(value) -> str:
    return date_format(value, "j F Y")


def availability_label(availability: Availability) -> str:
    """A short line under a musician's name: 'Available now', 'Away, back on 12 May 2026'."""
    if availability.available:
        return "Available now"
    free = availability.next_free_date
    if availability.reason == PAUSED:
        return "Paused: not taking new commissions"
    if availability.reason == AWAY:
        return f"Away, back on {_day(free)}" if free else "Away for now"
    if availability.reason == FULL:
        return f"Fully booked, next free on {_day(free)}" if free else "Fully booked for now"
    if availability.reason == INACTIVE:
        return "Not taking commissions"
    return "Not available now"
