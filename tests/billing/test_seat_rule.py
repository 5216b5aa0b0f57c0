"""One seat rule (billing.selectors.seats_left): the "my subscription" page, GET
/api/subscriptions/me and the invitation service give the same answer at every step."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from billing import selectors, services
from tests.billing.factories import SubscriptionFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def answers(owner) -> tuple[int, int, str]:
    """What the API, the selector and the page say about the owner's seats."""
    api = APIClient()
    api.force_authenticate(owner)
    from_api = api.get("/api/subscriptions/me").json()["seats_left"]
    page = Client()
    page.force_login(owner)
    html = page.get("/billing/subscription/").content.decode()
    if 'id="invite-email"' in html:
        shown = "form"
    elif "Every seat is taken." in html:
        shown = "full"
    else:
        shown = "nothing"
    return from_api, selectors.seats_left(selectors.own_live_subscription(owner)), shown


def invite(owner, email):
    api = APIClient()
    api.force_authenticate(owner)
    return api.post("/api/subscriptions/seats/invite", {"email": email}, format="json")


def test_a_duo_plan_has_one_seat_to_share_and_a_pending_invitation_holds_it():
    owner = SubscriptionFactory(plan="premium_duo").user
    assert answers(owner) == (1, 1, "form")

    first = invite(owner, "partner@example.com")
    assert first.status_code == 201
    assert answers(owner) == (0, 0, "full")
    refused = invite(owner, "other@example.com")
    assert refused.status_code == 409 and refused.json()["code"] == "seat_limit_reached"

    services.invitation_revoke(owner=owner, invitation_id=first.json()["id"])
    assert answers(owner) == (1, 1, "form")


def test_accepting_takes_the_seat_the_invitation_held():
    owner = SubscriptionFactory(plan="premium_duo").user
    partner = UserFactory(email="partner@example.com")
    invitation = services.seat_invite(owner=owner, email=partner.email)
    assert answers(owner)[:2] == (0, 0)  # the plan is full with the invitation alone

    services.seat_accept(user=partner, invitation_id=invitation.pk)  # so it may take its seat

    assert answers(owner) == (0, 0, "full")
    assert list(selectors.members_of(selectors.own_live_subscription(owner))) != []


def test_a_family_plan_counts_members_and_invitations_alike():
    owner = SubscriptionFactory(plan="premium_family").user  # 6 people: the owner and 5
    member = UserFactory()
    services.seat_accept(
        user=member, invitation_id=services.seat_invite(owner=owner, email=member.email).pk
    )
    services.seat_invite(owner=owner, email="cousin@example.com")
    assert answers(owner) == (3, 3, "form")
    for number in range(3):
        assert invite(owner, f"friend{number}@example.com").status_code == 201
    assert answers(owner) == (0, 0, "full")
    assert invite(owner, "one-too-many@example.com").status_code == 409


def test_people_who_own_no_shared_plan_have_no_seats_to_give():
    individual = SubscriptionFactory(plan="premium_individual").user
    assert answers(individual)[:2] == (0, 0)
    refused = invite(individual, "partner@example.com")
    assert refused.status_code == 409 and refused.json()["code"] == "no_seats"
    free = UserFactory()
    api = APIClient()
    api.force_authenticate(free)
    assert api.get("/api/subscriptions/me").json()["seats_left"] == 0
