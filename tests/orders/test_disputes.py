"""Disputes (docs/architecture.md section 5): either side stops the order with a reason and the
versions it is about, both add evidence, staff resolve it: refund (full or split), release, or
continue. The milestones are paid on the sandbox's checkout page, so every amount is checked
against the real ledger: refunds + the musician's payable + the platform fee == what was paid,
escrow 0."""

import pytest

from audio.models import AudioAsset
from billing.models import Payment, PaymentStatus, Refund
from billing.services.ledger import PLATFORM_FEES, balance, external_code, payable_code
from notifications.models import Delivery as Notice
from orders import services
from orders.models import (
    DisputeStatus,
    MarketplaceSettings,
    MusicianProfile,
    Order,
    OrderStatus,
    Version,
)
from tests.audio.factories import AudioAssetFactory
from tests.factories import StaffFactory, UserFactory
from tests.orders.factories import (
    OrderFactory,
    PackageFactory,
    api_client_for,
    balance_checkout,
    balance_paid,
    deposit_paid,
    service_brief,
)

pytestmark = pytest.mark.django_db
S = OrderStatus
PRICE = 200_001
DEPOSIT, BALANCE = 100_001, 100_000
DISPUTABLE = [S.IN_PROGRESS, S.IN_REVIEW, S.REVISION_REQUESTED, S.APPROVED, S.DELIVERED]
REASON = "The draft is not the song we agreed on."


client_for = api_client_for


def fee(amount: int) -> int:
    return MarketplaceSettings.load().platform_fee(amount)


def escrow(order) -> int:
    return balance(code=f"escrow:order:{order.pk}", currency="INR")


def ledger(order) -> dict:
    """Where the order's money is now."""
    return {
        "escrow": escrow(order),
        "refunded": balance(code=external_code("sandbox", "refunds"), currency="INR"),
        "musician": balance(code=payable_code(order.musician_id), currency="INR"),
        "platform": balance(code=PLATFORM_FEES, currency="INR"),
        "paid": -balance(code=external_code("sandbox", "payments"), currency="INR"),
    }


def draft(order, number: int) -> Version:
    """A draft as the pipeline leaves it (its audio does not matter to a dispute)."""
    asset = AudioAssetFactory(owner=order.musician, purpose=AudioAsset.Purpose.PREVIEW)
    return Version.objects.create(
        order=order, number=number, asset=asset, uploaded_by=order.musician, status="ready"
    )


def notified(event: str, person) -> bool:
    return Notice.objects.filter(event=event, recipient=person).exists()


def paid_order(on_commit, status=S.IN_PROGRESS) -> Order:
    """An order placed with a package, its deposit paid on the sandbox page, accepted and
    brought to `status` by the transition services."""
    package = PackageFactory(price=PRICE, revisions_included=1)
    musician, customer = package.musician, UserFactory()
    order = services.order_place(customer=customer, package=package, **service_brief())
    order = deposit_paid(order, on_commit)
    order = services.order_accept(order=order, musician=musician)
    if status in (S.IN_REVIEW, S.REVISION_REQUESTED, S.APPROVED, S.DELIVERED):
        order = services.order_submit_draft(order=order, musician=musician)
    if status == S.REVISION_REQUESTED:
        services.order_request_revision(order=order, customer=customer, feedback="Slower")
    if status in (S.APPROVED, S.DELIVERED):
        order = services.order_approve(order=order, customer=customer)
    if status == S.DELIVERED:
        order = services.order_deliver(order=order, musician=musician)
    order.refresh_from_db()
    assert order.status == status
    return order


def disputed(order, actor=None, reason=REASON) -> Order:
    services.order_open_dispute(order=order, actor=actor or order.customer, reason=reason)
    order.refresh_from_db()
    return order


def resolve(order, staff=None, **data):
    return client_for(staff or StaffFactory()).post(
        f"/api/orders/{order.pk}/resolve_dispute", data, format="json"
    )


