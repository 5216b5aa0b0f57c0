"""One answer to "what may this person do with this order now" (orders.permissions): the
order page's buttons, the API detail's ``allowed`` and a 409's ``allowed`` all give it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import (
    Dispute,
    MediaStatus,
    OrderStatus,
    RevisionRequest,
    RevisionStatus,
)
from orders.permissions import order_actions_for
from tests.factories import StaffFactory, UserFactory
from tests.orders.conftest import client_for
from tests.orders.factories import (
    OrderFactory,
    ReviewFactory,
    api_client_for,
    draft_of,
    finals_of,
)

pytestmark = pytest.mark.django_db
S = OrderStatus

# status -> (the customer's, the musician's, other staff's)
MATRIX = {
    S.PLACED: (["cancel", "pay_deposit"], [], ["cancel"]),
    S.MATCHING: (["cancel"], ["accept", "decline"], ["cancel"]),
    S.IN_PROGRESS: (["open_dispute"], ["advance_stage", "open_dispute", "submit_draft"], []),
    S.REVISION_REQUESTED: (["open_dispute"], ["open_dispute", "submit_draft"], []),
    S.IN_REVIEW: (["approve", "open_dispute", "request_revision"], ["open_dispute"], []),
    S.APPROVED: (["open_dispute"], ["deliver", "open_dispute"], []),
    S.DELIVERED: (["open_dispute", "pay_balance"], ["open_dispute"], []),
    S.COMPLETED: (["review"], [], []),
    S.CANCELLED: ([], [], []),
    S.REFUNDED: ([], [], []),
}


def allowed(order, user) -> list[str]:
    return sorted(order_actions_for(order, user))


@pytest.mark.parametrize("status", MATRIX, ids=str)
def test_each_person_may_do_their_own_part_in_each_state(status):
    # A placed order names its pick; the musician hears of it once the deposit is paid.
    order = OrderFactory(status=status)
    customer, musician, staff = MATRIX[status]
    assert allowed(order, order.customer) == customer
    assert allowed(order, order.musician) == musician
    assert allowed(order, StaffFactory()) == staff
    assert allowed(order, UserFactory()) == []
    assert allowed(order, None) == []


def test_a_dispute_is_for_staff_to_resolve_and_for_both_sides_to_add_evidence():
    order = OrderFactory(status=S.DISPUTED)
    Dispute.objects.create(order=order, opened_by=order.customer, reason="Never arrived at all.")
    assert allowed(order, order.customer) == ["dispute_evidence"]
    assert allowed(order, order.musician) == ["dispute_evidence"]
    assert allowed(order, StaffFactory()) == ["resolve_dispute"]
    # Staff who are a party resolve nothing of their own.
    staff_customer = OrderFactory(status=S.DISPUTED, customer=StaffFactory())
    assert "resolve_dispute" not in allowed(staff_customer, staff_customer.customer)


def test_what_waits_on_someone_else_is_not_offered():
    # An extra revision waits for the musician's consent: asking again is not offered, the
    # musician answers.
    order = OrderFactory(status=S.IN_REVIEW)
    RevisionRequest.objects.create(
        order=order,
        requested_by=order.customer,
        feedback="More strings.",
        included=False,
        status=RevisionStatus.PENDING,
    )
    assert allowed(order, order.customer) == ["approve", "open_dispute"]
    assert allowed(order, order.musician) == ["open_dispute", "revision_consent"]
    # An offer past its time is not answerable.
    late = OrderFactory(status=S.MATCHING)
    late.offers.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert allowed(late, late.musician) == []
    # A review is written once.
    reviewed = ReviewFactory().order
    assert allowed(reviewed, reviewed.customer) == []


def test_no_second_upload_while_one_is_processing(settings):
    order = OrderFactory(status=S.IN_PROGRESS)
    draft_of(order, status=MediaStatus.PROCESSING)
    assert "submit_draft" not in allowed(order, order.musician)
    approved = OrderFactory(status=S.APPROVED)
    finals_of(approved, status=MediaStatus.PROCESSING)
    assert "deliver" not in allowed(approved, approved.musician)


PAGE_NAMES = {"upload_draft": "submit_draft"}  # the page's form is named for what it does


def page_actions(order, user) -> list[str]:
    html = client_for(user).get(f"/orders/{order.pk}/").content.decode()
    slugs = set(re.findall(rf'action="/orders/{order.pk}/([a-z_]+)/"', html))
    return sorted(PAGE_NAMES.get(slug, slug) for slug in slugs)


@pytest.mark.parametrize("status", [S.PLACED, S.MATCHING, S.IN_PROGRESS, S.IN_REVIEW, S.DELIVERED])
def test_the_page_and_the_api_offer_the_same_actions(status):
    order = OrderFactory(status=status)
    people = [order.customer, StaffFactory()]
    if status != S.PLACED:  # a musician does not see an order before its deposit is paid
        people.append(order.musician)
    for person in people:
        api = api_client_for(person).get(f"/api/orders/{order.pk}").json()["allowed"]
        # Paying and the answers to an offer are links and buttons of one form each.
        assert page_actions(order, person) == api, (status, person)
