"""Reads about billing, always scoped by who asks.

``entitlements_for(user)`` is what the catalog asks before every stream and skip: it is cached
per person (Django cache) and the cache is dropped by every service that changes a
subscription or a seat (``billing.services.entitlements_invalidate``). The cached value also
expires on its own by the end of a period that is cancelled or overdue, so a missed webhook
cannot leave premium on for longer than that.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from billing import plans, purposes
from billing.models import (
    CAPTURED_STATUSES,
    LIVE_STATUSES,
    PAYOUT_OPEN_STATUSES,
    AccountKind,
    InvitationStatus,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Payout,
    PayoutAccount,
    PayoutStatus,
    Refund,
    RefundStatus,
    SeatInvitation,
    StudentVerification,
    Subscription,
    SubscriptionMember,
    SubscriptionStatus,
    TransactionKind,
    VerificationStatus,
)
from billing.plans import Entitlements

ENTITLEMENTS_CACHE_SECONDS = 300


def entitlements_cache_key(user_id) -> str:
    return f"billing:entitlements:v1:{user_id}"


def own_live_subscription(user) -> Subscription | None:
    if user is None or not user.is_authenticated:
        return None
    return (
        Subscription.objects.filter(user=user, status__in=LIVE_STATUSES)
        .order_by("-started_at", "-created_at")
        .first()
    )


def membership_for(user) -> SubscriptionMember | None:
    if user is None or not user.is_authenticated:
        return None
    return (
        SubscriptionMember.objects.select_related("subscription", "subscription__user")
        .filter(user=user, subscription__status__in=LIVE_STATUSES)
        .first()
    )


def _effective_until(subscription: Subscription, now):
    """Until when a live subscription gives premium (None: open-ended), or False: not now."""
    if subscription.status not in LIVE_STATUSES:
        return False
    until = None
    if subscription.cancel_at_period_end and subscription.current_period_end:
        until = subscription.current_period_end
    if subscription.status == SubscriptionStatus.PAST_DUE and subscription.past_due_since:
        grace_end = subscription.past_due_since + timedelta(days=settings.BILLING_GRACE_PERIOD_DAYS)
        until = min(until, grace_end) if until else grace_end
    if until is not None and until <= now:
        return False
    return until


def _compute(user) -> tuple[Entitlements, int]:
    now = timezone.now()
    candidates = []
    own = own_live_subscription(user)
    if own is not None:
        candidates.append((own, "own"))
    membership = membership_for(user)
    if membership is not None:
        candidates.append((membership.subscription, "member"))
    for subscription, source in candidates:
        until = _effective_until(subscription, now)
        if until is False:
            continue
        ttl = ENTITLEMENTS_CACHE_SECONDS
        if until is not None:
            ttl = max(1, min(ttl, int((until - now).total_seconds())))
        return plans.get(subscription.plan).entitlements(source=source), ttl
    return plans.free_entitlements(), ENTITLEMENTS_CACHE_SECONDS


def entitlements_for(user) -> Entitlements:
    """What `user` may do while listening (free for anonymous visitors)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return plans.free_entitlements()
    key = entitlements_cache_key(user.pk)
    cached = cache.get(key)
    if cached is not None:
        return Entitlements(**{**cached, "bitrate_choices": tuple(cached["bitrate_choices"])})
    entitlements, ttl = _compute(user)
    cache.set(key, entitlements.as_dict(), ttl)
    return entitlements


def trial_eligible(user) -> bool:
    """A 30-day trial comes with a person's first premium subscription only."""
    return (
        not Subscription.objects.filter(user=user)
        .filter(Q(started_at__isnull=False) | Q(had_trial=True))
        .exists()
    )


def student_approved(user, *, now=None) -> bool:
    now = now or timezone.now()
    return StudentVerification.objects.filter(
        user=user, status=VerificationStatus.APPROVED, expires_at__gt=now
    ).exists()


def student_verification_latest(user) -> StudentVerification | None:
    return StudentVerification.objects.filter(user=user).first()


def student_verifications_for_staff(*, status: str | None = None):
    queryset = StudentVerification.objects.select_related("user").order_by("created_at", "id")
    if status:
        queryset = queryset.filter(status=status)
    return queryset


def members_of(subscription: Subscription):
    return subscription.members.select_related("user").order_by("joined_at", "id")


def pending_invitations_of(subscription: Subscription):
    return subscription.invitations.filter(status=InvitationStatus.PENDING).order_by(
        "created_at", "id"
    )


