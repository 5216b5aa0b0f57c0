"""The balance milestone and the ledger after a full journey: escrow 0, musician payable =
price - fee, platform revenue = fee (docs/architecture.md section 5)."""

import pytest
from django.db.models import Sum
from rest_framework.test import APIClient

from billing.models import LedgerAccount, LedgerTransaction, Payment
from billing.services.ledger import PLATFORM_FEES, balance, payable_code
from notifications.models import Delivery
from orders import services
from orders.errors import Forbidden, TransitionConflict
from orders.models import MarketplaceSettings, Order, OrderStatus
from tests.factories import MusicianFactory, UserFactory
from tests.orders.conftest import path_of
from tests.orders.factories import (
    MusicianProfileFactory,
    OrderFactory,
    PackageFactory,
    brief,
    paid_on_the_sandbox_page,
)

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
    assert early.status_code == 409 and early.json()["allowed"] == ["open_dispute"]
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


def test_a_matched_order_from_the_first_offer_to_completion_keeps_the_ledger_whole(
    sandbox_provider, django_capture_on_commit_callbacks
):
    """The whole journey through the API: matched, declined by the best candidate, accepted by
    the next, a revision, approval, finals (the transition service, no audio), the balance.
    The budget is a ceiling: the order is paid at the accepted musician's package price."""
    budget, price = 180_001, 150_000
    best, next_best = MusicianFactory(), MusicianFactory()
    MusicianProfileFactory(musician=best, styles=["acoustic pop"])
    MusicianProfileFactory(musician=next_best, styles=["pop"])
    for musician in (best, next_best):
        PackageFactory(musician=musician, price=150_000)
    customer = UserFactory()
    as_customer, as_best, as_next = (APIClient() for _ in range(3))
    as_customer.force_authenticate(customer)
    as_best.force_authenticate(best)
    as_next.force_authenticate(next_best)

    placed = as_customer.post("/api/orders", {"match": True, **brief(budget=budget)}, format="json")
    assert placed.status_code == 201, placed.content
    url = f"/api/orders/{placed.json()['id']}"
    deposit_url = placed.json()["deposit"]["checkout_url"]
    paid_on_the_sandbox_page(deposit_url, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert as_best.post(f"{url}/decline", {"reason": "Away"}).status_code == 200
        assert as_next.post(f"{url}/accept").json()["status"] == "in_progress"
    order = Order.objects.get(pk=placed.json()["id"])
    assert order.musician == next_best
    with django_capture_on_commit_callbacks(execute=True):
        services.order_submit_draft(order=order, musician=next_best)
        as_customer.post(f"{url}/request_revision", {"feedback": "Slower"}, format="json")
        services.order_submit_draft(order=order, musician=next_best)
        assert as_customer.post(f"{url}/approve").json()["status"] == "approved"
        services.order_deliver(order=order, musician=next_best)
        due = as_customer.post(f"{url}/pay_balance").json()
    assert due["amount"] == 75_000
    paid_on_the_sandbox_page(due["checkout_url"], django_capture_on_commit_callbacks)

    detail = as_customer.get(url).json()
    assert detail["status"] == "completed"
    assert [e["name"] for e in detail["events"]] == [
        "place",
        "deposit_captured",
        "offer",
        "decline",
        "offer",
        "accept",
        "priced",
        "submit_draft",
        "request_revision",
        "submit_draft",
        "approve",
        "deliver",
        "balance_captured",
    ]
    fee = MarketplaceSettings.load().platform_fee(price)
    assert balance(code=f"escrow:order:{order.pk}", currency="INR") == 0
    assert balance(code=payable_code(next_best.pk), currency="INR") == price - fee
    assert balance(code=payable_code(best.pk), currency="INR") == 0
    assert balance(code=PLATFORM_FEES, currency="INR") == fee
    # The deposit was ceil(budget / 2) = 90_001; what it paid beyond ceil(price / 2) = 75_000
    # went back; the balance was 75_000.
    assert balance(code="external:sandbox:payments", currency="INR") == -(90_001 + 75_000)
    assert balance(code="external:sandbox:refunds", currency="INR") == 15_001
    # Double entry: whatever came in sits somewhere, nothing was made up or lost.
    assert LedgerAccount.objects.aggregate(total=Sum("balance"))["total"] == 0
    for entry in LedgerTransaction.objects.all():
        assert entry.entries.aggregate(total=Sum("amount"))["total"] == 0
    assert Delivery.objects.filter(event="order.balance_paid", recipient=customer).exists()
