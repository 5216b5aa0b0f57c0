"""What a payment pays for, and where its money goes when it is captured.

``purpose`` + ``reference`` (a string: an order id, a subscription id) say what a Payment is
for. A purpose with an escrow scope holds captured money in the escrow account of
``<scope>:<reference>`` until it is released or refunded (commission milestones); the others
are revenue at once (subscription charges).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Purpose:
    name: str
    description: str
    escrow_scope: str | None = None
    revenue_account: str | None = None

    def escrow_code(self, reference: str) -> str:
        assert self.escrow_scope, f"{self.name} holds nothing in escrow"
        return escrow_code(self.escrow_scope, reference)


def escrow_code(scope: str, reference: str) -> str:
    return f"escrow:{scope}:{reference}"


PURPOSES: dict[str, Purpose] = {
    purpose.name: purpose
    for purpose in [
        Purpose(
            "order_deposit",
            "The deposit (ceil(price / 2)) of a commission order; reference: the order id.",
            escrow_scope="order",
        ),
        Purpose(
            "order_balance",
            "The balance of a commission order, paid on delivery; reference: the order id.",
            escrow_scope="order",
        ),
        Purpose(
            "subscription",
            "A listener subscription charge; reference: the billing Subscription id.",
            revenue_account="revenue:subscriptions",
        ),
    ]
}


class UnknownPurpose(ValueError):
    pass


def get(name: str) -> Purpose:
    try:
        return PURPOSES[name]
    except KeyError:
        raise UnknownPurpose(f"unknown payment purpose: {name!r}") from None
