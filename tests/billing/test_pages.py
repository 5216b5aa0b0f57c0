"""The billing pages: plans and prices, my subscription, the checkout return, joining a plan."""

import re

import pytest

from billing import services
from billing.models import CheckoutSession, SubscriptionMember
from tests.billing.factories import SubscriptionFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_plans_page_shows_every_plan_and_its_price(client):
    html = client.get("/billing/plans/").content.decode()
    for name in ("Free", "Premium Individual", "Premium Duo", "Premium Family", "Premium Student"):
        assert name in html
    assert "₹119.00 a month" in html
    assert "30-day free trial" in html
    assert "Log in to choose" in html
    assert re.search(r'<a href="/billing/plans/"\s+aria-current="page">Premium</a>', html)


def test_choosing_a_plan_from_the_page_goes_to_the_checkout(client, user, sandbox_provider):
    client.force_login(user)
    assert "Start free trial" in client.get("/billing/plans/").content.decode()

    response = client.post("/billing/subscribe/", {"plan": "premium_individual"})

    assert response.status_code == 302
    checkout = CheckoutSession.objects.get()
    assert response["Location"] == checkout.url
    assert "/billing/sandbox/checkout/" in checkout.url
    page = client.get(response["Location"].replace("http://testserver", ""))
    assert "Sandbox payment provider" in page.content.decode()


def test_the_student_plan_asks_for_verification_first(client, user, sandbox_provider):
    client.force_login(user)
    response = client.post("/billing/subscribe/", {"plan": "premium_student"}, follow=True)
    assert "needs an approved student verification" in response.content.decode()
    assert not CheckoutSession.objects.exists()


def test_my_subscription_shows_the_next_charge_members_and_invitations(client):
    subscription = SubscriptionFactory(plan="premium_family", amount=17900, currency="INR")
    owner = subscription.user
    member = UserFactory(display_name="Meera")
    invitation = services.seat_invite(owner=owner, email=member.email)
    services.seat_accept(user=member, invitation_id=invitation.pk)
    services.seat_invite(owner=owner, email="cousin@example.com")
    client.force_login(owner)

    html = client.get("/billing/subscription/").content.decode()

    assert "Premium Family" in html
    assert "Next charge" in html and "₹179.00" in html
    assert "Meera" in html
    assert "cousin@example.com" in html and "/billing/seats/accept/" in html
    assert '<label for="invite-email">' in html
    assert "3 seats left" in html


def test_my_subscription_for_a_free_listener_offers_the_plans(client, user):
    client.force_login(user)
    html = client.get("/billing/subscription/").content.decode()
    assert "You listen free" in html
    assert 'href="/billing/plans/"' in html
    assert '<label for="student-institution">' in html


def test_cancel_from_the_page(client, user, sandbox_provider):
    from billing.models import SandboxSubscription

    subscription = SubscriptionFactory(user=user, provider_subscription_id="sub_sbx_page")
    SandboxSubscription.objects.create(
        id="sub_sbx_page",
        customer_id="cus",
        plan="premium_individual",
        amount=11900,
        currency="INR",
        status="active",
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
    )
    client.force_login(user)

    response = client.post("/billing/subscription/cancel/", follow=True)

    assert "Your plan will end on" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end
    assert "Keep my plan" in response.content.decode()


def test_the_invitation_link_page_joins_the_plan(client):
    owner_sub = SubscriptionFactory(plan="premium_duo")
    invitee = UserFactory(email="partner@example.com")
    invitation = services.seat_invite(owner=owner_sub.user, email="partner@example.com")
    link = services.invitation_accept_url(invitation).replace("http://testserver", "")

    assert client.get(link).status_code == 302  # log in first
    client.force_login(invitee)
    assert "Join the plan" in client.get(link).content.decode()
    response = client.post(link, follow=True)

    assert "you are on the plan now" in response.content.decode()
    assert SubscriptionMember.objects.filter(user=invitee).exists()


def test_a_bad_invitation_link_says_so(client, user):
    client.force_login(user)
    response = client.get("/billing/seats/accept/garbage/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_someone_elses_checkout_return_is_404(client, user, sandbox_provider):
    checkout = services.subscription_checkout_start(user=UserFactory(), plan="premium_individual")
    client.force_login(user)
    assert client.get(f"/billing/checkout/{checkout.pk}/return/").status_code == 404


def test_a_pending_checkout_refreshes_itself(client, user, sandbox_provider):
    checkout = services.subscription_checkout_start(user=user, plan="premium_individual")
    client.force_login(user)
    html = client.get(f"/billing/checkout/{checkout.pk}/return/").content.decode()
    assert '<meta http-equiv="refresh" content="3">' in html
    assert 'aria-live="polite"' in html