def seats_left(subscription: Subscription | None, *, accepting: bool = False) -> int:
    """The seat rule: how many more people may join `subscription` now. A plan's seats are the
    owner's and the rest; each member takes one. A pending invitation holds one against new
    invitations; when an invitation is being accepted (`accepting`) only the members count, so
    whoever answers first gets a seat, even on a plan that shrank under its invitations.
    The invitation services (under the subscription's lock), the "my subscription" page and
    ``GET /api/subscriptions/me`` all ask this."""
    if subscription is None:
        return 0
    taken = subscription.members.count()
    if not accepting:
        taken += subscription.invitations.filter(status=InvitationStatus.PENDING).count()
    return max(0, plans.get(subscription.plan).seats - 1 - taken)


def invitations_for(user):
    """Invitations waiting for this person (by email), to plans that are running."""
    return (
        SeatInvitation.objects.select_related("subscription", "invited_by")
        .filter(
            email__iexact=user.email,
            status=InvitationStatus.PENDING,
            subscription__status__in=LIVE_STATUSES,
        )
        .order_by("-created_at", "-id")
    )


def next_charge(subscription: Subscription | None) -> dict | None:
    if subscription is None or subscription.status not in LIVE_STATUSES:
        return None
    if subscription.cancel_at_period_end or not subscription.current_period_end:
        return None
    return {
        "amount": subscription.amount,
        "currency": subscription.currency,
        "at": subscription.current_period_end,
    }


def subscription_overview(user) -> dict:
    """Everything the "my subscription" page and ``GET /api/subscriptions/me`` show."""
    own = own_live_subscription(user)
    membership = None if own else membership_for(user)
    subscription = own or (membership.subscription if membership else None)
    plan = plans.get(subscription.plan) if subscription else plans.get(plans.FREE)
    return {
        "role": "owner" if own else "member" if membership else "none",
        "plan": plan,
        "subscription": subscription,
        "owner": subscription.user if subscription else None,
        "members": list(members_of(subscription)) if subscription else [],
        "invitations": list(pending_invitations_of(own)) if own else [],
        "seats_left": seats_left(own),
        "next_charge": next_charge(own),
        "entitlements": entitlements_for(user),
        "trial_eligible": trial_eligible(user),
        "invitations_for_me": list(invitations_for(user)),
        "student_verification": student_verification_latest(user),
    }


def payments_visible_to(user):
    queryset = Payment.objects.select_related("payer")
    if user.is_staff:
        return queryset
    return queryset.filter(payer=user)


def payouts_visible_to(user):
    queryset = Payout.objects.all()
    if user.is_staff:
        return queryset
    return queryset.filter(musician=user)


def payable_balances(user) -> dict[str, int]:
    """What the platform owes a musician, per currency."""
    return dict(
        LedgerAccount.objects.filter(kind=AccountKind.PAYABLE, owner=user).values_list(
            "currency", "balance"
        )
    )


# --- payments, for the apps that take them (orders) ------------------------------------------


def payment_by_key(idempotency_key: str, *, captured: bool = False) -> Payment | None:
    """The payment created with `idempotency_key` (a milestone's), if any; ``captured=True``:
    only once its money is in (refunds since included)."""
    payments = Payment.objects.filter(idempotency_key=idempotency_key)
    if captured:
        payments = payments.filter(status__in=CAPTURED_STATUSES)
    return payments.first()


def payments_for(*, purposes, reference: str, captured: bool = False):
    """The payments made for `reference` (an order id) with one of `purposes`, oldest first."""
    payments = Payment.objects.filter(purpose__in=list(purposes), reference=reference)
    if captured:
        payments = payments.filter(status__in=CAPTURED_STATUSES)
    return payments.order_by("created_at")


def payment_refundable(payment: Payment) -> int:
    """What can still be given back of `payment`: 0 until it is captured."""
    if payment is None or payment.status not in CAPTURED_STATUSES:
        return 0
    return max(payment.amount - payment.amount_refunded, 0)


def escrow_balance(*, scope: str, reference: str, currency: str) -> int:
    """What the escrow of `scope`:`reference` (an order) holds now: captured milestones minus
    refunds and releases (0 before anything was captured)."""
    value = (
        LedgerAccount.objects.filter(code=purposes.escrow_code(scope, reference), currency=currency)
        .values_list("balance", flat=True)
        .first()
    )
    return value or 0


