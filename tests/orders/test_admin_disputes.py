"""Disputes in the Wagtail admin: the queue, the evidence and the resolution. Each resolution goes
through orders.services.dispute_resolve on money paid through the sandbox, and is checked
against the real ledger: the escrow ends at zero, refunds + releases = what it held, every
transaction balances, the order and the payments say the same, both sides are told, and
Wagtail's log names who did what."""

import uuid

import pytest
from django.db import reset_queries
from django.db.models import Sum
from django.test import Client
from wagtail.models import ModelLogEntry

from billing.models import LedgerEntry, Payment, PaymentStatus, Refund
from notifications.models import Delivery as Notice
from orders import services
from orders.models import ChatAttachment, ChatMessage, Dispute, DisputeStatus, OrderStatus
from tests.factories import StaffFactory
from tests.orders.admin_helpers import assert_refused, logged_in, non_staff_people, staff_client
from tests.orders.factories import OrderFactory, draft_of
from tests.orders.test_disputes import DEPOSIT, disputed, fee, ledger, paid_order

pytestmark = pytest.mark.django_db
S = OrderStatus
QUEUE = "/admin/disputes/"


def page_of(dispute) -> str:
    return f"/admin/disputes/inspect/{dispute.pk}/"


def open_dispute(on_commit, status=S.IN_REVIEW, reason="The draft is not the song we agreed on."):
    order = disputed(paid_order(on_commit, status=status), reason=reason)
    return order.disputes.get(status=DisputeStatus.OPEN)


def post_resolution(client, dispute, on_commit, **data):
    with on_commit(execute=True):
        return client.post(page_of(dispute), data)


def ledger_balances() -> bool:
    """Every ledger transaction's legs sum to zero (so the whole ledger does)."""
    unbalanced = (
        LedgerEntry.objects.values("transaction_id", "currency")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
    )
    return not unbalanced.exists()


def told(dispute, person) -> bool:
    return Notice.objects.filter(event="order.dispute_resolved", recipient=person).exists()


# --- the queue ------------------------------------------------------------------------------


def test_the_queue_lists_open_disputes_oldest_first_and_resolved_ones_by_filter(
    django_capture_on_commit_callbacks,
):
    staff, client = staff_client(display_name="Sam Staff")
    first = open_dispute(django_capture_on_commit_callbacks)
    second = open_dispute(django_capture_on_commit_callbacks)
    closed = open_dispute(django_capture_on_commit_callbacks)
    Dispute.objects.filter(pk=first.pk).update(created_at=second.created_at.replace(year=2025))
    with django_capture_on_commit_callbacks(execute=True):
        services.dispute_resolve(order=closed.order, staff=staff, outcome="release")

    queue = client.get(QUEUE)
    body = queue.content.decode()
    assert queue.status_code == 200
    assert page_of(first) in body and page_of(second) in body and page_of(closed) not in body
    assert body.index(page_of(first)) < body.index(page_of(second))
    assert body.count("₹1,000.01") == 2  # each escrow still holds its deposit

    resolved = client.get(QUEUE, {"status": "resolved"}).content.decode()
    assert page_of(closed) in resolved and page_of(first) not in resolved
    assert "Release to the musician" in resolved and "Sam Staff" in resolved
    assert "₹0.00" in resolved  # released: the escrow is empty

    everything = client.get(QUEUE, {"status": "all"}).content.decode()
    assert all(page_of(d) in everything for d in (first, second, closed))


def test_the_queue_costs_the_same_queries_for_many_disputes(django_assert_max_num_queries):
    _, client = staff_client()

    def disputes(count):
        for _ in range(count):
            order = OrderFactory(status=S.DISPUTED)
            Dispute.objects.create(order=order, opened_by=order.customer, reason="Wrong song.")

    disputes(1)
    client.get(QUEUE)
    reset_queries()  # a full query log would make the counts below empty
    with django_assert_max_num_queries(20) as few:
        assert client.get(QUEUE).status_code == 200
    budget = len(few.captured_queries)  # before the log is reset
    disputes(6)
    reset_queries()
    with django_assert_max_num_queries(budget):
        body = client.get(QUEUE).content.decode()
    assert body.count("/admin/disputes/inspect/") >= 7


