"""Reviews of completed orders and the figures musicians are ranked and shown by: rating,
on-time rate, first-draft approval, average completion days (docs/architecture.md section 5)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from notifications.models import Delivery as Notice
from orders import selectors, services
from orders.errors import Invalid
from orders.models import MusicianProfile, OrderStatus, Review
from tests.factories import MusicianFactory, StaffFactory, UserFactory
from tests.orders.factories import (
    OrderFactory,
    PackageFactory,
    api_client_for,
    balance_paid,
    deposit_paid,
    service_brief,
)

pytestmark = pytest.mark.django_db
S = OrderStatus


client_for = api_client_for


def review(order, user=None, **data):
    data = data or {"rating": 5, "text": "She cried, in the good way."}
    return client_for(user or order.customer).post(
        f"/api/orders/{order.pk}/review", data, format="json"
    )


def test_the_customer_reviews_a_completed_order_and_the_musician_hears_of_it(
    django_capture_on_commit_callbacks,
):
    order = OrderFactory(status=S.COMPLETED)
    with django_capture_on_commit_callbacks(execute=True):
        response = review(order, rating=4, text="  Lovely melody, a little long.  ")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rating"], body["text"]) == (4, "Lovely melody, a little long.")
    stored = Review.objects.get(order=order)
    assert (stored.customer, stored.musician) == (order.customer, order.musician)
    event = order.events.get(name="review")
    assert (event.actor, event.note) == (order.customer, "4/5")
    notice = Notice.objects.filter(event="order.review_received", recipient=order.musician)
    assert notice.exists() and notice.first().context["rating"] == 4
    detail = client_for(order.customer).get(f"/api/orders/{order.pk}").json()
    assert detail["review"]["rating"] == 4


def test_an_order_is_reviewed_once():
    order = OrderFactory(status=S.COMPLETED)
    assert review(order).status_code == 201
    again = review(order, rating=1)
    assert again.status_code == 409 and again.json()["code"] == "already_reviewed"
    assert Review.objects.get(order=order).rating == 5


def test_only_the_customer_reviews(user):
    order = OrderFactory(status=S.COMPLETED)
    by_musician = review(order, order.musician)
    assert by_musician.status_code == 403 and by_musician.json()["code"] == "permission_denied"
    assert review(order, StaffFactory()).status_code == 403
    stranger = review(order, UserFactory())
    assert stranger.status_code == 404 and stranger.json()["code"] == "not_found"
    anonymous = APIClient().post(f"/api/orders/{order.pk}/review", {"rating": 5}, format="json")
    assert anonymous.status_code == 401
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    "status",
    [S.MATCHING, S.IN_PROGRESS, S.IN_REVIEW, S.APPROVED, S.DELIVERED, S.DISPUTED, S.REFUNDED],
)
def test_only_a_completed_order_is_reviewed(status):
    order = OrderFactory(status=status)
    response = review(order)
    assert response.status_code == 409
    assert response.json()["code"] == "not_completed"
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "x"}, "rating"),
        ({"rating": 4.5}, "rating"),
        ({"rating": None}, "rating"),
        ({"text": "No stars"}, "rating"),
        ({"rating": 5, "text": "x" * 2001}, "text"),
    ],
)
def test_a_rating_from_1_to_5_and_a_short_text_or_400(data, field):
    order = OrderFactory(status=S.COMPLETED)
    response = review(order, **data)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert not Review.objects.exists()


@pytest.mark.parametrize("rating", [0, 6, True, "5", None])
def test_the_service_checks_the_rating_too(rating):
    order = OrderFactory(status=S.COMPLETED)
    with pytest.raises(Invalid) as refused:
        services.review_create(order=order, customer=order.customer, rating=rating)
    assert refused.value.field == "rating"


# --- the musician's figures -----------------------------------------------------------------


def a_finished_order(musician, *, took_days, delivery_days, revisions, status=S.COMPLETED):
    """An order `musician` accepted 60 days ago and delivered `took_days` later."""
    accepted = timezone.now() - timedelta(days=60)
    delivered = accepted + timedelta(days=took_days)
    return OrderFactory(
        musician=musician,
        status=status,
        delivery_days=delivery_days,
        revisions_used=revisions,
        accepted_at=accepted,
        approved_at=delivered - timedelta(hours=6),
        delivered_at=delivered,
    )


def test_the_figures_after_several_orders_are_on_the_public_page(api_client):
    musician = MusicianFactory()
    early = a_finished_order(musician, took_days=5, delivery_days=7, revisions=0)
    late = a_finished_order(musician, took_days=9, delivery_days=7, revisions=2)
    on_the_day = a_finished_order(musician, took_days=10, delivery_days=10, revisions=0)
    # Approved after a revision, the finals not delivered yet: counts for first-draft
    # approval only.
    approved = OrderFactory(
        musician=musician,
        status=S.APPROVED,
        revisions_used=1,
        accepted_at=timezone.now() - timedelta(days=3),
        approved_at=timezone.now(),
    )
    OrderFactory(musician=musician, status=S.IN_PROGRESS, accepted_at=timezone.now())
    someone_else = a_finished_order(MusicianFactory(), took_days=30, delivery_days=7, revisions=3)

    for order, rating in ((early, 5), (late, 3), (on_the_day, 4)):
        assert review(order, rating=rating, text=f"{rating} stars").status_code == 201
    assert review(someone_else, rating=1).status_code == 201
    assert approved.status == S.APPROVED

    body = api_client.get(f"/api/musicians/{musician.pk}").json()
    profile = body["profile"]
    assert (profile["rating_average"], profile["rating_count"]) == (4.0, 3)
    assert profile["on_time_rate"] == pytest.approx(2 / 3, abs=1e-4)  # 9 > 7 days is late
    assert profile["first_draft_approval_rate"] == pytest.approx(2 / 4)
    assert profile["average_completion_days"] == pytest.approx((5 + 9 + 10) / 3)
    assert profile["completed_orders"] == 3
    # The latest reviews first, with who wrote them.
    assert [r["rating"] for r in body["reviews"]] == [4, 3, 5]
    assert body["reviews"][0]["customer_name"] == on_the_day.customer.display_name


def test_a_musician_without_finished_work_has_no_figures_yet():
    musician = MusicianFactory()
    OrderFactory(musician=musician, status=S.IN_PROGRESS, accepted_at=timezone.now())
    profile = services.musician_stats_refresh(musician=musician)
    assert (profile.rating_average, profile.rating_count) == (None, 0)
    assert profile.on_time_rate is None and profile.first_draft_approval_rate is None
    assert profile.average_completion_days is None and profile.completed_orders == 0


def test_a_journey_updates_the_figures_and_a_good_review_lifts_the_ranking(
    user, sandbox_provider, django_capture_on_commit_callbacks
):
    package = PackageFactory(price=200_001, delivery_days=7)
    musician = package.musician
    peer = PackageFactory(price=150_000).musician
    order = services.order_place(customer=user, package=package, **service_brief())
    order = deposit_paid(order, django_capture_on_commit_callbacks)
    services.order_accept(order=order, musician=musician)
    services.order_submit_draft(order=order, musician=musician)
    services.order_approve(order=order, customer=user)
    profile = MusicianProfile.objects.get(musician=musician)
    assert profile.first_draft_approval_rate == 1.0 and profile.on_time_rate is None
    services.order_deliver(order=order, musician=musician)
    profile.refresh_from_db()
    assert profile.on_time_rate == 1.0
    assert 0 <= profile.average_completion_days < 0.01  # delivered the same minute
    order = balance_paid(order, django_capture_on_commit_callbacks)
    assert order.status == S.COMPLETED
    profile.refresh_from_db()
    assert profile.completed_orders == 1 and profile.rating_count == 0

    assert review(order, rating=5).status_code == 201
    profile.refresh_from_db()
    assert (profile.rating_average, profile.rating_count) == (5.0, 1)
    next_order = OrderFactory(status=S.MATCHING, musician=None, match=True, price=200_001)
    assert [c.musician for c in selectors.musician_candidates(next_order)] == [musician, peer]