# --- opening --------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["customer", "musician"])
@pytest.mark.parametrize("status", DISPUTABLE)
def test_either_side_opens_a_dispute_from_each_disputable_state_with_versions(
    status, side, django_capture_on_commit_callbacks
):
    order = OrderFactory(status=status)
    draft(order, 1)
    draft(order, 2)
    actor = getattr(order, side)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(actor).post(
            f"/api/orders/{order.pk}/open_dispute",
            {"reason": f"  {REASON}  ", "versions": [2, 1, 2]},
            format="json",
        )
    assert response.status_code == 200, response.content
    body = response.json()
    # Staff resolve it; either side may add evidence meanwhile.
    assert body["status"] == "disputed" and body["allowed"] == ["dispute_evidence"]
    [dispute] = body["disputes"]
    assert (dispute["opened_by"], dispute["reason"], dispute["status"]) == (
        str(actor.pk),
        REASON,
        "open",
    )
    assert [(e["author"], e["text"], e["versions"]) for e in dispute["evidence"]] == [
        (str(actor.pk), REASON, [1, 2])
    ]
    event = Order.objects.get(pk=order.pk).events.get(name="open_dispute")
    assert (event.actor, event.from_status, event.to_status) == (actor, status, S.DISPUTED)
    assert notified("order.dispute_opened", order.customer)
    assert notified("order.dispute_opened", order.musician)


def test_versions_of_another_order_or_a_short_reason_are_400():
    order = OrderFactory(status=S.IN_REVIEW)
    draft(order, 1)
    other = OrderFactory(status=S.IN_REVIEW, customer=order.customer)
    draft(other, 1)
    draft(other, 2)
    client = client_for(order.customer)
    url = f"/api/orders/{order.pk}/open_dispute"
    foreign = client.post(url, {"reason": REASON, "versions": [1, 2]}, format="json")
    assert foreign.status_code == 400
    assert foreign.json()["errors"] == {"versions": ["This order has no version 2."]}
    short = client.post(url, {"reason": "Bad."}, format="json")
    assert short.status_code == 400 and "reason" in short.json()["errors"]
    nonsense = client.post(url, {"reason": REASON, "versions": ["v1"]}, format="json")
    assert nonsense.status_code == 400
    assert Order.objects.get(pk=order.pk).status == S.IN_REVIEW
    assert not order.disputes.exists()


@pytest.mark.parametrize(
    "status", [S.PLACED, S.MATCHING, S.COMPLETED, S.CANCELLED, S.REFUNDED, S.DISPUTED]
)
def test_no_dispute_before_the_work_starts_after_it_ends_or_twice(status):
    order = OrderFactory(status=status)
    response = client_for(order.customer).post(
        f"/api/orders/{order.pk}/open_dispute", {"reason": REASON}, format="json"
    )
    assert response.status_code == 409
    assert (
        response.json()["allowed"]
        == {
            S.PLACED: ["cancel", "pay_deposit"],
            S.MATCHING: ["cancel"],
            S.COMPLETED: ["review"],
            S.CANCELLED: [],
            S.REFUNDED: [],
            S.DISPUTED: [],  # the factory's disputed order has no open dispute to add to
        }[status]
    )
    assert not order.disputes.exists()


def test_strangers_do_not_see_a_dispute_and_staff_cannot_open_one():
    order = OrderFactory(status=S.IN_PROGRESS)
    stranger = client_for(UserFactory()).post(
        f"/api/orders/{order.pk}/open_dispute", {"reason": REASON}, format="json"
    )
    assert stranger.status_code == 404
    staff = client_for(StaffFactory()).post(
        f"/api/orders/{order.pk}/open_dispute", {"reason": REASON}, format="json"
    )
    assert staff.status_code == 403
    assert Order.objects.get(pk=order.pk).status == S.IN_PROGRESS


# --- evidence -------------------------------------------------------------------------------