def test_the_dispute_page_shows_the_evidence_and_what_the_escrow_holds(
    django_capture_on_commit_callbacks,
):
    _, client = staff_client()
    dispute = open_dispute(django_capture_on_commit_callbacks, reason="She asked for a ballad.")
    order = dispute.order
    draft_of(order, number=1)
    message = ChatMessage.objects.create(
        order=order, sender=order.customer, client_msg_id=uuid.uuid4(), body="Slow, please."
    )
    ChatAttachment.objects.create(
        order=order,
        uploader=order.customer,
        message=message,
        kind="pdf",
        file="chat/brief.pdf",
        name="brief.pdf",
        content_type="application/pdf",
        size=2048,
    )
    services.dispute_evidence_add(
        order=order,
        actor=order.musician,
        text="I followed the brief to the letter.",
        versions=[1],
        messages=[message.pk],
    )

    body = client.get(page_of(dispute)).content.decode()

    assert "She asked for a ballad." in body
    assert "I followed the brief to the letter." in body and "(musician)" in body
    assert f"/orders/{order.pk}/versions/1/preview/" in body
    assert "Slow, please." in body and "brief.pdf" in body
    assert "₹1,000.01" in body  # the deposit, held in escrow


# --- resolving ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("decision", "amount", "status", "refunded", "released"),
    [
        ("full_refund", "", S.REFUNDED, DEPOSIT, 0),
        ("partial_refund", "400.00", S.REFUNDED, 40_000, DEPOSIT - 40_000),
        ("release", "", S.COMPLETED, 0, DEPOSIT),
        ("continue", "", S.IN_PROGRESS, 0, 0),
    ],
)
def test_each_resolution_moves_the_order_the_payments_and_the_ledger_together(
    decision, amount, status, refunded, released, django_capture_on_commit_callbacks
):
    staff, client = staff_client()
    dispute = open_dispute(django_capture_on_commit_callbacks)
    order = dispute.order
    assert ledger(order)["escrow"] == DEPOSIT

    response = post_resolution(
        client,
        dispute,
        django_capture_on_commit_callbacks,
        decision=decision,
        refund_amount=amount,
        note="Decided on the evidence.",
    )

    assert response.status_code == 302 and response["Location"] == page_of(dispute)
    order.refresh_from_db()
    dispute.refresh_from_db()
    assert order.status == status
    assert (dispute.status, dispute.resolved_by) == (DisputeStatus.RESOLVED, staff)
    assert (dispute.refunded_amount, dispute.released_amount) == (refunded, released)
    assert dispute.resolution_note == "Decided on the evidence."
    money = ledger(order)
    if decision == "continue":
        assert money["escrow"] == DEPOSIT and not Refund.objects.exists()
    else:
        assert money["escrow"] == 0
        assert refunded + released == DEPOSIT
    assert money["refunded"] == refunded
    assert money["musician"] == released - fee(released)
    assert money["platform"] == fee(released)
    assert ledger_balances()
    deposit = Payment.objects.get(purpose="order_deposit", reference=str(order.pk))
    assert deposit.amount_refunded == refunded
    assert deposit.status == {
        0: PaymentStatus.CAPTURED,
        DEPOSIT: PaymentStatus.REFUNDED,
    }.get(refunded, PaymentStatus.PARTIALLY_REFUNDED)
    # Both sides are told, and Wagtail's log says who decided what.
    assert told(dispute, order.customer) and told(dispute, order.musician)
    [entry] = ModelLogEntry.objects.filter(action="encore.dispute.resolve")
    assert (entry.user_id, entry.object_id) == (staff.pk, str(dispute.pk))
    assert entry.data["decision"] == decision
    assert (entry.data["refunded"], entry.data["released"]) == (refunded, released)
    # The page after says how it ended; the history lists the readable log line.
    page = client.get(page_of(dispute)).content.decode()
    assert "Dispute resolved:" in page
    history = client.get(f"/admin/disputes/history/{dispute.pk}/").content.decode()
    assert "Dispute resolved:" in history
    # The customer's order page says how the money went: a split is not called a refund.
    customer = Client()
    customer.force_login(order.customer)
    said = customer.get(f"/orders/{order.pk}/").content.decode()
    if decision == "partial_refund":
        assert 'data-testid="closed-split"' in said and "₹400.00 refunded" in said
    elif decision == "full_refund":
        assert "closed with a refund of ₹" in said and "closed-split" not in said


