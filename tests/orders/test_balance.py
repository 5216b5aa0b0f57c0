"""The balance milestone and the ledger after a full journey: escrow 0, musician payable =
price - fee, platform revenue = fee (DESIGN.md section 5)."""

import pytest
from rest_framework.test import APIClient

from billing.models import Payment
from billing.services.ledger import PLATFORM_FEES, balance, payable_code
from notifications.models import Delivery
from orders import services
from orders.errors import Forbidden, TransitionConflict
from orders.models import MarketplaceSettings, Order, OrderStatus
from tests.orders.conftest import path_of
from tests.orders.factories import OrderFactory, PackageFactory, brief

pytestmark = pytest.mark.django_db
S = OrderStatus


def test_the_fee_is_a_setting_in_basis_points_rounded_down():
    rules = MarketplaceSettings.load()
    assert rules.platform_fee_bps == 1500
    assert rules.platform_fee(200_001) == 30_000


def test_a_full_journey_leaves_escrow_empty_and_the_fee_with_the_platform(
    client, user, sandbox_provider, django_capture_on_commit_callbacks
):
    rules = MarketplaceSettings.load()
    rules.platform_fee_bps = 2000
    rules.save()
    package = PackageFactory(price=200_001)
    musician = package.musician
    client.force_login(user)
    placed = client.post(
        "/api/orders", {"package": str(package.pk), **brief()}, content_type="application/json"
    ).json()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(placed["deposit"]["checkout_url"]), {"outcome": "success"})
    order = Order.objects.get(pk=placed["id"])
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_accept(order=order, musician=musician)
        order = services.order_submit_draft(order=order, musician=musician)
        order = services.order_approve(order=order, customer=user)
        order = services.order_deliver(order=order, musician=musician)
    assert order.status == S.DELIVERED
    assert Delivery.objects.filter(event="order.delivered", recipient=user).exists()

    due = client.post(f"/api/orders/{order.pk}/pay_balance")
    assert due.status_code == 200, due.content
    assert (due.json()["amount"], due.json()["currency"]) == (100_000, "INR")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path_of(due.json()["checkout_url"]), {"outcome": "success"})

    order.refresh_from_db()
    assert order.status == S.COMPLETED and order.closed_at is not None
    fee = 200_001 * 2000 // 10_000
    assert balance(code=f"escrow:order:{order.pk}", currency="INR") == 0
    assert balance(code=payable_code(musician.pk), currency="INR") == 200_001 - fee
    assert balance(code=PLATFORM_FEES, currency="INR") == fee
    assert sorted(Payment.objects.values_list("purpose", "amount")) == [
        ("order_balance", 100_000),
        ("order_deposit", 100_001),
    ]
    assert Delivery.objects.filter(event="order.balance_paid", recipient=user).exists()
    assert [e.name for e in order.events.all()][-2:] == ["deliver", "balance_captured"]


def test_the_balance_is_due_only_once_delivered_and_only_from_the_customer(sandbox_provider):
    order = OrderFactory(status=S.APPROVED)
    customer = order.customer
    client = APIClient()
    client.force_authenticate(customer)
    early = client.post(f"/api/orders/{order.pk}/pay_balance")
    assert early.status_code == 409 and early.json()["allowed"] == ["deliver", "open_dispute"]
    services.order_deliver(order=order, musician=order.musician)
    musician = APIClient()
    musician.force_authenticate(order.musician)
    assert musician.post(f"/api/orders/{order.pk}/pay_balance").status_code == 403
    assert client.post(f"/api/orders/{order.pk}/pay_balance").status_code == 200


def test_only_the_musician_delivers_an_approved_order():
    order = OrderFactory(status=S.APPROVED)
    with pytest.raises(Forbidden):
        services.order_deliver(order=order, musician=order.customer)
    other = OrderFactory(status=S.IN_REVIEW)
    with pytest.raises(TransitionConflict):
        services.order_deliver(order=other, musician=other.musician)
