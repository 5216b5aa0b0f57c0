"""Billing data and its invariants (the ledger: docs/architecture.md, "Money: the ledger").

Money is an integer in minor units plus an ISO currency code, never a float. The ledger is
double-entry: every LedgerTransaction's entries sum to zero per currency (checked by the
service and, on PostgreSQL, by a deferred constraint trigger); an account that may not go
negative (escrow, payables, revenue) has a database check on its balance; an idempotency key
is unique, so whatever arrives twice is recorded once. Webhook events are stored once per
(provider, event id).

Status "ranks" make provider-driven transitions monotonic: an event only moves a row forward,
so events that arrive out of order converge to the same state.
"""

import uuid

from django.conf import settings
from django.contrib import admin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from billing.plans import PLAN_CHOICES
from notifications.formatting import money as format_money


class Provider(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox"
    STRIPE = "stripe", "Stripe"
    RAZORPAY = "razorpay", "Razorpay"


# --- payments -------------------------------------------------------------------------------


class PaymentStatus(models.TextChoices):
    CREATED = "created", "Created"
    AUTHORIZED = "authorized", "Authorized"
    CAPTURED = "captured", "Captured"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"


# A provider event only ever moves a payment up this order. A failed attempt can be followed
# by a successful one (a payer retrying on the same provider order), never the other way.
PAYMENT_STATUS_RANK = {
    PaymentStatus.CREATED: 0,
    PaymentStatus.FAILED: 1,
    PaymentStatus.AUTHORIZED: 2,
    PaymentStatus.CAPTURED: 3,
    PaymentStatus.PARTIALLY_REFUNDED: 4,
    PaymentStatus.REFUNDED: 5,
}
CAPTURED_STATUSES = (
    PaymentStatus.CAPTURED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
)


class Payment(models.Model):
    """Money a person pays through a provider, for ``purpose`` + ``reference``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    purpose = models.CharField(max_length=32)
    reference = models.CharField(max_length=64)
    description = models.CharField(max_length=200, blank=True)
    amount = models.BigIntegerField(help_text="Minor units (paise, cents).")
    currency = models.CharField(max_length=3)
    amount_refunded = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    provider_order_id = models.CharField(
        max_length=100,
        blank=True,
        help_text="Razorpay order, Stripe Checkout Session, sandbox checkout.",
    )
    provider_payment_id = models.CharField(
        max_length=100, blank=True, help_text="Razorpay payment, Stripe invoice, sandbox payment."
    )
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    authorized_at = models.DateTimeField(null=True, blank=True)
    captured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="billing_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0) & Q(amount_refunded__lte=models.F("amount")),
                name="billing_payment_refunded_within_amount",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_order_id"],
                condition=~Q(provider_order_id=""),
                name="billing_payment_provider_order_once",
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"],
                condition=~Q(provider_payment_id=""),
                name="billing_payment_provider_payment_once",
            ),
        ]
        indexes = [
            models.Index(fields=["purpose", "reference"], name="billing_payment_purpose_idx"),
            models.Index(fields=["payer", "-created_at"], name="billing_payment_payer_idx"),
        ]

    def __str__(self):
        return f"{self.purpose} {self.reference}: {self.amount} {self.currency} ({self.status})"

    @property
    def refundable(self) -> int:
        return self.amount - self.amount_refunded if self.status in CAPTURED_STATUSES else 0


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


REFUND_STATUS_RANK = {RefundStatus.PENDING: 0, RefundStatus.PROCESSED: 1, RefundStatus.FAILED: 2}


class Refund(models.Model):
    """Money going back to the payer. Its ledger transaction is posted once the provider has
    accepted it (pending or processed); a failed refund is reversed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    provider_refund_id = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    idempotency_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="billing_refund_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_refund_id"],
                condition=~Q(provider_refund_id=""),
                name="billing_refund_provider_once",
            ),
        ]

    def __str__(self):
        return f"refund {self.amount} {self.currency} of {self.payment_id} ({self.status})"


