"""Money out of escrow: when an order completes, its escrow goes to the musician's payable
and the platform's fee (the ledger refuses to take an escrow below zero)."""

from billing import purposes
from billing.errors import Invalid
from billing.models import LedgerTransaction, TransactionKind
from billing.services.common import currency_code, positive_amount
from billing.services.ledger import PLATFORM_FEES, Leg, ledger_post, payable_code


def escrow_release(
    *,
    reference: str,
    musician,
    amount: int,
    platform_fee: int,
    currency: str,
    idempotency_key: str,
    scope: str = "order",
) -> LedgerTransaction:
    """Move `amount` out of the escrow of ``<scope>:<reference>``: ``amount - platform_fee``
    to the musician's payable, ``platform_fee`` to platform revenue. Raises
    InsufficientFunds when the escrow holds less (it never goes negative)."""
    amount = positive_amount(amount)
    currency = currency_code(currency)
    if not isinstance(platform_fee, int) or not 0 <= platform_fee <= amount:
        raise Invalid("The platform fee must be between 0 and the amount.", code="invalid_fee")
    legs = [Leg(purposes.escrow_code(scope, str(reference)), currency, -amount)]
    if amount - platform_fee:
        legs.append(
            Leg(payable_code(musician.pk), currency, amount - platform_fee, owner_id=musician.pk)
        )
    if platform_fee:
        legs.append(Leg(PLATFORM_FEES, currency, platform_fee))
    ledger_transaction, _created = ledger_post(
        kind=TransactionKind.RELEASE,
        idempotency_key=idempotency_key,
        reference=f"{scope}:{reference}",
        legs=legs,
        memo=f"release to {musician.pk}",
    )
    return ledger_transaction
