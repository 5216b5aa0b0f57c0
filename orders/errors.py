"""Errors orders' services raise. Each carries the HTTP status and code the API answers with."""

from django_fsm import TransitionNotAllowed


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
    first). ``allowed`` lists the transitions the order could take now."""

    code = "transition_not_allowed"

    def __init__(self, *, order, transition: str):
        self.allowed = order.allowed_transitions()
        self.transition = transition
        Conflict.__init__(
            self,
            f"An order that is {order.status} cannot {transition.replace('_', ' ')}.",
        )