def test_both_sides_add_evidence_pointing_at_versions():
    order = OrderFactory(status=S.IN_REVIEW)
    for number in (1, 2, 3):
        draft(order, number)
    order = disputed(order)
    url = f"/api/orders/{order.pk}/dispute_evidence"
    by_customer = client_for(order.customer).post(
        url, {"text": "v2 dropped the names we asked for.", "versions": [2]}, format="json"
    )
    assert by_customer.status_code == 201, by_customer.content
    assert by_customer.json()["versions"] == [2]
    by_musician = client_for(order.musician).post(
        url, {"text": "Both names are in v3, at 0:42.", "versions": [3, 1]}, format="json"
    )
    assert by_musician.status_code == 201 and by_musician.json()["versions"] == [1, 3]

    detail = client_for(order.customer).get(f"/api/orders/{order.pk}").json()
    assert [(e["author"], e["versions"]) for e in detail["disputes"][0]["evidence"]] == [
        (str(order.customer.pk), []),
        (str(order.customer.pk), [2]),
        (str(order.musician.pk), [1, 3]),
    ]
    assert order.events.filter(name="dispute_evidence").count() == 2

    foreign = client_for(order.musician).post(
        url, {"text": "See v4.", "versions": [4]}, format="json"
    )
    assert foreign.status_code == 400 and "versions" in foreign.json()["errors"]
    empty = client_for(order.musician).post(url, {"text": "   "}, format="json")
    assert empty.status_code == 400 and "text" in empty.json()["errors"]
    stranger = client_for(UserFactory()).post(url, {"text": "I saw it all."}, format="json")
    assert stranger.status_code == 404
    assert order.disputes.get().evidence.count() == 3