class PayoutAccount(models.Model):
    """Where a musician's payouts go, one per musician: a sandbox account (``sbx_...``), a
    Razorpay Route linked account (``acc_...``) or a Stripe Connect account (``acct_...``).
    ``updated_at`` matters: after a payout fails for good, payouts wait until the musician saves
    their account again (billing.services.payouts)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="payout_account"
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    account_id = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.provider} {self.account_id}"


class PayoutStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # taken from the payable; the transfer is being made or retried
    PROCESSING = "processing", "On its way"  # the provider accepted it, not settled yet
    PAID = "paid", "Paid"  # the money is in the musician's account at the provider
    FAILED = "failed", "Failed"  # every attempt failed; the money is back in the payable
    REVERSED = "reversed", "Reversed"  # the provider took a paid transfer back; back in the payable


# Provider events only move a payout up this order (a failed attempt that is retried is the
# one way back, from processing to pending: see billing.services.payouts).
PAYOUT_STATUS_RANK = {
    PayoutStatus.PENDING: 0,
    PayoutStatus.PROCESSING: 1,
    PayoutStatus.PAID: 2,
    PayoutStatus.FAILED: 3,
    PayoutStatus.REVERSED: 4,
}
PAYOUT_OPEN_STATUSES = (PayoutStatus.PENDING, PayoutStatus.PROCESSING)


class Payout(models.Model):
    """A musician's earnings leaving the platform through a provider transfer.

    The beat makes at most one per musician, currency and ``period`` (a day). ``transfer_key``
    is the idempotency key the provider gets: the same on a retry after an unclear answer (a
    timeout may hide a transfer that was made), a new one after the provider said no."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    musician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts"
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    destination = models.CharField(max_length=100, blank=True)
    period = models.DateField(null=True, blank=True, help_text="The payout run's day (UTC).")
    provider_transfer_id = models.CharField(max_length=100, blank=True)
    idempotency_key = models.CharField(max_length=200, unique=True)
    transfer_key = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0), name="billing_payout_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["provider", "provider_transfer_id"],
                condition=~Q(provider_transfer_id=""),
                name="billing_payout_transfer_once",
            ),
            models.UniqueConstraint(
                fields=["musician", "currency", "period"],
                condition=Q(period__isnull=False),
                name="billing_payout_once_per_period",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="billing_payout_due_idx"),
            models.Index(fields=["musician", "-created_at"], name="billing_payout_musician_idx"),
        ]

    def __str__(self):
        return f"Payout of {self.amount_display()} to {self.musician} ({self.get_status_display()})"

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self) -> str:
        return format_money(self.amount, self.currency)


# --- ledger ---------------------------------------------------------------------------------


class AccountKind(models.TextChoices):
    EXTERNAL = "external", "External (money entering or leaving through a provider)"
    ESCROW = "escrow", "Escrow"
    PAYABLE = "payable", "Payable to a musician"
    REVENUE = "revenue", "Platform revenue"


class LedgerAccount(models.Model):
    """One account in one currency. ``balance`` is the sum of its entries, kept in step by the
    ledger service under a row lock; accounts that may not go negative are checked by the DB."""

    code = models.CharField(max_length=120)
    currency = models.CharField(max_length=3)
    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    allow_negative = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
    )
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["code", "currency"], name="billing_ledgeraccount_once"),
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance__gte=0),
                name="billing_ledgeraccount_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.code} [{self.currency}]"


class TransactionKind(models.TextChoices):
    CAPTURE = "capture", "Capture"
    RELEASE = "release", "Escrow release"
    REFUND = "refund", "Refund"
    REFUND_REVERSAL = "refund_reversal", "Refund reversal"
    PAYOUT = "payout", "Payout"
    PAYOUT_REVERSAL = "payout_reversal", "Payout reversal"


class LedgerTransaction(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=TransactionKind.choices)
    idempotency_key = models.CharField(max_length=200, unique=True)
    reference = models.CharField(max_length=120, blank=True)
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["reference"], name="billing_ledgertxn_ref_idx")]

    def __str__(self):
        return f"{self.kind} {self.idempotency_key}"


class LedgerEntry(models.Model):
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField(help_text="Signed minor units: + into the account, - out.")
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="billing_ledgerentry_not_zero"),
        ]

    def __str__(self):
        return f"{self.amount:+d} {self.currency} {self.account_id}"


# --- webhooks -------------------------------------------------------------------------------


class WebhookStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class WebhookEvent(models.Model):
    """A verified provider event, stored once per (provider, event id) before it is processed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    event_id = models.CharField(max_length=120)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField()
    occurred_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=16, choices=WebhookStatus.choices, default=WebhookStatus.RECEIVED
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "event_id"], name="billing_webhookevent_once"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="billing_webhook_retry_idx"),
        ]

    def __str__(self):
        return f"{self.provider} {self.event_type} {self.event_id} ({self.status})"


# --- subscriptions --------------------------------------------------------------------------


class SubscriptionStatus(models.TextChoices):
    INCOMPLETE = "incomplete", "Waiting for payment"
    TRIALING = "trialing", "Free trial"
    ACTIVE = "active", "Active"
    PAST_DUE = "past_due", "Payment overdue"
    CANCELED = "canceled", "Ended"


LIVE_STATUSES = (
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.PAST_DUE,
)
# Breaks ties between provider snapshots stamped with the same time, the same way whatever
# order they arrive in.
SUBSCRIPTION_STATUS_ORDER = {
    SubscriptionStatus.INCOMPLETE: 0,
    SubscriptionStatus.TRIALING: 1,
    SubscriptionStatus.ACTIVE: 2,
    SubscriptionStatus.PAST_DUE: 3,
    SubscriptionStatus.CANCELED: 4,
}


class BillingCustomer(models.Model):
    """A person's customer record at a provider (Stripe ``cus_...``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="billing_customers"
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    customer_id = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "customer_id"], name="billing_customer_once"
            ),
            models.UniqueConstraint(fields=["user", "provider"], name="billing_customer_per_user"),
        ]

    def __str__(self):
        return f"{self.provider} {self.customer_id}"


