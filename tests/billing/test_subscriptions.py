"""Plans, entitlements, seats and the student price, through the API."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from billing import selectors, services
from billing.errors import Conflict
from billing.models import (
    InvitationStatus,
    SeatInvitation,
    StudentVerification,
    Subscription,
    SubscriptionMember,
    SubscriptionStatus,
)
from billing.providers.base import SubscriptionSnapshot
from notifications.models import Delivery
from tests.billing.factories import PaymentFactory, SubscriptionFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def authed(api_client, user):
    api_client.force_authenticate(user)
    return api_client


# --- plans and entitlements -----------------------------------------------------------------


def test_anyone_can_list_the_plans_paginated(api_client):
    response = api_client.get("/api/subscriptions")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5 and body["next"] is None
    plans = {plan["code"]: plan for plan in body["results"]}
    assert plans["premium_family"]["seats"] == 6 and plans["premium_duo"]["seats"] == 2
    assert plans["premium_individual"]["price"] == {"amount": 11900, "currency": "INR"}
    assert (
        plans["premium_student"]["price"]["amount"] < plans["premium_individual"]["price"]["amount"]
    )
    assert plans["free"]["entitlements"]["ads"] is True
    assert plans["free"]["entitlements"]["bitrate_choices"] == [96, 160]
    assert api_client.get("/api/subscriptions/?currency=usd").json()["results"][1]["price"] == {
        "amount": 1099,
        "currency": "USD",
    }
    assert api_client.get("/api/subscriptions?page_size=2").json()["next"]


def test_free_entitlements_for_everyone_without_a_plan(user):
    from django.contrib.auth.models import AnonymousUser

    for person in (user, AnonymousUser(), None):
        entitlements = selectors.entitlements_for(person)
        assert entitlements.max_bitrate_kbps == 160
        assert entitlements.bitrate_choices == (96, 160)
        assert entitlements.ads is True
        assert entitlements.skips_per_hour == 6
        assert entitlements.offline_downloads is False
        assert entitlements.lossless is False


def test_premium_entitlements_and_their_cache_is_dropped_on_every_change(user):
    subscription = SubscriptionFactory(user=user)
    premium = selectors.entitlements_for(user)
    assert (premium.max_bitrate_kbps, premium.ads, premium.skips_per_hour) == (320, False, None)
    assert premium.lossless and premium.offline_downloads and premium.source == "own"
    assert cache.get(selectors.entitlements_cache_key(user.pk)) is not None

    services.subscription_sync(
        provider="sandbox",
        snapshot=SubscriptionSnapshot(
            provider_subscription_id=subscription.provider_subscription_id,
            status=SubscriptionStatus.CANCELED,
        ),
        version_at=timezone.now(),
    )

    assert cache.get(selectors.entitlements_cache_key(user.pk)) is None
    assert selectors.entitlements_for(user).premium is False


def test_premium_ends_with_a_cancelled_period_even_before_the_webhook(user):
    SubscriptionFactory(
        user=user,
        cancel_at_period_end=True,
        current_period_start=timezone.now() - timedelta(days=31),
        current_period_end=timezone.now() - timedelta(minutes=1),
    )
    assert selectors.entitlements_for(user).premium is False


def test_me_for_a_free_listener(api_client, user):
    body = authed(api_client, user).get("/api/subscriptions/me").json()
    assert body["role"] == "none" and body["plan"]["code"] == "free"
    assert body["subscription"] is None and body["next_charge"] is None
    assert body["trial_eligible"] is True
    assert body["entitlements"]["skips_per_hour"] == 6


def test_me_shows_the_next_charge(api_client, user):
    subscription = SubscriptionFactory(user=user, amount=11900, currency="INR")
    body = authed(api_client, user).get("/api/subscriptions/me/").json()
    assert body["role"] == "owner"
    assert body["next_charge"]["amount"] == 11900
    assert body["next_charge"]["at"].startswith(subscription.current_period_end.date().isoformat())


def test_subscribe_refuses_bad_plans_and_second_subscriptions(api_client, user, sandbox_provider):
    client = authed(api_client, user)
    assert (
        client.post("/api/subscriptions/subscribe", {"plan": "free"}, format="json").status_code
        == 400
    )
    assert client.post("/api/subscriptions/subscribe", {}, format="json").status_code == 400
    SubscriptionFactory(user=user)
    response = client.post("/api/subscriptions/subscribe", {"plan": "premium_duo"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "already_subscribed"


def test_subscribe_needs_a_login(api_client):
    response = api_client.post(
        "/api/subscriptions/subscribe", {"plan": "premium_duo"}, format="json"
    )
    assert response.status_code == 401


# --- the student price ----------------------------------------------------------------------


def test_the_student_plan_needs_a_verification_staff_approve(
    api_client, user, staff, sandbox_provider
):
    client = authed(api_client, user)
    refused = client.post(
        "/api/subscriptions/subscribe", {"plan": "premium_student"}, format="json"
    )
    assert refused.status_code == 403 and refused.json()["code"] == "student_verification_required"

    asked = client.post(
        "/api/subscriptions/student-verification",
        {"institution": "IIT Bombay", "student_email": "me@iitb.ac.in"},
        format="json",
    )
    assert asked.status_code == 201 and asked.json()["status"] == "pending"
    again = client.post(
        "/api/subscriptions/student-verification", {"institution": "X"}, format="json"
    )
    assert again.status_code == 409
    assert client.get("/api/subscriptions/student-verifications").status_code == 403

    client.force_authenticate(staff)
    pending = client.get("/api/subscriptions/student-verifications?status=pending").json()
    assert pending["count"] == 1 and pending["results"][0]["user"]["email"] == user.email
    approved = client.post(
        f"/api/subscriptions/student-verifications/{asked.json()['id']}/approve", {}, format="json"
    )
    assert approved.status_code == 200 and approved.json()["expires_at"]
    twice = client.post(
        f"/api/subscriptions/student-verifications/{asked.json()['id']}/reject", {}, format="json"
    )
    assert twice.status_code == 409

    client.force_authenticate(user)
    assert client.get("/api/subscriptions/student-verification").json()["status"] == "approved"
    response = client.post(
        "/api/subscriptions/subscribe", {"plan": "premium_student"}, format="json"
    )
    assert response.status_code == 201
    assert StudentVerification.objects.get().reviewed_by == staff


# --- seats ----------------------------------------------------------------------------------


@pytest.fixture
def family(db):
    owner = UserFactory(display_name="Ravi")
    return SubscriptionFactory(user=owner, plan="premium_family")


def test_an_owner_invites_and_the_member_accepts_with_the_signed_link(api_client, family):
    owner = family.user
    invitee = UserFactory(email="asha@example.com")
    invited = authed(api_client, owner).post(
        "/api/subscriptions/seats/invite", {"email": "Asha@Example.com"}, format="json"
    )
    assert invited.status_code == 201, invited.content
    link = invited.json()["accept_url"]
    token = link.rstrip("/").rsplit("/", 1)[-1]
    delivery = Delivery.objects.filter(
        recipient=invitee, event="subscription.seat_invitation"
    ).first()
    assert delivery.context["url"] == link

    accepted = authed(api_client, invitee).post(
        "/api/subscriptions/seats/accept", {"token": token}, format="json"
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["role"] == "member"
    assert accepted.json()["owner"]["display_name"] == "Ravi"
    entitlements = selectors.entitlements_for(invitee)
    assert entitlements.premium and entitlements.source == "member"
    assert SeatInvitation.objects.get().status == InvitationStatus.ACCEPTED

    again = api_client.post("/api/subscriptions/seats/accept", {"token": token}, format="json")
    assert again.status_code == 200  # accepting twice is harmless


def test_an_invitation_is_only_for_its_email(api_client, family):
    invitation = services.seat_invite(owner=family.user, email="someone@example.com")
    stranger = UserFactory(email="stranger@example.com")
    response = authed(api_client, stranger).post(
        "/api/subscriptions/seats/accept",
        {"token": services.invitation_token(invitation)},
        format="json",
    )
    assert response.status_code == 403 and response.json()["code"] == "invitation_for_another_email"
    forged = api_client.post(
        "/api/subscriptions/seats/accept", {"token": "not-a-token"}, format="json"
    )
    assert forged.status_code == 400 and forged.json()["code"] == "invalid_invitation"


def test_the_seat_limit_holds_for_invitations(api_client, db):
    duo = SubscriptionFactory(plan="premium_duo")
    client = authed(api_client, duo.user)
    assert (
        client.post(
            "/api/subscriptions/seats/invite", {"email": "a@example.com"}, format="json"
        ).status_code
        == 201
    )
    full = client.post("/api/subscriptions/seats/invite", {"email": "b@example.com"}, format="json")
    assert full.status_code == 409 and full.json()["code"] == "seat_limit_reached"
    own = client.post(
        "/api/subscriptions/seats/invite", {"email": duo.user.email.upper()}, format="json"
    )
    assert own.status_code in (400, 409)

    individual = SubscriptionFactory(plan="premium_individual")
    alone = authed(api_client, individual.user).post(
        "/api/subscriptions/seats/invite", {"email": "c@example.com"}, format="json"
    )
    assert alone.status_code == 409 and alone.json()["code"] == "no_seats"


def test_the_seat_limit_holds_when_a_plan_shrinks_under_pending_invitations(family):
    people = [UserFactory(email=f"kid{i}@example.com") for i in range(3)]
    invitations = [services.seat_invite(owner=family.user, email=p.email) for p in people]
    Subscription.objects.filter(pk=family.pk).update(plan="premium_duo")  # changed in the portal

    services.seat_accept(user=people[0], invitation_id=invitations[0].pk)
    with pytest.raises(Conflict) as refused:
        services.seat_accept(user=people[1], invitation_id=invitations[1].pk)
    assert refused.value.code == "seat_limit_reached"
    assert SubscriptionMember.objects.count() == 1


def test_members_leave_or_are_removed_and_lose_premium(api_client, family):
    kid, partner = UserFactory(), UserFactory()
    for person in (kid, partner):
        invitation = services.seat_invite(owner=family.user, email=person.email)
        services.seat_accept(user=person, invitation_id=invitation.pk)
    assert selectors.entitlements_for(kid).premium and selectors.entitlements_for(partner).premium

    assert authed(api_client, kid).post("/api/subscriptions/seats/leave").status_code == 204
    assert not selectors.entitlements_for(kid).premium
    assert api_client.post("/api/subscriptions/seats/leave").status_code == 404

    owner_client = authed(api_client, family.user)
    seats = owner_client.get("/api/subscriptions/seats").json()
    assert [row["user"]["id"] for row in seats["results"]] == [str(partner.pk)]
    assert owner_client.delete(f"/api/subscriptions/seats/{partner.pk}").status_code == 204
    assert not selectors.entitlements_for(partner).premium
    assert owner_client.delete(f"/api/subscriptions/seats/{partner.pk}").status_code == 404


def test_when_the_owners_plan_ends_the_members_go_free(family):
    member = UserFactory()
    invitation = services.seat_invite(owner=family.user, email=member.email)
    services.seat_accept(user=member, invitation_id=invitation.pk)
    pending = services.seat_invite(owner=family.user, email="later@example.com")
    assert selectors.entitlements_for(member).premium

    services.subscription_sync(
        provider="sandbox",
        snapshot=SubscriptionSnapshot(
            provider_subscription_id=family.provider_subscription_id,
            status=SubscriptionStatus.CANCELED,
        ),
        version_at=timezone.now(),
    )

    assert not selectors.entitlements_for(member).premium
    assert not SubscriptionMember.objects.exists()
    pending.refresh_from_db()
    assert pending.status == InvitationStatus.REVOKED


def test_a_member_cannot_also_subscribe_and_a_subscriber_cannot_join(
    api_client, family, sandbox_provider
):
    member = UserFactory()
    services.seat_accept(
        user=member, invitation_id=services.seat_invite(owner=family.user, email=member.email).pk
    )
    response = authed(api_client, member).post(
        "/api/subscriptions/subscribe", {"plan": "premium_individual"}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "already_member"

    subscriber = SubscriptionFactory().user
    invitation = services.seat_invite(owner=family.user, email=subscriber.email)
    with pytest.raises(Conflict) as refused:
        services.seat_accept(user=subscriber, invitation_id=invitation.pk)
    assert refused.value.code == "has_own_subscription"


def test_owners_see_and_withdraw_pending_invitations_and_invitees_see_theirs(api_client, family):
    invitee = UserFactory(email="later@example.com")
    invitation = services.seat_invite(owner=family.user, email="later@example.com")
    owner_client = authed(api_client, family.user)
    listed = owner_client.get("/api/subscriptions/invitations").json()
    assert listed["count"] == 1 and listed["results"][0]["accept_url"]

    mine = authed(api_client, invitee).get("/api/subscriptions/invitations?for=me").json()
    assert mine["count"] == 1 and mine["results"][0]["invited_by"] == "Ravi"

    owner_client = authed(api_client, family.user)
    assert owner_client.delete(f"/api/subscriptions/invitations/{invitation.pk}").status_code == 204
    assert owner_client.get("/api/subscriptions/invitations").json()["count"] == 0
    assert owner_client.delete(f"/api/subscriptions/invitations/{invitation.pk}").status_code == 404


# --- list endpoints stay cheap --------------------------------------------------------------


def test_list_endpoints_use_a_bounded_number_of_queries(
    api_client, user, staff, family, django_assert_max_num_queries
):
    for _ in range(25):
        payment = PaymentFactory(payer=user)
        services.payment_capture(payment=payment)
    for i in range(5):
        member = UserFactory()
        services.seat_accept(
            user=member,
            invitation_id=services.seat_invite(owner=family.user, email=member.email).pk,
        )
        StudentVerification.objects.create(user=UserFactory(), institution=f"College {i}")

    client = authed(api_client, user)
    with django_assert_max_num_queries(4):
        payments = client.get("/api/billing/payments?page_size=20")
    assert payments.json()["count"] == 25 and len(payments.json()["results"]) == 20

    client = authed(api_client, family.user)
    with django_assert_max_num_queries(5):
        seats = client.get("/api/subscriptions/seats")
    assert seats.json()["count"] == 5
    with django_assert_max_num_queries(5):
        client.get("/api/subscriptions/invitations")

    client = authed(api_client, staff)
    with django_assert_max_num_queries(4):
        verifications = client.get("/api/subscriptions/student-verifications")
    assert verifications.json()["count"] == 5
    with django_assert_max_num_queries(4):
        everyone = client.get("/api/billing/payments")
    assert everyone.json()["count"] == 25
    with django_assert_max_num_queries(4):
        client.get("/api/billing/payouts")


def test_payments_of_others_are_404(api_client, user):
    other = PaymentFactory()
    mine = PaymentFactory(payer=user)
    client = authed(api_client, user)
    assert client.get(f"/api/billing/payments/{other.pk}").status_code == 404
    detail = client.get(f"/api/billing/payments/{mine.pk}").json()
    assert detail["amount"] == mine.amount and detail["currency"] == "INR"
    assert client.get("/api/billing/payments/not-a-uuid").status_code == 404


def test_a_musician_sees_what_they_are_owed(api_client, musician, sandbox_provider):
    payment = PaymentFactory(reference="order-B", amount=10_000)
    services.payment_capture(payment=payment)
    services.escrow_release(
        reference="order-B",
        musician=musician,
        amount=10_000,
        platform_fee=1_500,
        currency="INR",
        idempotency_key="rel-B",
    )
    body = authed(api_client, musician).get("/api/billing/balance").json()
    assert body == {"payable": [{"amount": 8_500, "currency": "INR"}]}


def test_an_invitation_link_expires_two_weeks_after_the_invitation(api_client, family):
    from datetime import timedelta

    from django.utils import timezone

    invitee = UserFactory(email="late@example.com")
    invitation = services.seat_invite(owner=family.user, email=invitee.email)
    token = services.invitation_token(invitation)
    SeatInvitation.objects.filter(pk=invitation.pk).update(
        created_at=timezone.now() - timedelta(days=15)
    )

    response = authed(api_client, invitee).post(
        "/api/subscriptions/seats/accept", {"token": token}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invitation_expired"


def test_a_tampered_invitation_link_is_refused(api_client, family):
    invitee = UserFactory(email="tamper@example.com")
    invitation = services.seat_invite(owner=family.user, email=invitee.email)
    token = services.invitation_token(invitation)

    response = authed(api_client, invitee).post(
        "/api/subscriptions/seats/accept", {"token": token[:-2] + "xx"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_invitation"
