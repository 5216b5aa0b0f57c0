""" "Match me": the musician answers an offer at their package's terms, and reads those terms
(price, delivery days, revisions) while the offer waits, on the page and in the API. The
customer reads a budget until someone accepts, and is told the price and the refund of the
deposit's excess when a musician does."""

import re

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Notification
from orders.models import OrderStatus
from tests.factories import UserFactory
from tests.orders.conftest import client_for
from tests.orders.factories import PackageFactory, api_client_for, brief, paid_on_the_sandbox_page
from tests.orders.test_match_pricing import BUDGET, matched_and_paid

pytestmark = pytest.mark.django_db
S = OrderStatus


def fact(response, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>(.*?)</dd>', response.content.decode(), re.S)
    assert match, f"no {testid} on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


@pytest.fixture
def offered(sandbox_provider, django_capture_on_commit_callbacks):
    """A matched order (budget ₹5,000.01) offered to a musician whose cheapest fitting package
    is ₹1,500.01, ready 5 days after acceptance, with 3 revisions."""
    order, musician, cheap = matched_and_paid(django_capture_on_commit_callbacks)
    order.customer.email_verified_at = timezone.now()
    order.customer.save(update_fields=["email_verified_at"])
    return order, musician, cheap


def test_the_musician_reads_the_terms_of_the_offer_they_answer(offered):
    order, musician, cheap = offered
    page = client_for(musician).get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    assert fact(page, "order-price") == "₹1,500.01"
    assert fact(page, "order-delivery") == "5 days after acceptance"
    assert fact(page, "order-revisions") == "0 of 3 included used"

    body = api_client_for(musician).get(f"/api/orders/{order.pk}").json()
    assert (body["price"], body["delivery_days"], body["revisions_included"]) == (150_001, 5, 3)
    assert body["package"] == str(cheap.pk) and body["price_is_budget"] is False
    assert (body["deposit_amount"], body["balance_amount"]) == (75_001, 75_000)
    offer = body["offer"]
    assert (offer["price"], offer["delivery_days"], offer["revisions_included"]) == (150_001, 5, 3)
    assert offer["package"] == str(cheap.pk)

    # Nothing changed on the order itself until they accept.
    order.refresh_from_db()
    assert (order.price, order.package_id) == (BUDGET, None)


def test_the_customer_reads_a_budget_until_a_musician_accepts(
    offered, django_capture_on_commit_callbacks
):
    order, musician, _ = offered
    customer = client_for(order.customer)
    assert fact(customer.get(f"/orders/{order.pk}/"), "order-price").startswith(
        "Budget up to ₹5,000.01"
    )
    body = api_client_for(order.customer).get(f"/api/orders/{order.pk}").json()
    assert (body["price"], body["price_is_budget"], body["offer"]) == (BUDGET, True, None)

    with django_capture_on_commit_callbacks(execute=True):
        accepted = api_client_for(musician).post(f"/api/orders/{order.pk}/accept")
    assert accepted.status_code == 200, accepted.content
    assert fact(customer.get(f"/orders/{order.pk}/"), "order-price") == "₹1,500.01"
    body = api_client_for(order.customer).get(f"/api/orders/{order.pk}").json()
    assert (body["price"], body["price_is_budget"], body["delivery_days"]) == (150_001, False, 5)


def test_the_accept_notice_tells_the_price_and_the_refunded_excess(
    offered, django_capture_on_commit_callbacks
):
    order, musician, _ = offered
    with django_capture_on_commit_callbacks(execute=True):
        accepted = api_client_for(musician).post(f"/api/orders/{order.pk}/accept")
    assert accepted.status_code == 200, accepted.content

    notice = Notification.objects.get(recipient=order.customer, event="order.offer_accepted")
    assert "₹1,500.01" in notice.body
    assert "₹1,750.00 of your deposit is refunded" in notice.body
    emails = [m for m in mail.outbox if "accepted your order" in m.subject]
    assert len(emails) == 1
    assert "The price is ₹1,500.01" in emails[0].body
    assert "₹1,750.00 of your deposit is refunded to you" in emails[0].body


def test_a_picked_order_is_not_told_of_a_budget_or_a_refund(
    sandbox_provider, django_capture_on_commit_callbacks
):
    package = PackageFactory(price=200_001)
    customer = UserFactory()
    placed = api_client_for(customer).post(
        "/api/orders", {"package": str(package.pk), **brief()}, format="json"
    )
    paid_on_the_sandbox_page(
        placed.json()["deposit"]["checkout_url"], django_capture_on_commit_callbacks
    )
    order_id = placed.json()["id"]
    seen = api_client_for(customer).get(f"/api/orders/{order_id}").json()
    assert seen["price_is_budget"] is False
    assert fact(client_for(customer).get(f"/orders/{order_id}/"), "order-price") == "₹2,000.01"
    with django_capture_on_commit_callbacks(execute=True):
        api_client_for(package.musician).post(f"/api/orders/{order_id}/accept")
    notice = Notification.objects.get(recipient=customer, event="order.offer_accepted")
    assert "refunded" not in notice.body and "price" not in notice.body.lower()