class Subscription(models.Model):
    """A person's premium plan at a provider, kept in step with the provider's snapshots."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscriptions"
    )
    plan = models.CharField(max_length=32, choices=PLAN_CHOICES)
    status = models.CharField(
        max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.INCOMPLETE
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    provider_subscription_id = models.CharField(max_length=100, blank=True)
    provider_customer_id = models.CharField(max_length=100, blank=True)
    amount = models.BigIntegerField(default=0, help_text="Minor units each period.")
    currency = models.CharField(max_length=3, blank=True)
    interval = models.CharField(max_length=8, default="month")
    trial_end = models.DateTimeField(null=True, blank=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(max_length=32, blank=True)
    started_at = models.DateTimeField(
        null=True, blank=True, help_text="When it first became a trial or active (trial rule)."
    )
    had_trial = models.BooleanField(default=False)
    past_due_since = models.DateTimeField(null=True, blank=True)
    # The provider time (and tie-breaker) of the snapshot the row reflects: older ones are ignored.
    synced_at = models.DateTimeField(null=True, blank=True)
    synced_seq = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_subscription_id"],
                condition=~Q(provider_subscription_id=""),
                name="billing_subscription_provider_once",
            ),
        ]
        indexes = [models.Index(fields=["user", "status"], name="billing_sub_user_status_idx")]

    def __str__(self):
        return f"{self.plan} for {self.user_id} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


class SubscriptionMember(models.Model):
    """A person listening on someone else's plan (a Duo or Family seat)."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscription_memberships"
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            # A person sits on at most one plan.
            models.UniqueConstraint(fields=["user"], name="billing_member_one_plan"),
        ]

    def __str__(self):
        return f"{self.user_id} on {self.subscription_id}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    REVOKED = "revoked", "Revoked"


class SeatInvitation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(max_length=254)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "subscription",
                Lower("email"),
                condition=Q(status="pending"),
                name="billing_invitation_pending_once",
            ),
        ]

    def __str__(self):
        return f"invitation of {self.email} to {self.subscription_id} ({self.status})"


class VerificationStatus(models.TextChoices):
    PENDING = "pending", "Waiting for review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class StudentVerification(models.Model):
    """A request for the student price, approved or rejected by staff."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="student_verifications"
    )
    institution = models.CharField(max_length=200)
    student_email = models.EmailField(max_length=254, blank=True)
    status = models.CharField(
        max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.PENDING
    )
    note = models.CharField(max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status="pending"),
                name="billing_student_one_pending",
            ),
        ]

    def __str__(self):
        return f"student verification of {self.user_id} ({self.status})"


class CheckoutKind(models.TextChoices):
    SUBSCRIPTION = "subscription", "Subscription"
    PAYMENT = "payment", "Payment"


class CheckoutStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class CheckoutSession(models.Model):
    """One attempt to pay: where the payer was sent and how it ended (the return page)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkout_sessions"
    )
    kind = models.CharField(max_length=16, choices=CheckoutKind.choices)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    plan = models.CharField(max_length=32, choices=PLAN_CHOICES, blank=True)
    trial_days = models.PositiveSmallIntegerField(default=0)
    payment = models.ForeignKey(
        Payment, on_delete=models.CASCADE, null=True, blank=True, related_name="checkouts"
    )
    subscription = models.ForeignKey(
        Subscription, on_delete=models.SET_NULL, null=True, blank=True, related_name="checkouts"
    )
    provider_session_id = models.CharField(max_length=200, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    client_params = models.JSONField(default=dict, blank=True)
    return_to = models.CharField(
        max_length=300, blank=True, help_text="A local path to offer once the checkout is over."
    )
    status = models.CharField(
        max_length=16, choices=CheckoutStatus.choices, default=CheckoutStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_session_id"],
                condition=~Q(provider_session_id=""),
                name="billing_checkout_provider_once",
            ),
        ]

    def __str__(self):
        return f"{self.kind} checkout {self.pk} ({self.status})"


# --- the sandbox provider's own records -----------------------------------------------------
# The sandbox is a provider that runs inside Encore (like the console email backend). These
# tables are its side of the boundary: what Stripe or Razorpay would keep on their servers.


class SandboxCheckout(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    id = models.CharField(primary_key=True, max_length=64)
    kind = models.CharField(max_length=16, choices=CheckoutKind.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.CharField(max_length=200, blank=True)
    customer_email = models.EmailField(blank=True)
    plan = models.CharField(max_length=32, blank=True)
    trial_days = models.PositiveSmallIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    payment_id = models.CharField(max_length=64, blank=True)
    subscription_id = models.CharField(max_length=64, blank=True)
    success_url = models.URLField(max_length=2000)
    cancel_url = models.URLField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"sandbox checkout {self.pk} ({self.status})"


class SandboxSubscription(models.Model):
    id = models.CharField(primary_key=True, max_length=64)
    customer_id = models.CharField(max_length=64)
    plan = models.CharField(max_length=32)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16)
    trial_end = models.DateTimeField(null=True, blank=True)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    fail_next_renewal = models.BooleanField(default=False)
    trial_reminder_sent = models.BooleanField(default=False)
    sequence = models.BigIntegerField(default=0)
    invoice_count = models.PositiveIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"sandbox subscription {self.pk} ({self.status})"
