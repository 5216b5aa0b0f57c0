"""The double-entry ledger: one function posts a transaction, everything else builds on it.

Accounts are named by code and currency:

- ``external:<provider>:payments`` / ``:refunds`` / ``:payouts``: money entering or leaving
  through a provider (the only accounts that may go negative);
- ``escrow:<scope>:<reference>``: money held for an order until it is released or refunded;
- ``payable:<user id>``: what the platform owes a musician;
- ``revenue:platform_fees``, ``revenue:subscriptions``: the platform's own money.

``ledger_post`` checks that the legs sum to zero per currency, locks the accounts it touches in
a fixed order (``select_for_update``, so two workers never deadlock nor overdraw), refuses a
move that would take a non-negative account below zero, and returns the existing transaction
when the idempotency key was already used: whatever arrives twice is recorded once.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from billing.errors import IdempotencyConflict, InsufficientFunds, Unbalanced
from billing.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction

PLATFORM_FEES = "revenue:platform_fees"


def external_code(provider: str, flow: str) -> str:
    assert flow in ("payments", "refunds", "payouts")
    return f"external:{provider}:{flow}"


def payable_code(user_id) -> str:
    return f"payable:{user_id}"


def _kind_for(code: str) -> str:
    prefix = code.split(":", 1)[0]
    try:
        return AccountKind(prefix).value
    except ValueError:
        raise ValueError(f"unknown ledger account code: {code!r}") from None


@dataclass(frozen=True)
class Leg:
    """One side of a move: ``amount`` (signed minor units) into account ``code``."""

    code: str
    currency: str
    amount: int
    owner_id: object = None


def _validate(legs: list[Leg]) -> None:
    if len(legs) < 2:
        raise Unbalanced("A ledger transaction needs at least two entries.")
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        if not isinstance(leg.amount, int) or isinstance(leg.amount, bool):
            raise Unbalanced("Ledger amounts are integers in minor units.")
        if leg.amount == 0:
            raise Unbalanced("A ledger entry cannot be zero.")
        if len(leg.currency) != 3 or not leg.currency.isalpha() or not leg.currency.isupper():
            raise Unbalanced(f"Not a currency code: {leg.currency!r}.")
        totals[leg.currency] += leg.amount
    unbalanced = {currency: total for currency, total in totals.items() if total != 0}
    if unbalanced:
        raise Unbalanced(f"Ledger legs do not sum to zero: {unbalanced}.")


def _totals(items) -> dict[tuple[str, str], int]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for code, currency, amount in items:
        totals[(code, currency)] += amount
    return {key: value for key, value in totals.items() if value}


def _check_same(existing: LedgerTransaction, *, kind: str, reference: str, legs) -> None:
    """A reused key is fine for the very same move; anything else is a caller's bug."""
    stored = _totals(existing.entries.values_list("account__code", "currency", "amount"))
    wanted = _totals((leg.code, leg.currency, leg.amount) for leg in legs)
    if existing.kind != kind or existing.reference != reference or stored != wanted:
        raise IdempotencyConflict()


def account_get(*, code: str, currency: str, owner_id=None) -> LedgerAccount:
    kind = _kind_for(code)
    account, _created = LedgerAccount.objects.get_or_create(
        code=code,
        currency=currency,
        defaults={
            "kind": kind,
            "allow_negative": kind == AccountKind.EXTERNAL,
            "owner_id": owner_id,
        },
    )
    return account


def ledger_post(
    *,
    kind: str,
    idempotency_key: str,
    legs: list[Leg],
    reference: str = "",
    memo: str = "",
) -> tuple[LedgerTransaction, bool]:
    """Record `legs` as one transaction; return (transaction, created).

    Raises Unbalanced (legs do not sum to zero per currency), InsufficientFunds (a
    non-negative account would go below zero) or IdempotencyConflict (the key was used by a
    transaction of another kind or reference).
    """
    _validate(legs)
    wanted = {(leg.code, leg.currency): leg.owner_id for leg in legs}
    with transaction.atomic():
        # Accounts are created before any lock is taken (a new account is never locked by
        # anyone else), then all are locked in primary-key order: concurrent posts queue up
        # instead of deadlocking, and each sees the balances the previous one committed.
        existing_keys = set(
            LedgerAccount.objects.filter(
                code__in={code for code, _ in wanted}, currency__in={cur for _, cur in wanted}
            ).values_list("code", "currency")
        )
        for (code, currency), owner_id in wanted.items():
            if (code, currency) not in existing_keys:
                account_get(code=code, currency=currency, owner_id=owner_id)
        accounts = {
            (account.code, account.currency): account
            for account in LedgerAccount.objects.select_for_update()
            .filter(code__in={code for code, _ in wanted}, currency__in={cur for _, cur in wanted})
            .order_by("pk")
            if (account.code, account.currency) in wanted
        }
        locked = {account.pk: account for account in accounts.values()}
        existing = LedgerTransaction.objects.filter(idempotency_key=idempotency_key).first()
        if existing is not None:
            _check_same(existing, kind=kind, reference=reference, legs=legs)
            return existing, False

        deltas: dict[int, int] = defaultdict(int)
        for leg in legs:
            deltas[accounts[(leg.code, leg.currency)].pk] += leg.amount
        for pk, delta in deltas.items():
            account = locked[pk]
            if not account.allow_negative and account.balance + delta < 0:
                raise InsufficientFunds(
                    f"{account.code} holds {account.balance} {account.currency}; "
                    f"{-delta} cannot be taken from it."
                )
        try:
            with transaction.atomic():
                ledger_transaction = LedgerTransaction.objects.create(
                    kind=kind, idempotency_key=idempotency_key, reference=reference, memo=memo
                )
        except IntegrityError:
            # Another worker posted the same key between our check and insert (possible only
            # when the legs differ, hence different locks): theirs stands.
            existing = LedgerTransaction.objects.get(idempotency_key=idempotency_key)
            _check_same(existing, kind=kind, reference=reference, legs=legs)
            return existing, False
        LedgerEntry.objects.bulk_create(
            [
                LedgerEntry(
                    transaction=ledger_transaction,
                    account=accounts[(leg.code, leg.currency)],
                    amount=leg.amount,
                    currency=leg.currency,
                )
                for leg in legs
            ]
        )
        for pk, delta in deltas.items():
            if delta:
                LedgerAccount.objects.filter(pk=pk).update(balance=F("balance") + delta)
    return ledger_transaction, True


def balance(*, code: str, currency: str) -> int:
    """The balance of an account (0 when it does not exist yet)."""
    value = (
        LedgerAccount.objects.filter(code=code, currency=currency)
        .values_list("balance", flat=True)
        .first()
    )
    return value or 0
