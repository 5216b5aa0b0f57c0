"""The one interface every payment provider implements.

A provider does two things: it talks to the outside world (checkout, capture, refunds,
transfers, subscriptions) and it turns its verified webhooks into normalised events
(PaymentUpdate, SubscriptionUpdate...), which billing.services.webhooks applies through
billing's services. Everything after that boundary (storing the event once, processing it in a
transaction, the ledger, subscriptions, entitlements) is the same code whichever provider sent
it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from billing.errors import Invalid


class NotSupported(Invalid):
    code = "not_supported"
    default_message = "This payment provider does not support that."


@dataclass(frozen=True)
class CheckoutStart:
    """Where to send the payer, and the provider's id of the checkout (an order, a session)."""

    url: str
    provider_session_id: str
    client_params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class VerifiedEvent:
    event_id: str
    event_type: str
    payload: dict
    occurred_at: datetime | None


@dataclass(frozen=True)
class ProviderRefund:
    id: str
    status: str  # pending | processed


@dataclass(frozen=True)
class ProviderTransfer:
    id: str
    status: str  # a billing.models.PayoutStatus value: processing | paid | reversed


@dataclass(frozen=True)
class SubscriptionSnapshot:
    """A subscription as the provider saw it at one moment (a webhook or an API answer)."""

    provider_subscription_id: str
    status: str  # a billing.models.SubscriptionStatus value
    customer_id: str = ""
    plan: str | None = None
    user_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    trial_end: datetime | None = None
    current_period_start: datetime | None = None
    current_period_end: datetime | None = None
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = None
    ended_at: datetime | None = None
    # When it first started (Stripe's start_date): the same in every snapshot of it.
    started_at: datetime | None = None
    # When the unpaid period began, for a past_due snapshot (the grace period counts from it).
    past_due_since: datetime | None = None
    # The provider's own (time, sequence) for this state, when it has one (the sandbox does).
    version: tuple[datetime, int] | None = None


# --- what a webhook says, in billing's words -------------------------------------------------
# A provider turns each verified webhook into one of these (None: an event billing does not act
# on); billing.services.webhooks hands it to the service it concerns. Providers never call
# services: everything after this boundary is the same code whichever provider sent it.


@dataclass(frozen=True)
class PaymentUpdate:
    """A one-off payment was authorized, captured or failed."""

    status: str  # authorized | captured | failed
    provider_order_id: str = ""
    provider_payment_id: str = ""
    amount: int | None = None
    currency: str | None = None
    failure_reason: str = ""


@dataclass(frozen=True)
class RefundUpdate:
    """A refund (ours, or one made in the provider's dashboard) is pending, done or failed."""

    provider_refund_id: str
    status: str  # pending | processed | failed
    amount: int | None = None
    currency: str | None = None
    provider_payment_id: str = ""
    provider_order_id: str = ""
    encore_refund_id: str = ""


@dataclass(frozen=True)
class TransferUpdate:
    """A payout's transfer moved on (a billing.models.PayoutStatus value)."""

    provider_transfer_id: str
    status: str
    encore_payout_id: str = ""
    reason: str = ""


@dataclass(frozen=True)
class CheckoutCompleted:
    """A subscription checkout was paid (or its trial started)."""

    provider_session_id: str
    provider_subscription_id: str = ""
    customer_id: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SubscriptionUpdate:
    """A subscription as the provider saw it at `version_at` (tie: `version_seq`)."""

    snapshot: SubscriptionSnapshot
    version_at: datetime
    version_seq: int = 0
    trial_will_end: bool = False  # and its trial ends in a few days: tell the subscriber


@dataclass(frozen=True)
class InvoiceUpdate:
    """A subscription charge was paid, or failed."""

    paid: bool
    invoice_id: str
    provider_subscription_id: str
    amount: int
    currency: str
    metadata: dict = field(default_factory=dict)
    customer_id: str = ""
    attempt: int = 1


ProviderEvent = (
    PaymentUpdate
    | RefundUpdate
    | TransferUpdate
    | CheckoutCompleted
    | SubscriptionUpdate
    | InvoiceUpdate
)


def from_timestamp(value) -> datetime | None:
    """A provider's Unix time as an aware UTC datetime; ValueError when it is not one."""
    if value in (None, "", 0):
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, OverflowError, OSError) as error:
        raise ValueError(f"not a timestamp: {value!r}") from error


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(key).lower(): value for key, value in headers.items()}


class PaymentProvider:
    name = ""
    supports_payments = False
    supports_subscriptions = False
    # Razorpay captures authorized payments through its API; the others capture themselves.
    captures_manually = False

    def _unsupported(self, what: str):
        raise NotSupported(f"{self.name} does not support {what}.")

    # --- one-off payments --------------------------------------------------------------------
    def payment_checkout(self, *, payment, checkout, success_url: str, cancel_url: str):
        self._unsupported("payments")

    def payment_capture(self, *, payment) -> dict:
        self._unsupported("captures")

    def refund_create(self, *, refund) -> ProviderRefund:
        self._unsupported("refunds")

    # --- payouts -----------------------------------------------------------------------------
    # The id of an account payouts go to, as a full-match regular expression ("": no payouts),
    # and an example for error messages and forms.
    payout_account_pattern = ""
    payout_account_example = ""

    def transfer_create(self, *, payout, idempotency_key: str) -> ProviderTransfer:
        """Send `payout` to its destination. Raises TransferFailed when the provider made no
        transfer, another ProviderError when that is unclear (retry with the same key)."""
        self._unsupported("transfers")

    def transfer_fetch(self, *, payout) -> ProviderTransfer:
        """How the transfer of `payout` stands at the provider now."""
        self._unsupported("looking up transfers")

    # --- subscriptions -----------------------------------------------------------------------
    def subscription_checkout(
        self, *, checkout, user, plan, trial_days: int, customer_id: str, success_url, cancel_url
    ) -> CheckoutStart:
        self._unsupported("subscriptions")

    def subscription_cancel(self, *, subscription, at_period_end: bool) -> SubscriptionSnapshot:
        self._unsupported("subscriptions")

    def subscription_resume(self, *, subscription) -> SubscriptionSnapshot:
        self._unsupported("subscriptions")

    def portal_url(self, *, subscription, return_url: str) -> str:
        self._unsupported("a billing portal")

    def tie_breaker(self, snapshot: SubscriptionSnapshot) -> int:
        """Orders snapshots stamped with the same time (see subscription_sync)."""
        return 0

    # --- webhooks ----------------------------------------------------------------------------
    def webhook_configured(self) -> bool:
        return False

    def webhook_verify(self, *, body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        raise NotImplementedError

    def webhook_event(self, *, event) -> ProviderEvent | None:
        """What a stored, verified event says, in billing's words (None: billing does not act
        on this type; the event is stored as ignored)."""
        raise NotImplementedError
