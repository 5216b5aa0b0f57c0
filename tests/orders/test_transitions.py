"""The order state machine (docs/architecture.md section 5), transition by transition, legal
and not."""

import pytest
from django_fsm import TransitionNotAllowed

from orders.models import STAGES, Order, OrderStatus

S = OrderStatus
ALL = list(S.values)

# transition -> (sources, target, args); docs/architecture.md section 5.
LEGAL = {
    "deposit_captured": ([S.PLACED], S.MATCHING, ()),
    "accept": ([S.MATCHING], S.IN_PROGRESS, ()),
    "decline": ([S.MATCHING], S.MATCHING, ()),
    "advance_stage": ([S.IN_PROGRESS], S.IN_PROGRESS, ()),
    "submit_draft": ([S.IN_PROGRESS, S.REVISION_REQUESTED], S.IN_REVIEW, ()),
    "request_revision": ([S.IN_REVIEW], S.REVISION_REQUESTED, ()),
    "approve": ([S.IN_REVIEW], S.APPROVED, ()),
    "deliver": ([S.APPROVED], S.DELIVERED, ()),
    "balance_captured": ([S.DELIVERED], S.COMPLETED, ()),
    "cancel": ([S.PLACED, S.MATCHING], S.CANCELLED, ()),
    "open_dispute": (
        [S.IN_PROGRESS, S.IN_REVIEW, S.REVISION_REQUESTED, S.APPROVED, S.DELIVERED],
        S.DISPUTED,
        (),
    ),
    "resolve_dispute": ([S.DISPUTED], S.REFUNDED, ("refund",)),
}

LEGAL_CASES = [
    (name, source, target, args)
    for name, (sources, target, args) in LEGAL.items()
    for source in sources
]
ILLEGAL_CASES = [
    (name, source, args)
    for name, (sources, _target, args) in LEGAL.items()
    for source in ALL
    if source not in sources
]


def an_order(status: str) -> Order:
    return Order(status=status, stage="consultation" if status == S.IN_PROGRESS else "")


@pytest.mark.parametrize(("name", "source", "target", "args"), LEGAL_CASES)
def test_every_legal_transition_reaches_its_target(name, source, target, args):
    order = an_order(source)
    getattr(order, name)(*args)
    assert order.status == target


@pytest.mark.parametrize(("name", "source", "args"), ILLEGAL_CASES)
def test_every_illegal_transition_is_refused_and_changes_nothing(name, source, args):
    order = an_order(source)
    with pytest.raises(TransitionNotAllowed):
        getattr(order, name)(*args)
    assert order.status == source


@pytest.mark.parametrize(
    ("outcome", "target"),
    [("refund", S.REFUNDED), ("release", S.COMPLETED), ("continue", S.IN_PROGRESS)],
)
def test_resolving_a_dispute_goes_where_the_outcome_says(outcome, target):
    order = an_order(S.DISPUTED)
    order.resolve_dispute(outcome)
    assert order.status == target
    if target == S.IN_PROGRESS:
        assert order.stage in STAGES


def test_the_status_cannot_be_assigned_directly():
    order = an_order(S.PLACED)
    with pytest.raises(AttributeError):
        order.status = S.COMPLETED


def test_accepting_starts_at_consultation_and_stages_advance_in_order_up_to_production():
    order = an_order(S.MATCHING)
    order.accept()
    seen = [order.stage]
    while "advance_stage" in order.allowed_transitions():
        order.advance_stage()
        seen.append(order.stage)
    assert seen == list(STAGES)
    with pytest.raises(TransitionNotAllowed):
        order.advance_stage()


def test_a_decline_unassigns_the_musician_and_the_order_stays_matching():
    order = an_order(S.MATCHING)
    order.musician_id = "00000000-0000-0000-0000-000000000001"
    order.decline()
    assert (order.status, order.musician_id) == (S.MATCHING, None)


def test_a_revision_request_counts_against_the_included_revisions():
    order = an_order(S.IN_REVIEW)
    order.request_revision()
    order.submit_draft()
    order.request_revision()
    assert order.revisions_used == 2


@pytest.mark.parametrize(("price", "deposit", "balance"), [(1, 1, 0), (200_001, 100_001, 100_000)])
def test_the_deposit_is_half_the_price_rounded_up(price, deposit, balance):
    order = Order(price=price)
    assert (order.deposit_amount, order.balance_amount) == (deposit, balance)
    assert order.deposit_amount + order.balance_amount == price


def test_the_allowed_transitions_are_listed_by_state():
    assert an_order(S.PLACED).allowed_transitions() == ["cancel", "pay_deposit"]
    assert an_order(S.DELIVERED).allowed_transitions() == ["open_dispute", "pay_balance"]
    assert an_order(S.COMPLETED).allowed_transitions() == []