def test_a_split_across_deposit_and_balance_refunds_the_balance_first(
    django_capture_on_commit_callbacks,
):
    from tests.orders.factories import balance_paid

    _, client = staff_client()
    order = paid_order(django_capture_on_commit_callbacks, status=S.DELIVERED)
    checkout = services.order_balance_checkout(order=order, actor=order.customer)
    # The balance is paid while the dispute is open: the escrow holds the whole price.
    order = disputed(order)
    balance_paid(order, django_capture_on_commit_callbacks, checkout=checkout)
    dispute = order.disputes.get()
    held = ledger(order)["escrow"]
    assert held == order.price

    response = post_resolution(
        client,
        dispute,
        django_capture_on_commit_callbacks,
        decision="partial_refund",
        refund_amount="1,500.00",
    )

    assert response.status_code == 302
    money = ledger(order)
    assert money["escrow"] == 0 and money["refunded"] == 150_000
    assert money["musician"] + money["platform"] == held - 150_000
    balance = Payment.objects.get(purpose="order_balance", reference=str(order.pk))
    deposit = Payment.objects.get(purpose="order_deposit", reference=str(order.pk))
    assert balance.amount_refunded == balance.amount
    assert deposit.amount_refunded == 150_000 - balance.amount
    assert ledger_balances()


@pytest.mark.parametrize(
    ("data", "field_error"),
    [
        ({"decision": "partial_refund", "refund_amount": ""}, "Enter the amount to refund"),
        ({"decision": "partial_refund", "refund_amount": "ten"}, "Enter the amount to refund"),
        ({"decision": "partial_refund", "refund_amount": "1000.01"}, "less than the ₹1,000.01"),
        ({"decision": "partial_refund", "refund_amount": "0"}, "more than nothing"),
        ({"decision": "partial_refund", "refund_amount": "12.345"}, "Enter the amount"),
        ({"decision": "release", "refund_amount": "5"}, "Only a partial refund has an amount"),
        ({"decision": "split"}, "Select a valid choice"),
        ({}, "This field is required"),
    ],
)
def test_bad_input_is_a_form_error_and_moves_nothing(
    data, field_error, django_capture_on_commit_callbacks
):
    _, client = staff_client()
    dispute = open_dispute(django_capture_on_commit_callbacks)

    response = post_resolution(client, dispute, django_capture_on_commit_callbacks, **data)

    assert response.status_code == 400
    assert field_error in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN and dispute.order.status == S.DISPUTED
    assert ledger(dispute.order)["escrow"] == DEPOSIT and not Refund.objects.exists()
    assert not ModelLogEntry.objects.filter(action="encore.dispute.resolve").exists()


def test_a_dispute_resolved_meanwhile_is_a_clear_conflict(django_capture_on_commit_callbacks):
    _, client = staff_client()
    dispute = open_dispute(django_capture_on_commit_callbacks)
    # Another member of staff resolves it first, from another tab.
    with django_capture_on_commit_callbacks(execute=True):
        services.dispute_resolve(order=dispute.order, staff=StaffFactory(), outcome="continue")

    response = post_resolution(
        client, dispute, django_capture_on_commit_callbacks, decision="full_refund"
    )

    assert response.status_code == 409
    assert "cannot resolve dispute" in response.content.decode()
    dispute.order.refresh_from_db()
    assert dispute.order.status == S.IN_PROGRESS and not Refund.objects.exists()


@pytest.mark.parametrize("side", ["customer", "musician"])
def test_staff_who_are_a_party_cannot_resolve_their_own_orders_dispute(
    side, django_capture_on_commit_callbacks
):
    dispute = open_dispute(django_capture_on_commit_callbacks)
    party = getattr(dispute.order, side)
    type(party).objects.filter(pk=party.pk).update(is_staff=True, is_superuser=True)
    party.refresh_from_db()
    client = logged_in(party)

    page = client.get(page_of(dispute)).content.decode()
    assert "another member of staff resolves" in page and "resolve-form" not in page

    response = post_resolution(
        client, dispute, django_capture_on_commit_callbacks, decision="full_refund"
    )

    assert response.status_code == 403
    assert "resolved by other staff" in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN
    assert ledger(dispute.order)["escrow"] == DEPOSIT and not Refund.objects.exists()


@pytest.mark.parametrize("who", ["customer", "musician"])
def test_non_staff_see_no_dispute_and_resolve_nothing(who, django_capture_on_commit_callbacks):
    dispute = open_dispute(django_capture_on_commit_callbacks)
    client = logged_in(non_staff_people()[who])

    assert_refused(client.get(QUEUE), text=dispute.reason)
    assert_refused(client.get(page_of(dispute)), text=dispute.reason)
    assert_refused(
        post_resolution(client, dispute, django_capture_on_commit_callbacks, decision="release")
    )

    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.OPEN
    assert ledger(dispute.order)["escrow"] == DEPOSIT
