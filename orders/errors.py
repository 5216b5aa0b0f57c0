"""Errors orders' services raise. Each carries the HTTP status and code the API answers with."""

from django_fsm import TransitionNotAllowed

from orders.permissions import order_actions_for


class OrderError(Exception):
    status = 400
    code = "invalid"
    default_message = "The request is not valid."

    def __init__(self, message: str | None = None, *, code: str | None = None, field=None):
        self.message = message or self.default_message
        self.field = field
        if code:
            self.code = code
        super().__init__(self.message)

    @property
    def extra(self) -> dict:
        """What the API answers beside ``detail`` and ``code``."""
        return {}


class Invalid(OrderError):
    """Bad input: 400, on the field named."""


class Forbidden(OrderError):
    status = 403
    code = "permission_denied"
    default_message = "You may not do this."


class NotFound(OrderError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(OrderError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class TransitionConflict(Conflict, TransitionNotAllowed):
    """The order is not in a state this transition starts from (or another request moved it
    first). ``allowed`` lists what `actor` may do with it now (orders.permissions)."""

    code = "transition_not_allowed"

    def __init__(self, *, order, transition: str, actor=None):
        self.allowed = sorted(order_actions_for(order, actor))
        self.transition = transition
        Conflict.__init__(
            self,
            f"An order that is {order.status} cannot {transition.replace('_', ' ')}.",
        )

    @property
    def extra(self) -> dict:
        return {"allowed": self.allowed}


class VersionSuperseded(Conflict):
    """The customer judged a draft that is no longer the one in review (a page left open while
    a newer version arrived): nothing is approved or asked on the strength of an unheard draft."""

    code = "version_superseded"

    def __init__(self, *, judged: int, current: int | None):
        self.judged = judged
        self.current = current
        newest = f"v{current}" if current is not None else "no draft"
        super().__init__(
            f"You answered v{judged}, but the draft in review is {newest}: "
            "listen to it, then approve it or ask for changes.",
            field="version",
        )

    @property
    def extra(self) -> dict:
        return {"version": self.judged, "current_version": self.current}


class MusicianUnavailable(Conflict):
    """The customer picked a musician who cannot take an order now (``orders.availability``):
    names why, when they are next free, and that being matched is the way on."""

    code = "musician_unavailable"
    alternatives = ("match",)

    def __init__(self, availability):
        self.reason = availability.reason
        self.next_free_date = availability.next_free_date
        super().__init__(
            f"{availability.message} Ask us to match you with a musician who is free instead.",
            field="package",
        )

    @property
    def extra(self) -> dict:
        free = self.next_free_date
        return {
            "reason": self.reason,
            "next_free_date": free.isoformat() if free is not None else None,
            "alternatives": list(self.alternatives),
        }
