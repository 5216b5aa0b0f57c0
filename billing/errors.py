"""Errors billing's services raise. Each carries the HTTP status and the code the API answers
with, so views translate them without knowing every case."""

from core.errors import ServiceError


class BillingError(ServiceError):
    pass


class Invalid(BillingError):
    pass


class Forbidden(BillingError):
    status = 403
    code = "permission_denied"
    default_message = "You may not do this."


class NotFound(BillingError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class Conflict(BillingError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class InsufficientFunds(Conflict):
    """A ledger move would take an account that may not go negative below zero."""

    code = "insufficient_funds"
    default_message = "There is not enough money in the account for this."


class IdempotencyConflict(Conflict):
    """An idempotency key was reused for a different operation."""

    code = "idempotency_conflict"
    default_message = "This idempotency key was already used for another operation."


class Unbalanced(BillingError):
    """A ledger transaction whose entries do not sum to zero in every currency (a bug)."""

    code = "unbalanced"
    default_message = "A ledger transaction must sum to zero in every currency."


class ProviderError(BillingError):
    """The payment provider refused or could not be reached."""

    status = 502
    code = "provider_error"
    default_message = "The payment provider could not complete the request. Try again."


class PaymentsNotConfigured(BillingError):
    """No payment provider is set up for this: no provider keys, and the embedded sandbox is
    off (as it is unless BILLING_SANDBOX is set). Nothing can be paid, so nothing is taken."""

    status = 503
    code = "payments_not_configured"
    default_message = (
        "Payments are not configured on this site yet, so nothing can be paid for now. "
        "Please try again later."
    )


class WebhookRejected(BillingError):
    """A webhook that is forged, tampered with, stale or malformed: refused, nothing stored."""

    code = "invalid_signature"
    default_message = "The webhook signature is not valid."


class TransferFailed(ProviderError):
    """The provider answered that it made no transfer (it refused it, or it failed there).

    Any other ProviderError from a transfer call leaves it unclear whether the money moved (a
    timeout, a dropped connection), so a retry must reuse the idempotency key; after this one a
    retry may use a new key."""

    code = "transfer_failed"
    default_message = "The payment provider did not make the transfer."
