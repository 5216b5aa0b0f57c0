"""The customer approves (or asks changes to) the draft they heard: the page sends the number
of the version it showed, and a newer draft in review refuses the answer with a 409 rather than
approving something nobody listened to (a page left open in another tab)."""

import pytest

from notifications.models import Delivery as Notice
from orders import services
from orders.models import OrderEvent, OrderStatus, RevisionRequest
from tests.orders.conftest import client_for
from tests.orders.factories import OrderFactory, api_client_for, draft_of
from tests.orders.test_pages import text_of

pytestmark = pytest.mark.django_db
S = OrderStatus


@pytest.fixture
def v2_superseded_by_v3(django_capture_on_commit_callbacks):
    """Tab B showed v2 in review; in tab A the customer asked for a revision and the musician's
    v3 is ready: the order is in review again, at v3."""
    order = OrderFactory(status=S.IN_REVIEW, revisions_included=2, revisions_used=0)
    draft_of(order, number=1)
    draft_of(order, number=2)
    with django_capture_on_commit_callbacks(execute=True):
        asked = api_client_for(order.customer).post(
            f"/api/orders/{order.pk}/request_revision",
            {"feedback": "Slower, please.", "version": 2},
            format="json",
        )
        assert asked.status_code == 200, asked.content
        draft_of(order, number=3)
        services.order_submit_draft(order=order, musician=order.musician, note="v3")
    order.refresh_from_db()
    assert order.status == S.IN_REVIEW
    return order


def unchanged(order):
    order.refresh_from_db()
    return (
        order.status,
        order.approved_at,
        order.revisions_used,
        RevisionRequest.objects.filter(order=order).count(),
        OrderEvent.objects.filter(order=order).count(),
    )


def test_approving_the_superseded_draft_is_a_409_and_the_order_stays_in_review(
    v2_superseded_by_v3, django_capture_on_commit_callbacks
):
    order = v2_superseded_by_v3
    before = unchanged(order)
    with django_capture_on_commit_callbacks(execute=True):
        stale = api_client_for(order.customer).post(
            f"/api/orders/{order.pk}/approve", {"version": 2}, format="json"
        )
    assert stale.status_code == 409, stale.content
    body = stale.json()
    assert (body["code"], body["version"], body["current_version"]) == (
        "version_superseded",
        2,
        3,
    )
    assert "v3" in body["detail"]
    assert unchanged(order) == before
    assert order.status == S.IN_REVIEW
    assert not Notice.objects.filter(event="order.draft_approved").exists()

    with django_capture_on_commit_callbacks(execute=True):
        right = api_client_for(order.customer).post(
            f"/api/orders/{order.pk}/approve", {"version": 3}, format="json"
        )
    assert right.status_code == 200, right.content
    assert right.json()["status"] == S.APPROVED
    assert Notice.objects.filter(event="order.draft_approved", recipient=order.musician).exists()


def test_asking_changes_to_the_superseded_draft_is_a_409_and_asks_nothing(v2_superseded_by_v3):
    order = v2_superseded_by_v3
    before = unchanged(order)
    stale = api_client_for(order.customer).post(
        f"/api/orders/{order.pk}/request_revision",
        {"feedback": "The chorus of v2 is too loud.", "version": 2},
        format="json",
    )
    assert stale.status_code == 409, stale.content
    assert (stale.json()["code"], stale.json()["current_version"]) == ("version_superseded", 3)
    assert unchanged(order) == before


def test_without_a_version_the_api_judges_the_draft_in_review(v2_superseded_by_v3):
    order = v2_superseded_by_v3
    approved = api_client_for(order.customer).post(f"/api/orders/{order.pk}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == S.APPROVED


def test_a_version_that_is_not_a_number_is_a_400(v2_superseded_by_v3):
    order = v2_superseded_by_v3
    bad = api_client_for(order.customer).post(
        f"/api/orders/{order.pk}/approve", {"version": "latest"}, format="json"
    )
    assert bad.status_code == 400, bad.content
    order.refresh_from_db()
    assert order.status == S.IN_REVIEW


def test_the_page_sends_the_draft_it_shows_and_a_stale_page_approves_nothing(
    v2_superseded_by_v3,
):
    order = v2_superseded_by_v3
    customer = client_for(order.customer)
    page = customer.get(f"/orders/{order.pk}/").content.decode()
    assert page.count('name="version" value="3"') == 2  # approve and request_revision

    # The tab still showing v2 posts v2.
    stale = customer.post(f"/orders/{order.pk}/approve/", {"version": "2"})
    assert stale.status_code == 409
    assert "v3" in text_of(stale)
    order.refresh_from_db()
    assert order.status == S.IN_REVIEW and order.approved_at is None

    fresh = customer.post(f"/orders/{order.pk}/approve/", {"version": "3"})
    assert fresh.status_code in (200, 302)
    order.refresh_from_db()
    assert order.status == S.APPROVED