def escrow_balances(*, scope: str, references) -> dict[str, int]:
    """What the escrows of `scope`:`reference` hold together, for many references (a
    musician's open orders), per currency, in one query; currencies holding nothing are left
    out."""
    codes = [purposes.escrow_code(scope, str(reference)) for reference in references]
    if not codes:
        return {}
    rows = (
        LedgerAccount.objects.filter(kind=AccountKind.ESCROW, code__in=codes)
        .values("currency")
        .annotate(total=Sum("balance"))
        .order_by("currency")
        .values_list("currency", "total")
    )
    return {currency: total for currency, total in rows if total}


def escrow_balance_each(*, scope: str, references) -> dict[str, dict[str, int]]:
    """What each escrow of `scope`:`reference` holds now, ``{reference: {currency: balance}}``,
    for many references (a page of disputes) in one query; escrows never opened are left out."""
    codes = {purposes.escrow_code(scope, str(ref)): str(ref) for ref in references}
    held: dict[str, dict[str, int]] = defaultdict(dict)
    for code, currency, amount in LedgerAccount.objects.filter(
        kind=AccountKind.ESCROW, code__in=list(codes)
    ).values_list("code", "currency", "balance"):
        held[codes[code]][currency] = amount
    return dict(held)


def payment_awaiting_capture(status: str) -> bool:
    """The provider authorized the payment and is about to capture it (a page waits)."""
    return status == PaymentStatus.AUTHORIZED


# --- payouts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PayoutFigures:
    """Where a musician's money stands in one currency (minor units)."""

    currency: str
    payable: int  # owed to the musician: on_hold + available
    on_hold: int  # released less than BILLING_PAYOUT_HOLD_DAYS ago
    available: int  # past its hold: the next payout takes it
    in_transit: int  # in payouts being made (pending or on its way)
    paid_out: int  # in paid payouts
    next_release_at: datetime | None  # when the oldest money on hold comes off hold


def payout_account_of(user) -> PayoutAccount | None:
    return PayoutAccount.objects.filter(user=user).first()


def payable_on_hold(account: LedgerAccount, *, now=None) -> tuple[int, datetime | None]:
    """How much of a musician's payable is still on hold, and when the oldest of it comes off.

    Money reaches a payable through escrow releases; each stays on hold for
    BILLING_PAYOUT_HOLD_DAYS. Payouts take the oldest money first, and money a failed payout
    brings back was past its hold already, so what is on hold is the releases of the hold
    window (never more than the balance)."""
    now = now or timezone.now()
    hold = timedelta(days=settings.BILLING_PAYOUT_HOLD_DAYS)
    recent = LedgerEntry.objects.filter(
        account=account,
        amount__gt=0,
        transaction__kind=TransactionKind.RELEASE,
        transaction__created_at__gt=now - hold,
    ).aggregate(total=Sum("amount"), oldest=Min("transaction__created_at"))
    held = _on_hold_part(recent["total"], account.balance)
    return held, (recent["oldest"] + hold if held and recent["oldest"] else None)


def _on_hold_part(recent_releases, balance: int) -> int:
    """Releases of the hold window are on hold, never more than the payable holds."""
    return min(recent_releases or 0, max(balance, 0))


def payout_paused_by(account: PayoutAccount | None) -> Payout | None:
    """The failed payout that pauses payouts, if any: after a payout fails for good, no payout
    is made until the musician saves their payout account again."""
    if account is None:
        return None
    return (
        Payout.objects.filter(
            musician_id=account.user_id,
            status=PayoutStatus.FAILED,
            failed_at__gte=account.updated_at,
        )
        .order_by("-failed_at")
        .first()
    )


