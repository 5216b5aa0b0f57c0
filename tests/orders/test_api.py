"""The orders API: packages, placing, reading, transitions; 404 for what the caller may not
see, 403 for the other side's transitions, 409 with the allowed ones for illegal ones."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from audio.models import AudioAsset, Rendition
from billing import services as billing
from orders import services
from orders.models import (
    Delivery,
    Dispute,
    DisputeEvidence,
    OrderEvent,
    OrderStatus,
    RevisionRequest,
    Version,
)
from tests.audio.factories import AudioAssetFactory, RenditionFactory
from tests.factories import MusicianFactory, StaffFactory, UserFactory
from tests.orders.factories import (
    OrderFactory,
    OrderOfferFactory,
    PackageFactory,
    api_client_for,
    brief,
)

pytestmark = pytest.mark.django_db
S = OrderStatus

TRANSITIONS = {
    "accept": {},
    "decline": {"reason": "Busy"},
    "advance_stage": {},
    "request_revision": {"feedback": "Slower"},
    "approve": {},
    "cancel": {},
    "open_dispute": {"reason": "It never arrived at all."},
    "pay_balance": {},
    "pay_deposit": {},
    "revision_consent": {"accept": True},
    "dispute_evidence": {"text": "Here is what happened."},
    "resolve_dispute": {"outcome": "refund"},
    "review": {"rating": 5},
}


client_for = api_client_for


# --- packages -------------------------------------------------------------------------------


def test_anyone_reads_active_packages_filtered_by_musician(api_client):
    mine = PackageFactory()
    PackageFactory(musician=mine.musician, active=False)
    PackageFactory()
    everything = api_client.get("/api/packages")
    assert everything.status_code == 200
    assert everything.json()["count"] == 2
    only = api_client.get(f"/api/packages/?musician={mine.musician.pk}").json()
    assert [p["id"] for p in only["results"]] == [str(mine.pk)]
    assert api_client.get("/api/packages?musician=nope").status_code == 400
    assert api_client.get(f"/api/packages/{mine.pk}").json()["musician"] == str(mine.musician.pk)


def test_a_musician_manages_their_own_packages(musician):
    client = client_for(musician)
    created = client.post(
        "/api/packages",
        {
            "name": "Wedding song",
            "price": 500_000,
            "delivery_days": 14,
            "revisions_included": 2,
            "occasions": ["wedding", "anniversary"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    package = created.json()
    assert package["currency"] == "INR" and package["musician"] == str(musician.pk)

    changed = client.patch(f"/api/packages/{package['id']}/", {"price": 450_000}, format="json")
    assert changed.status_code == 200 and changed.json()["price"] == 450_000
    assert client.delete(f"/api/packages/{package['id']}").status_code == 204
    # Inactive: gone from the public list, still the owner's to see.
    assert APIClient().get(f"/api/packages/{package['id']}").status_code == 404
    own = client.get(f"/api/packages?musician={musician.pk}").json()["results"]
    assert own[0]["active"] is False


def test_packages_refuse_listeners_other_musicians_and_bad_input(user, musician):
    package = PackageFactory()
    assert (
        client_for(user)
        .post("/api/packages", {"name": "x", "price": 1, "delivery_days": 1}, format="json")
        .status_code
        == 403
    )
    assert (
        client_for(musician)
        .patch(f"/api/packages/{package.pk}", {"price": 1}, format="json")
        .status_code
        == 403
    )
    bad = client_for(musician).post(
        "/api/packages",
        {"name": "x", "price": -5, "delivery_days": 0, "occasions": ["funeral"]},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"price", "delivery_days", "occasions"}
    assert APIClient().post("/api/packages", {}, format="json").status_code == 401


# --- placing and reading --------------------------------------------------------------------


def test_placing_an_order_answers_with_the_deposit_to_pay(user, sandbox_provider):
    package = PackageFactory(price=200_001)
    response = client_for(user).post(
        "/api/orders/", {"package": str(package.pk), **brief(budget=300_000)}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "placed"
    assert body["deposit"]["amount"] == 100_001
    assert body["deposit"]["currency"] == "INR"
    assert body["deposit"]["checkout_url"].startswith("http://testserver/")
    assert body["musician"] == str(package.musician.pk)


def test_match_me_needs_a_budget_and_errors_name_the_field(user, sandbox_provider):
    client = client_for(user)
    missing = client.post("/api/orders", {"match": True, **brief()}, format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"] == {"budget": ["Tell us your budget so we can match you."]}
    matched = client.post("/api/orders", {"match": True, **brief(budget=90_000)}, format="json")
    assert matched.status_code == 201 and matched.json()["musician"] is None
    late = client.post(
        "/api/orders",
        {"package": str(PackageFactory(delivery_days=60).pk), **brief()},
        format="json",
    )
    assert late.status_code == 400 and late.json()["code"] == "occasion_too_soon"
    unknown = client.post("/api/orders", {"package": str(uuid.uuid4()), **brief()}, format="json")
    assert unknown.status_code == 400 and "package" in unknown.json()["errors"]


def test_the_order_list_is_the_callers_paginated_in_few_queries(
    user, django_assert_max_num_queries
):
    for _ in range(3):
        OrderFactory(customer=user)
    taken = OrderFactory(musician=MusicianFactory())
    OrderFactory()
    client = client_for(user)
    with django_assert_max_num_queries(4):
        page = client.get("/api/orders?page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    assert client_for(taken.musician).get("/api/orders").json()["count"] == 1
    assert client_for(StaffFactory()).get("/api/orders").json()["count"] == 5


def test_the_order_detail_has_brief_events_payments_and_what_is_allowed(
    django_assert_max_num_queries,
):
    order = OrderFactory(status=S.IN_PROGRESS)
    for _ in range(3):
        OrderEvent.objects.create(
            order=order, name="advance_stage", from_status=S.IN_PROGRESS, to_status=S.IN_PROGRESS
        )
    client = client_for(order.customer)
    with django_assert_max_num_queries(DETAIL_QUERIES):
        body = client.get(f"/api/orders/{order.pk}/").json()
    assert body["status"] == "in_progress" and body["stage"] == "consultation"
    assert body["brief"]["recipient_name"] == "Asha"
    assert len(body["events"]) == 3 and body["payments"] == []
    # What the caller may do: the customer waits; the musician works.
    assert body["allowed"] == ["open_dispute"]
    assert body["versions"] == [] and body["disputes"] == [] and body["review"] is None
    assert body["offer"] is None
    musician = client_for(order.musician).get(f"/api/orders/{order.pk}/").json()
    assert musician["allowed"] == ["advance_stage", "open_dispute", "submit_draft"]


# The detail reads the order (with its people, package and review) and then one query per
# relation: events, versions, their renditions, deliveries, revision requests, offers,
# disputes, their evidence, the evidence's versions and chat messages, payments.
DETAIL_QUERIES = 12


def a_busy_order(size: int):
    """A disputed order with `size` of everything the detail shows: events, drafts (each with
    its preview), revision requests, failed deliveries, declined offers, evidence, payments."""
    order = OrderFactory(status=S.DISPUTED, musician=MusicianFactory())
    for n in range(size):
        other = MusicianFactory()
        OrderOfferFactory(order=order, musician=other, rank=n + 1, status="declined")
    OrderOfferFactory(order=order, musician=order.musician, rank=size + 1, status="accepted")
    versions = []
    for number in range(1, size + 2):
        request = None
        if number > 1:
            request = RevisionRequest.objects.create(
                order=order,
                requested_by=order.customer,
                feedback=f"Change {number}",
                included=True,
                status="granted",
            )
        asset = AudioAssetFactory(owner=order.musician, purpose=AudioAsset.Purpose.PREVIEW)
        RenditionFactory(asset=asset, kind=Rendition.Kind.PREVIEW_MP3)
        versions.append(
            Version.objects.create(
                order=order,
                number=number,
                asset=asset,
                uploaded_by=order.musician,
                revision_request=request,
                status="ready",
            )
        )
        OrderEvent.objects.create(
            order=order, name="submit_draft", from_status=S.IN_PROGRESS, to_status=S.IN_REVIEW
        )
    for number in range(1, size + 1):
        asset = AudioAssetFactory(owner=order.musician, purpose=AudioAsset.Purpose.DELIVERY)
        Delivery.objects.create(
            order=order, number=number, asset=asset, uploaded_by=order.musician, status="failed"
        )
    dispute = Dispute.objects.create(
        order=order, opened_by=order.customer, reason="Not what we agreed."
    )
    for n in range(size):
        evidence = DisputeEvidence.objects.create(
            dispute=dispute, author=order.customer, text=f"Statement {n}"
        )
        evidence.versions.set(versions[: n + 1])
    for n in range(size):
        billing.payment_create(
            payer=order.customer,
            amount=1000 + n,
            currency="INR",
            purpose="order_deposit" if n == 0 else "order_balance",
            reference=str(order.pk),
            description="Milestone",
            idempotency_key=f"{order.pk}:{n}",
        )
    return order


@pytest.mark.parametrize("who", ["customer", "musician", "staff"])
def test_the_order_detail_costs_the_same_queries_however_much_it_holds(who):
    counts = {}
    for size in (1, 4):
        order = a_busy_order(size)
        viewer = {"customer": order.customer, "musician": order.musician}.get(who) or (
            StaffFactory()
        )
        client = client_for(viewer)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/api/orders/{order.pk}")
        assert response.status_code == 200, response.content
        body = response.json()
        assert len(body["versions"]) == size + 1
        assert all(v["preview_url"] for v in body["versions"])
        assert bool(body["versions"][0]["original_url"]) == (who != "customer")
        assert [v["feedback"] for v in body["versions"]][1:] == [
            f"Change {n}" for n in range(2, size + 2)
        ]
        assert len(body["deliveries"]) == size and len(body["revision_requests"]) == size
        assert len(body["disputes"]) == 1
        assert [e["versions"] for e in body["disputes"][0]["evidence"]] == [
            list(range(1, n + 2)) for n in range(size)
        ]
        assert len(body["payments"]) == size and len(body["events"]) == size + 1
        counts[size] = len(queries)
    assert counts[1] == counts[4] <= DETAIL_QUERIES, counts


# --- transitions ----------------------------------------------------------------------------


def test_a_journey_through_the_api():
    order = OrderFactory(status=S.MATCHING, revisions_included=1)
    musician, customer = client_for(order.musician), client_for(order.customer)
    url = f"/api/orders/{order.pk}"
    offered = musician.get(url).json()
    assert offered["offer"]["status"] == "pending" and offered["allowed"] == ["accept", "decline"]
    waiting = customer.get(url).json()
    assert waiting["offer"] is None  # the offer is the musician's to answer
    assert waiting["allowed"] == ["cancel"]
    assert musician.post(f"{url}/accept").json()["status"] == "in_progress"
    assert musician.post(f"{url}/advance_stage/", {"note": "Lyrics done"}).json()["stage"] == (
        "composition"
    )
    services.order_submit_draft(order=order, musician=order.musician)
    revision = customer.post(f"{url}/request_revision", {"feedback": "Slower"}, format="json")
    assert revision.status_code == 200 and revision.json()["status"] == "revision_requested"
    services.order_submit_draft(order=order, musician=order.musician)

    # The one included revision is used: the next one waits for the musician's consent.
    extra = customer.post(f"{url}/request_revision", {"feedback": "Brighter"}, format="json")
    assert extra.status_code == 202 and extra.json()["status"] == "in_review"
    assert [
        (r["feedback"], r["included"], r["status"]) for r in extra.json()["revision_requests"]
    ] == [
        ("Slower", True, "granted"),
        ("Brighter", False, "pending"),
    ]
    bad = musician.post(f"{url}/revision_consent", {"note": "?"}, format="json")
    assert bad.status_code == 400 and "accept" in bad.json()["errors"]
    consented = musician.post(f"{url}/revision_consent", {"accept": True}, format="json")
    assert consented.status_code == 200 and consented.json()["status"] == "revision_requested"
    services.order_submit_draft(order=order, musician=order.musician)

    approved = customer.post(f"{url}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert approved.json()["revisions_used"] == 2
    assert [e["name"] for e in approved.json()["events"]] == [
        "accept",
        "advance_stage",
        "submit_draft",
        "request_revision",
        "submit_draft",
        "extra_revision_requested",
        "request_revision",
        "submit_draft",
        "approve",
    ]


def test_an_illegal_transition_is_409_with_the_allowed_ones():
    order = OrderFactory(status=S.IN_REVIEW)
    response = client_for(order.musician).post(f"/api/orders/{order.pk}/accept")
    assert response.status_code == 409
    # What the caller may do now, not what the other side could.
    assert response.json() == {
        "detail": "An order that is in_review cannot accept.",
        "code": "transition_not_allowed",
        "allowed": ["open_dispute"],
    }
    twice = client_for(order.customer)
    assert twice.post(f"/api/orders/{order.pk}/approve").status_code == 200
    again = twice.post(f"/api/orders/{order.pk}/approve")
    assert again.status_code == 409 and again.json()["allowed"] == ["open_dispute"]
    late = client_for(order.musician).post(f"/api/orders/{order.pk}/accept")
    assert late.json()["allowed"] == ["deliver", "open_dispute"]


def test_the_other_sides_transition_is_403_and_bad_input_400():
    order = OrderFactory(status=S.MATCHING)
    response = client_for(order.customer).post(f"/api/orders/{order.pk}/accept")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    review = OrderFactory(status=S.IN_REVIEW)
    empty = client_for(review.customer).post(f"/api/orders/{review.pk}/request_revision", {})
    assert empty.status_code == 400 and "feedback" in empty.json()["errors"]


@pytest.mark.parametrize("who", ["other_customer", "unassigned_musician", "declined_musician"])
def test_orders_the_caller_may_not_see_are_404_everywhere(who):
    order = OrderFactory(status=S.MATCHING)
    if who == "declined_musician":
        outsider = order.musician
        client_for(outsider).post(f"/api/orders/{order.pk}/decline", {"reason": "No"})
    else:
        outsider = MusicianFactory() if who == "unassigned_musician" else UserFactory()
    client = client_for(outsider)
    assert client.get(f"/api/orders/{order.pk}").status_code == 404
    assert client.get("/api/orders").json()["count"] == 0
    for name, data in TRANSITIONS.items():
        response = client.post(f"/api/orders/{order.pk}/{name}", data, format="json")
        assert response.status_code == 404, name
        assert response.json()["code"] == "not_found"
    for name in ("versions", "downloads"):
        assert client.get(f"/api/orders/{order.pk}/{name}").status_code == 404, name
    assert order.events.exclude(name__in=["decline", "no_candidate"]).count() == 0


def test_anonymous_callers_are_401_and_unknown_ids_404(user):
    order = OrderFactory()
    anonymous = APIClient()
    assert anonymous.get("/api/orders").status_code == 401
    assert anonymous.get(f"/api/orders/{order.pk}").status_code == 401
    assert anonymous.post(f"/api/orders/{order.pk}/cancel").status_code == 401
    client = client_for(user)
    assert client.get(f"/api/orders/{uuid.uuid4()}").status_code == 404
    assert client.post(f"/api/orders/{uuid.uuid4()}/cancel/").status_code == 404
