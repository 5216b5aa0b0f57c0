""" "Match me": the budget is a ceiling. The order is offered at the candidate's cheapest package
that fits; when the musician accepts, the order takes that package's price and terms, the
deposit's excess goes back through the ledger (once), and the balance follows the new price."""

import pytest
from django.db.models import Sum

from billing.models import LedgerAccount, LedgerTransaction, Payment, Refund
from billing.services.ledger import PLATFORM_FEES, balance, payable_code
from orders import selectors, services
from orders.models import MarketplaceSettings, Order, OrderOffer, OrderStatus
from orders.services.pricing import match_refund_key, order_price_from_offer
from tests.factories import MusicianFactory, UserFactory
from tests.orders.factories import (
    MusicianProfileFactory,
    OrderFactory,
    PackageFactory,
    api_client_for,
    brief,
    paid_on_the_sandbox_page,
)

pytestmark = pytest.mark.django_db
S = OrderStatus
BUDGET = 500_001  # deposit ceil(500_001 / 2) = 250_001


def escrow(order) -> int:
    return balance(code=f"escrow:order:{order.pk}", currency="INR")


def matched_and_paid(on_commit, *, budget=BUDGET):
    """A musician with packages under and over the budget; the customer asks to be matched and
    pays the deposit: the order is offered to that musician."""
    musician = MusicianFactory()
    MusicianProfileFactory(musician=musician)
    cheap = PackageFactory(musician=musician, price=150_001, delivery_days=5, revisions_included=3)
    PackageFactory(musician=musician, price=300_000, delivery_days=10)
    PackageFactory(musician=musician, price=900_000)  # over the budget
    customer = UserFactory()
    placed = api_client_for(customer).post(
        "/api/orders", {"match": True, **brief(budget=budget)}, format="json"
    )
    assert placed.status_code == 201, placed.content
    assert placed.json()["price"] == budget  # until someone accepts, the budget holds
    assert placed.json()["deposit"]["amount"] == -(-budget // 2)
    paid_on_the_sandbox_page(placed.json()["deposit"]["checkout_url"], on_commit)
    order = Order.objects.get(pk=placed.json()["id"])
    assert order.status == S.MATCHING and order.musician == musician
    return order, musician, cheap


def test_the_offer_names_the_cheapest_fitting_package_and_the_musician_sees_its_price(
    sandbox_provider, django_capture_on_commit_callbacks
):
    order, musician, cheap = matched_and_paid(django_capture_on_commit_callbacks)
    offer = OrderOffer.objects.get(order=order, musician=musician)
    assert (offer.package, offer.price, offer.delivery_days, offer.revisions_included) == (
        cheap,
        150_001,
        5,
        3,
    )
    shown = api_client_for(musician).get(f"/api/orders/{order.pk}").json()["offer"]
    assert shown["price"] == 150_001 and shown["package"] == str(cheap.pk)


def test_accepting_prices_the_order_at_the_package_and_refunds_the_deposit_excess_once(
    sandbox_provider, django_capture_on_commit_callbacks
):
    order, musician, cheap = matched_and_paid(django_capture_on_commit_callbacks)
    assert escrow(order) == 250_001

    with django_capture_on_commit_callbacks(execute=True):
        accepted = api_client_for(musician).post(f"/api/orders/{order.pk}/accept")
    assert accepted.status_code == 200, accepted.content
    body = accepted.json()
    assert (body["price"], body["package"]) == (150_001, str(cheap.pk))
    assert (body["delivery_days"], body["revisions_included"]) == (5, 3)
    assert (body["deposit_amount"], body["balance_amount"]) == (75_001, 75_000)
    assert body["brief"]["budget"] == BUDGET  # what the customer said stays on the brief
    # The musician reads their package's price; the customer, their budget and the refund.
    priced = [e for e in body["events"] if e["name"] == "priced"]
    assert [e["note"] for e in priced] == ["Priced at your package, ₹1,500.01."]
    seen = api_client_for(order.customer).get(f"/api/orders/{order.pk}").json()["events"]
    priced = [e["note"] for e in seen if e["name"] == "priced"]
    assert priced == [
        "Priced at the musician's package, ₹1,500.01 (your budget was ₹5,000.01); "
        "₹1,750.00 of the deposit is refunded."
    ]

    # The excess, 250_001 - 75_001, went back to the customer through the ledger, once.
    deposit = Payment.objects.get(purpose="order_deposit", reference=str(order.pk))
    refund = Refund.objects.get(payment=deposit)
    assert (refund.amount, refund.idempotency_key) == (175_000, match_refund_key(order))
    assert deposit.amount_refunded == 175_000
    assert escrow(order) == 75_001
    payments = api_client_for(order.customer).get(f"/api/orders/{order.pk}").json()["payments"]
    assert [(p["purpose"], p["amount"], p["amount_refunded"]) for p in payments] == [
        ("order_deposit", 250_001, 175_000)
    ]

    # Asked again (a retry), nothing moves twice.
    order.refresh_from_db()
    offer = OrderOffer.objects.get(order=order, musician=musician)
    assert order_price_from_offer(order, offer=offer) == 0
    assert Refund.objects.filter(payment=deposit).count() == 1
    assert escrow(order) == 75_001


def test_the_balance_follows_the_new_price_and_the_ledger_balances_at_the_end(
    sandbox_provider, django_capture_on_commit_callbacks
):
    order, musician, _ = matched_and_paid(django_capture_on_commit_callbacks)
    customer = order.customer
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_accept(order=order, musician=musician)
        order = services.order_submit_draft(order=order, musician=musician)
        order = services.order_approve(order=order, customer=customer)
        order = services.order_deliver(order=order, musician=musician)
    due = api_client_for(customer).post(f"/api/orders/{order.pk}/pay_balance").json()
    assert due["amount"] == 75_000
    paid_on_the_sandbox_page(due["checkout_url"], django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.status == S.COMPLETED
    fee = MarketplaceSettings.load().platform_fee(150_001)
    assert escrow(order) == 0
    assert balance(code=payable_code(musician.pk), currency="INR") == 150_001 - fee
    assert balance(code=PLATFORM_FEES, currency="INR") == fee
    # In: deposit 250_001 + balance 75_000; back out: 175_000. The customer paid the price.
    assert balance(code="external:sandbox:payments", currency="INR") == -325_001
    assert balance(code="external:sandbox:refunds", currency="INR") == 175_000
    assert LedgerAccount.objects.aggregate(total=Sum("balance"))["total"] == 0
    for entry in LedgerTransaction.objects.all():
        assert entry.entries.aggregate(total=Sum("amount"))["total"] == 0


def test_a_pick_keeps_its_package_price_and_nothing_is_refunded(
    sandbox_provider, django_capture_on_commit_callbacks
):
    package = PackageFactory(price=200_001)
    customer = UserFactory()
    placed = api_client_for(customer).post(
        "/api/orders", {"package": str(package.pk), **brief(budget=BUDGET)}, format="json"
    )
    paid_on_the_sandbox_page(
        placed.json()["deposit"]["checkout_url"], django_capture_on_commit_callbacks
    )
    order = Order.objects.get(pk=placed.json()["id"])
    assert OrderOffer.objects.get(order=order).price is None
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_accept(order=order, musician=package.musician)
    assert order.price == 200_001
    assert not Refund.objects.exists()
    assert not order.events.filter(name="priced").exists()


def test_a_package_at_the_whole_budget_keeps_the_price_and_gives_its_terms(
    sandbox_provider, django_capture_on_commit_callbacks
):
    """What the musician was offered is what the order takes, even at the budget's price."""
    musician = MusicianFactory()
    PackageFactory(musician=musician, price=BUDGET, delivery_days=6, revisions_included=4)
    customer = UserFactory()
    placed = api_client_for(customer).post(
        "/api/orders", {"match": True, **brief(budget=BUDGET)}, format="json"
    )
    paid_on_the_sandbox_page(
        placed.json()["deposit"]["checkout_url"], django_capture_on_commit_callbacks
    )
    order = Order.objects.get(pk=placed.json()["id"])
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_accept(order=order, musician=musician)
    assert order.price == BUDGET and not Refund.objects.exists()
    assert (order.delivery_days, order.revisions_included) == (6, 4)


def test_packages_too_slow_for_the_occasion_date_do_not_fit():
    musician = MusicianFactory()
    slow = PackageFactory(musician=musician, price=100_000, delivery_days=40)
    fast = PackageFactory(musician=musician, price=120_000, delivery_days=7)
    order = OrderFactory(status=S.MATCHING, musician=None, match=True, price=BUDGET)
    # The factory's occasion is 30 days away.
    assert selectors.match_package_for(order, musician) == fast
    order.occasion_date = None
    assert selectors.match_package_for(order, musician) == slow