def payout_figures(user, *, now=None) -> list[PayoutFigures]:
    """Payable, on hold, available, in transit and paid out, per currency: what the payouts
    page and ``GET /api/billing/payouts/summary`` show."""
    now = now or timezone.now()
    by_status: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for currency, status, total in (
        Payout.objects.filter(musician=user)
        .values_list("currency", "status")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        by_status[currency][status] += total
    accounts = {
        account.currency: account
        for account in LedgerAccount.objects.filter(kind=AccountKind.PAYABLE, owner=user)
    }
    figures = []
    for currency in sorted(set(accounts) | set(by_status)):
        account = accounts.get(currency)
        held, next_release_at = payable_on_hold(account, now=now) if account else (0, None)
        payable = account.balance if account else 0
        statuses = by_status[currency]
        figures.append(
            PayoutFigures(
                currency=currency,
                payable=payable,
                on_hold=held,
                available=payable - held,
                in_transit=sum(statuses[status] for status in PAYOUT_OPEN_STATUSES),
                paid_out=statuses[PayoutStatus.PAID],
                next_release_at=next_release_at,
            )
        )
    return figures


# --- figures for staff: the admin's order screens, reports and dashboard ----------------------


def refunds_for(*, purposes, reference: str):
    """The refunds of the payments made for `reference` with one of `purposes`, oldest first."""
    return (
        Refund.objects.filter(payment__purpose__in=list(purposes), payment__reference=reference)
        .select_related("payment", "requested_by")
        .order_by("created_at", "id")
    )


def ledger_entries_touching(code: str):
    """Every leg of every ledger transaction that moved money in or out of the account `code`
    (an order's escrow), oldest first: where each amount came from and where it went."""
    moved = LedgerTransaction.objects.filter(entries__account__code=code).values("pk")
    return (
        LedgerEntry.objects.filter(transaction__in=moved)
        .select_related("transaction", "account")
        .order_by("transaction__created_at", "transaction_id", "id")
    )


def _within(queryset, field: str, since, until):
    """Rows whose `field` is in [since, until) (either end open when None)."""
    if since is not None:
        queryset = queryset.filter(**{f"{field}__gte": since})
    if until is not None:
        queryset = queryset.filter(**{f"{field}__lt": until})
    return queryset


def _per_currency(queryset, amount: str = "amount") -> dict[str, int]:
    rows = (
        queryset.values("currency")
        .annotate(total=Sum(amount))
        .order_by("currency")
        .values_list("currency", "total")
    )
    return {currency: total for currency, total in rows if total}


def captured_totals(*, purposes, since=None, until=None) -> dict[str, int]:
    """What the payments of `purposes` captured in [since, until), before any refund, per
    currency (one query)."""
    payments = Payment.objects.filter(purpose__in=list(purposes), status__in=CAPTURED_STATUSES)
    return _per_currency(_within(payments, "captured_at", since, until))


def refunded_totals(*, purposes, since=None, until=None) -> dict[str, int]:
    """What went back to payers of `purposes` in [since, until): refunds the provider took or
    made (failed ones are reversed in the ledger), per currency (one query)."""
    refunds = Refund.objects.filter(payment__purpose__in=list(purposes)).exclude(
        status=RefundStatus.FAILED
    )
    return _per_currency(_within(refunds, "created_at", since, until))


def account_net_inflow(*, code: str, since=None, until=None) -> dict[str, int]:
    """What the ledger account `code` (revenue:platform_fees) gained in [since, until), net of
    reversals, per currency (one query)."""
    entries = LedgerEntry.objects.filter(account__code=code)
    return _per_currency(_within(entries, "transaction__created_at", since, until))


@dataclass(frozen=True)
class PayoutsDue:
    """What the next payout runs owe, for staff: payables past their hold, payouts failed."""

    musicians: int  # musicians with money past its hold (the next run pays them)
    available: dict  # that money, per currency
    failed: int  # payouts that failed for good (payouts wait for the musician's account)


def payouts_due(*, now=None) -> PayoutsDue:
    """Payables past the hold period (the rule of ``payable_on_hold``, for every musician in
    two queries) and the failed payouts."""
    now = now or timezone.now()
    hold = timedelta(days=settings.BILLING_PAYOUT_HOLD_DAYS)
    recent = (
        LedgerEntry.objects.filter(
            account=OuterRef("pk"),
            amount__gt=0,
            transaction__kind=TransactionKind.RELEASE,
            transaction__created_at__gt=now - hold,
        )
        .values("account")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    musicians, available = set(), defaultdict(int)
    for owner_id, currency, balance, recent_total in (
        LedgerAccount.objects.filter(kind=AccountKind.PAYABLE, balance__gt=0)
        .annotate(recent=Subquery(recent))
        .values_list("owner_id", "currency", "balance", "recent")
    ):
        past_hold = balance - _on_hold_part(recent_total, balance)
        if past_hold > 0:
            musicians.add(owner_id)
            available[currency] += past_hold
    failed = Payout.objects.filter(status=PayoutStatus.FAILED).count()
    return PayoutsDue(musicians=len(musicians), available=dict(available), failed=failed)