def test_evidence_needs_an_open_dispute():
    order = OrderFactory(status=S.IN_PROGRESS)
    response = client_for(order.customer).post(
        f"/api/orders/{order.pk}/dispute_evidence", {"text": "Early."}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "no_open_dispute"


# --- resolving ------------------------------------------------------------------------------


def test_only_staff_resolve_a_dispute(django_capture_on_commit_callbacks):
    order = disputed(paid_order(django_capture_on_commit_callbacks))
    for person in (order.customer, order.musician):
        response = resolve(order, person, outcome="release")
        assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert Order.objects.get(pk=order.pk).status == S.DISPUTED
    assert escrow(order) == DEPOSIT


def test_a_full_refund_gives_back_the_deposit_and_ends_the_order(
    django_capture_on_commit_callbacks,
):
    order = disputed(paid_order(django_capture_on_commit_callbacks, S.IN_REVIEW))
    staff = StaffFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = resolve(order, staff, outcome="refund", note="The brief was ignored.")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "refunded" and body["closed_at"] and body["allowed"] == []
    dispute = body["disputes"][0]
    assert (dispute["status"], dispute["outcome"]) == ("resolved", "refund")
    assert (dispute["refunded_amount"], dispute["released_amount"]) == (DEPOSIT, 0)
    assert dispute["resolution_note"] == "The brief was ignored."
    assert order.disputes.get().resolved_by == staff

    deposit = Payment.objects.get(purpose="order_deposit")
    assert (deposit.status, deposit.amount_refunded) == (PaymentStatus.REFUNDED, DEPOSIT)
    assert Refund.objects.get().status == "processed"  # the sandbox's webhook came back
    assert ledger(order) == {
        "escrow": 0,
        "refunded": DEPOSIT,
        "musician": 0,
        "platform": 0,
        "paid": DEPOSIT,
    }
    event = order.events.last()
    assert (event.name, event.actor, event.to_status) == ("resolve_dispute", staff, S.REFUNDED)
    assert notified("order.dispute_resolved", order.customer)
    assert notified("order.dispute_resolved", order.musician)


def delivered_disputed_then_balance_paid(on_commit) -> Order:
    """Delivered, the balance checkout opened, a dispute, then the payment goes through: the
    balance is captured while the order is disputed and stays in escrow for the decision."""
    order = paid_order(on_commit, S.DELIVERED)
    checkout = balance_checkout(order)
    order = disputed(order, order.musician, reason="The customer will not pay the balance.")
    order = balance_paid(order, on_commit, checkout)
    assert order.status == S.DISPUTED
    assert escrow(order) == PRICE
    return order


def test_a_full_refund_gives_back_every_captured_milestone(django_capture_on_commit_callbacks):
    order = delivered_disputed_then_balance_paid(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = resolve(order, outcome="refund")
    assert response.status_code == 200, response.content
    assert response.json()["disputes"][0]["refunded_amount"] == PRICE
    assert sorted(Payment.objects.values_list("purpose", "status", "amount_refunded")) == [
        ("order_balance", PaymentStatus.REFUNDED, BALANCE),
        ("order_deposit", PaymentStatus.REFUNDED, DEPOSIT),
    ]
    assert ledger(order) == {
        "escrow": 0,
        "refunded": PRICE,
        "musician": 0,
        "platform": 0,
        "paid": PRICE,
    }
    assert Order.objects.get(pk=order.pk).status == S.REFUNDED


def test_a_partial_refund_splits_the_escrow_with_the_musician(
    django_capture_on_commit_callbacks,
):
    order = delivered_disputed_then_balance_paid(django_capture_on_commit_callbacks)
    refund = BALANCE + 20_000  # more than the balance: the deposit gives the rest
    with django_capture_on_commit_callbacks(execute=True):
        response = resolve(order, outcome="refund", refund_amount=refund)
    assert response.status_code == 200, response.content
    released = PRICE - refund
    dispute = response.json()["disputes"][0]
    assert (dispute["refunded_amount"], dispute["released_amount"]) == (refund, released)
    assert response.json()["status"] == "refunded"
    assert sorted(Payment.objects.values_list("purpose", "status", "amount_refunded")) == [
        ("order_balance", PaymentStatus.REFUNDED, BALANCE),
        ("order_deposit", PaymentStatus.PARTIALLY_REFUNDED, 20_000),
    ]
    money = ledger(order)
    assert money == {
        "escrow": 0,
        "refunded": refund,
        "musician": released - fee(released),
        "platform": fee(released),
        "paid": PRICE,
    }
    assert money["refunded"] + money["musician"] + money["platform"] == money["paid"]
    assert notified("order.dispute_resolved", order.customer)
    assert notified("order.dispute_resolved", order.musician)


def test_a_partial_refund_of_the_deposit_alone(django_capture_on_commit_callbacks):
    order = disputed(paid_order(django_capture_on_commit_callbacks, S.APPROVED))
    response = resolve(order, outcome="refund", refund_amount=40_000)
    assert response.status_code == 200, response.content
    money = ledger(order)
    assert money["escrow"] == 0 and money["refunded"] == 40_000
    assert money["musician"] == DEPOSIT - 40_000 - fee(DEPOSIT - 40_000)
    assert money["refunded"] + money["musician"] + money["platform"] == DEPOSIT == money["paid"]


def test_a_release_pays_the_musician_minus_the_fee_and_completes_the_order(
    django_capture_on_commit_callbacks,
):
    order = disputed(paid_order(django_capture_on_commit_callbacks, S.APPROVED))
    with django_capture_on_commit_callbacks(execute=True):
        response = resolve(order, outcome="release")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed" and body["closed_at"]
    assert (body["disputes"][0]["refunded_amount"], body["disputes"][0]["released_amount"]) == (
        0,
        DEPOSIT,
    )
    assert ledger(order) == {
        "escrow": 0,
        "refunded": 0,
        "musician": DEPOSIT - fee(DEPOSIT),
        "platform": fee(DEPOSIT),
        "paid": DEPOSIT,
    }
    assert not Refund.objects.exists()
    assert MusicianProfile.objects.get(musician=order.musician).completed_orders == 1
    assert notified("order.dispute_resolved", order.musician)
    # Completed: the customer may now review it.
    review = client_for(order.customer).post(
        f"/api/orders/{order.pk}/review", {"rating": 3}, format="json"
    )
    assert review.status_code == 201


def test_continue_sends_the_work_back_and_moves_no_money(django_capture_on_commit_callbacks):
    order = paid_order(django_capture_on_commit_callbacks, S.IN_PROGRESS)
    order = services.order_advance_stage(order=order, musician=order.musician)
    order = disputed(order, order.musician, reason="The customer stopped answering messages.")
    with django_capture_on_commit_callbacks(execute=True):
        response = resolve(order, outcome="continue", note="Talk it through; carry on.")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["stage"], body["closed_at"]) == (
        "in_progress",
        "composition",
        None,
    )
    assert body["disputes"][0]["outcome"] == "continue"
    assert body["allowed"] == []  # the staff who resolved it; the work is the musician's
    musician = client_for(order.musician).get(f"/api/orders/{order.pk}").json()
    assert musician["allowed"] == ["advance_stage", "open_dispute", "submit_draft"]
    assert ledger(order)["escrow"] == DEPOSIT and not Refund.objects.exists()
    assert notified("order.dispute_resolved", order.customer)
    # The work goes on, and a new dispute may be opened later.
    services.order_submit_draft(order=order, musician=order.musician)
    again = disputed(order)
    assert again.status == S.DISPUTED and again.disputes.count() == 2


def test_a_balance_paid_during_a_dispute_completes_the_order_once_delivered_again(
    django_capture_on_commit_callbacks,
):
    order = delivered_disputed_then_balance_paid(django_capture_on_commit_callbacks)
    assert resolve(order, outcome="continue").status_code == 200
    musician, customer = order.musician, order.customer
    order = services.order_submit_draft(order=order, musician=musician)
    order = services.order_approve(order=order, customer=customer)
    order = services.order_deliver(order=order, musician=musician)
    # Nothing more to pay: the balance is in escrow already, so the order completes.
    with django_capture_on_commit_callbacks(execute=True):
        due = client_for(customer).post(f"/api/orders/{order.pk}/pay_balance")
    assert due.status_code == 200, due.content
    assert due.json()["checkout_url"] == ""
    order.refresh_from_db()
    assert order.status == S.COMPLETED
    assert Payment.objects.filter(purpose="order_balance").count() == 1
    assert ledger(order) == {
        "escrow": 0,
        "refunded": 0,
        "musician": PRICE - fee(PRICE),
        "platform": fee(PRICE),
        "paid": PRICE,
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"outcome": "refund", "refund_amount": DEPOSIT + 1}, "refund_amount"),
        ({"outcome": "refund", "refund_amount": 0}, "refund_amount"),
        ({"outcome": "refund", "refund_amount": "half"}, "refund_amount"),
        ({"outcome": "release", "refund_amount": 100}, "refund_amount"),
        ({"outcome": "split"}, "outcome"),
        ({}, "outcome"),
        ({"outcome": "continue", "note": "x" * 5001}, "note"),
    ],
)
def test_a_resolution_that_does_not_hold_up_is_400_and_moves_nothing(
    data, field, django_capture_on_commit_callbacks
):
    order = disputed(paid_order(django_capture_on_commit_callbacks))
    response = resolve(order, **data)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert Order.objects.get(pk=order.pk).status == S.DISPUTED
    assert order.disputes.get().status == DisputeStatus.OPEN
    assert escrow(order) == DEPOSIT and not Refund.objects.exists()


def test_resolving_an_order_that_is_not_disputed_is_409_with_what_is_allowed(
    django_capture_on_commit_callbacks,
):
    order = paid_order(django_capture_on_commit_callbacks)
    response = resolve(order, outcome="refund")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "An order that is in_progress cannot resolve dispute.",
        "code": "transition_not_allowed",
        "allowed": [],  # staff have nothing to do with an order in progress
    }
    order = disputed(order)
    assert resolve(order, outcome="refund").status_code == 200
    twice = resolve(order, outcome="release")
    assert twice.status_code == 409 and twice.json()["allowed"] == []
    assert ledger(order)["refunded"] == DEPOSIT and ledger(order)["musician"] == 0
