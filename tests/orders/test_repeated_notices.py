"""Every notification about an order is keyed by its occurrence (the OrderEvent it tells of),
so what happens again reaches people again: a second approval after a dispute, a re-delivery
with its balance due, a second dispute, a second revision request, another decline, another
wait for a musician. The same occurrence never goes out twice."""

import pytest

from notifications.models import Delivery as Notice
from orders import notices, services
from orders.models import OrderStatus
from tests.factories import MusicianFactory, StaffFactory
from tests.orders.factories import MusicianProfileFactory, OrderFactory, PackageFactory

pytestmark = pytest.mark.django_db
S = OrderStatus


def told(event: str, person) -> int:
    """How many times `person` was told of `event` (occurrences, whatever the channels)."""
    return (
        Notice.objects.filter(event=event, recipient=person).values("event_key").distinct().count()
    )


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """``with run():`` commits what the block did and sends its notifications."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def dispute_then_continue(order, run, *, by=None):
    with run():
        services.order_open_dispute(
            order=order, actor=by or order.customer, reason="This is not what we agreed."
        )
        services.dispute_resolve(order=order, staff=StaffFactory(), outcome="continue")
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS


def test_a_second_approval_after_a_dispute_reaches_the_musician(run):
    order = OrderFactory(status=S.IN_REVIEW)
    with run():
        services.order_approve(order=order, customer=order.customer)
    dispute_then_continue(order, run, by=order.musician)
    with run():
        services.order_submit_draft(order=order, musician=order.musician)
        services.order_approve(order=order, customer=order.customer)
    assert told("order.draft_approved", order.musician) == 2
    assert told("order.draft_ready", order.customer) == 1  # the factory's first was never sent


def test_a_re_delivery_tells_the_customer_the_balance_is_due_again(run):
    order = OrderFactory(status=S.APPROVED)
    with run():
        services.order_deliver(order=order, musician=order.musician)
    dispute_then_continue(order, run)
    with run():
        services.order_submit_draft(order=order, musician=order.musician)
        services.order_approve(order=order, customer=order.customer)
        services.order_deliver(order=order, musician=order.musician)
    assert told("order.delivered", order.customer) == 2
    assert told("order.draft_approved", order.musician) == 1


def test_a_second_dispute_reaches_both_sides_and_each_resolution_too(run):
    order = OrderFactory(status=S.IN_PROGRESS)
    dispute_then_continue(order, run)
    dispute_then_continue(order, run, by=order.musician)
    for person in (order.customer, order.musician):
        assert told("order.dispute_opened", person) == 2
        assert told("order.dispute_resolved", person) == 2


def test_each_revision_request_and_each_draft_reaches_the_other_side(run):
    order = OrderFactory(status=S.IN_REVIEW, revisions_included=2)
    for _ in range(2):
        with run():
            services.order_request_revision(
                order=order, customer=order.customer, feedback="Slower, please."
            )
            services.order_submit_draft(order=order, musician=order.musician)
    # Beyond the included ones: asked, declined, asked again, granted.
    for accept in (False, True):
        with run():
            services.order_request_revision(
                order=order, customer=order.customer, feedback="One more change."
            )
            services.revision_consent(order=order, musician=order.musician, accept=accept)
    assert told("order.revision_requested", order.musician) == 4
    assert told("order.draft_ready", order.customer) == 2
    assert told("order.revision_consent", order.customer) == 2


def test_each_decline_and_each_offer_reach_their_people(run):
    customer_order = OrderFactory(status=S.MATCHING, musician=None, match=True, price=300_000)
    first, second, third = (MusicianFactory() for _ in range(3))
    for rank, musician in enumerate((first, second, third)):
        MusicianProfileFactory(musician=musician, styles=["pop"] if rank else ["acoustic pop"])
        PackageFactory(musician=musician, price=100_000 + rank)
    customer_order.genre = "acoustic pop"
    customer_order.save()
    with run():
        services.orders_rematch()
    customer_order.refresh_from_db()
    assert customer_order.musician == first
    with run():
        services.order_decline(order=customer_order, musician=first, reason="Busy")
    customer_order.refresh_from_db()
    with run():
        services.order_decline(order=customer_order, musician=customer_order.musician, reason="No")
    assert told("order.offer_declined", customer_order.customer) == 2
    assert [told("order.offer", m) for m in (first, second, third)] == [1, 1, 1]


def test_waiting_again_for_a_musician_is_told_again(run):
    order = OrderFactory(status=S.MATCHING, musician=None, match=True, price=300_000)
    with run():
        services.orders_rematch()  # nobody offers a package: the customer is told once
        services.orders_rematch()
    assert told("order.unmatched", order.customer) == 1
    musician = MusicianFactory()
    PackageFactory(musician=musician, price=100_000)
    with run():
        services.orders_rematch()
    order.refresh_from_db()
    with run():
        services.order_decline(order=order, musician=musician, reason="Not for me")
    assert told("order.unmatched", order.customer) == 2


def test_the_same_occurrence_is_sent_once(run):
    order = OrderFactory(status=S.IN_REVIEW)
    with run():
        services.order_approve(order=order, customer=order.customer)
    approved = order.events.get(name="approve")
    with run():  # a retried caller of the same occurrence
        notices.schedule(
            "order.draft_approved",
            recipient=order.musician,
            order=order,
            occurrence=approved,
            customer_name="Asha",
        )
    assert told("order.draft_approved", order.musician) == 1
    assert Notice.objects.filter(event="order.draft_approved").first().event_key == (
        f"order:{order.pk}:{approved.pk}:order.draft_approved"
    )
