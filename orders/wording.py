"""How the pages word an order's status and a musician's availability for whoever is looking.

An order's status labels (``OrderStatus``) are written for the customer ("Finding your
musician"); the musician making the song reads what the state asks of them instead. Staff read
the customer's words. Availability is worded from ``orders.availability`` so Discover and the
commission form say the same thing.
"""

from django.utils.formats import date_format

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
