"""The deposit milestone through the sandbox: checkout page -> signed webhook -> billing's
capture -> the order_deposit handler moves the order placed -> matching, in that transaction."""

import pytest

from billing import hooks
from billing.models import Payment, PaymentStatus, Refund
from billing.services.ledger import balance
from notifications.models import Delivery
from orders import payments
from orders.models import Order, OrderStatus
from tests.orders.conftest import path_of
from tests.orders.factories import PackageFactory, brief

pytestmark = pytest.mark.django_db
S = OrderStatus


def place(client, package) -> dict:
    response = client.post(
        "/api/orders", {"package": str(package.pk), **brief()}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_the_handlers_are_registered_when_the_app_is_ready():
    assert payments.deposit_event in hooks.handlers("order_deposit")
    assert payments.balance_event in hooks.handlers("order_balance")


def test_paying_the_deposit_in_the_sandbox_moves_the_order_to_matching(
    client, user, sandbox_provider, django_capture_on_commit_callbacks
):
    client.force_login(user)
    package = PackageFactory(price=200_001)
    body = place(client, package)
    assert body["status"] == "placed"
    assert body["deposit"]["amount"] == 100_001 and body["deposit"]["currency"] == "INR"

    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(path_of(body["deposit"]["checkout_url"]), {"outcome": "success"})
    assert paid.status_code == 302

    order = Order.objects.get(pk=body["id"])
    assert order.status == S.MATCHING
    event = order.events.get(name="deposit_captured")
    assert (event.actor, event.from_status, event.to_status) == (None, S.PLACED, S.MATCHING)
    assert balance(code=f"escrow:order:{order.pk}", currency="INR") == 100_001
    assert Delivery.objects.filter(event="order.deposit_received", recipient=user).exists()
    assert Delivery.objects.filter(event="order.offer", recipient=package.musician).exists()

    # A second click on the sandbox's page captures nothing twice and moves nothing twice.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(body["deposit"]["checkout_url"]), {"outcome": "success"})
    assert order.events.filter(name="deposit_captured").count() == 1

    detail = client.get(f"/api/orders/{order.pk}").json()
    assert detail["status"] == "matching"
    assert [p["status"] for p in detail["payments"]] == ["captured"]


def test_a_declined_card_leaves_the_order_placed(
    client, user, sandbox_provider, django_capture_on_commit_callbacks
):
    client.force_login(user)
    body = place(client, PackageFactory())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(body["deposit"]["checkout_url"]), {"outcome": "failure"})
    assert Order.objects.get(pk=body["id"]).status == S.PLACED
    assert Payment.objects.get().status == PaymentStatus.FAILED


def test_cancelling_after_the_deposit_refunds_it_in_full(
    client, user, sandbox_provider, django_capture_on_commit_callbacks
):
    client.force_login(user)
    body = place(client, PackageFactory(price=200_001))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(body["deposit"]["checkout_url"]), {"outcome": "success"})
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/orders/{body['id']}/cancel", {"reason": "Plans changed"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    refund = Refund.objects.get()
    assert refund.amount == 100_001
    assert Payment.objects.get().status == PaymentStatus.REFUNDED
    assert balance(code=f"escrow:order:{body['id']}", currency="INR") == 0


def test_a_deposit_paid_after_the_order_was_cancelled_goes_back(
    client, user, sandbox_provider, django_capture_on_commit_callbacks
):
    client.force_login(user)
    body = place(client, PackageFactory(price=10_000))
    response = client.post(f"/api/orders/{body['id']}/cancel")
    assert response.json()["status"] == "cancelled"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(body["deposit"]["checkout_url"]), {"outcome": "success"})
    assert Order.objects.get(pk=body["id"]).status == S.CANCELLED
    assert Refund.objects.get().amount == 5_000
    assert balance(code=f"escrow:order:{body['id']}", currency="INR") == 0
