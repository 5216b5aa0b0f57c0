"""orders.services: placing an order (validation, the package snapshot, the deposit) and one
service per transition (rights, the event, the notifications)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Payment, PaymentStatus
from notifications.models import Delivery
from orders import services
from orders.errors import Conflict, Forbidden, Invalid, TransitionConflict
from orders.models import (
    Dispute,
    DisputeStatus,
    OfferStatus,
    Order,
    OrderEvent,
    OrderStatus,
    RevisionRequest,
    RevisionStatus,
)
from tests.factories import MusicianFactory, StaffFactory, UserFactory
from tests.orders.factories import OrderFactory, PackageFactory, service_brief

pytestmark = pytest.mark.django_db
S = OrderStatus


def notified(event: str, person) -> bool:
    return Delivery.objects.filter(event=event, recipient=person).exists()


# --- placing --------------------------------------------------------------------------------


def test_placing_with_a_package_snapshots_its_terms_and_creates_the_deposit(
    user, django_capture_on_commit_callbacks
):
    package = PackageFactory(price=200_001, revisions_included=3, delivery_days=10)
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_place(customer=user, package=package, **service_brief())

    assert order.status == S.PLACED
    assert (order.musician, order.price, order.currency) == (package.musician, 200_001, "INR")
    assert (order.revisions_included, order.delivery_days) == (3, 10)
    assert order.references == ["https://example.com/song"]
    payment = Payment.objects.get(reference=str(order.pk))
    assert (payment.purpose, payment.amount, payment.status) == (
        "order_deposit",
        100_001,
        PaymentStatus.CREATED,
    )
    assert list(order.events.values_list("name", flat=True)) == ["place"]
    assert notified("order.placed", user)

    package.price = 999_999
    package.save()
    order.refresh_from_db()
    assert order.price == 200_001  # the terms were copied, not referenced


def test_asking_to_be_matched_takes_the_budget_as_the_price(user):
    order = services.order_place(customer=user, match=True, **service_brief(budget=150_000))
    assert (order.musician, order.price, order.match) == (None, 150_000, True)
    assert Payment.objects.get(reference=str(order.pk)).amount == 75_000


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"occasion_date": timezone.now().date() + timedelta(days=3)}, "occasion_date"),
        ({"budget": 100}, "budget"),
        ({"occasion": "funeral"}, "occasion"),
        ({"recipient_name": "  "}, "recipient_name"),
        ({"story": "Too short"}, "story"),
        ({"story": "x" * 5001}, "story"),
        ({"lyrics_choice": "customer", "lyrics": ""}, "lyrics"),
        ({"lyrics_choice": "instrumental", "lyrics": "La la la"}, "lyrics"),
        ({"references": ["ftp://example.com/a"]}, "references"),
        ({"references": [f"https://example.com/{n}" for n in range(11)]}, "references"),
    ],
)
def test_a_brief_that_does_not_hold_up_is_refused_with_the_field(user, overrides, field):
    package = PackageFactory(delivery_days=7)
    with pytest.raises(Invalid) as refused:
        services.order_place(customer=user, package=package, **service_brief(**overrides))
    assert refused.value.field == field
    assert not Order.objects.exists() and not Payment.objects.exists()


def test_the_occasion_date_must_leave_the_delivery_days(user):
    package = PackageFactory(delivery_days=7)
    too_soon = timezone.now().date() + timedelta(days=6)
    with pytest.raises(Invalid, match="at the earliest") as refused:
        services.order_place(
            customer=user, package=package, **service_brief(occasion_date=too_soon)
        )
    assert refused.value.code == "occasion_too_soon"
    just_in_time = timezone.now().date() + timedelta(days=7)
    services.order_place(
        customer=user, package=package, **service_brief(occasion_date=just_in_time)
    )


def test_a_package_or_match_but_not_both_nor_neither(user):
    with pytest.raises(Invalid):
        services.order_place(customer=user, **service_brief())
    with pytest.raises(Invalid):
        services.order_place(customer=user, package=PackageFactory(), match=True, **service_brief())
    with pytest.raises(Invalid, match="budget"):
        services.order_place(customer=user, match=True, **service_brief())


def test_an_inactive_package_a_wrong_occasion_or_ones_own_package_is_refused(user):
    with pytest.raises(Invalid, match="no longer offered"):
        services.order_place(customer=user, package=PackageFactory(active=False), **service_brief())
    with pytest.raises(Invalid, match="occasion"):
        services.order_place(
            customer=user, package=PackageFactory(occasions=["wedding"]), **service_brief()
        )
    musician = MusicianFactory()
    with pytest.raises(Invalid, match="yourself"):
        services.order_place(
            customer=musician, package=PackageFactory(musician=musician), **service_brief()
        )


# --- packages -------------------------------------------------------------------------------


def test_only_musicians_offer_packages_and_only_the_owner_changes_them(user, musician):
    with pytest.raises(Forbidden):
        services.package_create(musician=user, name="x", price=100, delivery_days=3)
    package = services.package_create(
        musician=musician, name="Song", price=100, delivery_days=3, occasions=["wedding"]
    )
    assert package.currency == "INR"
    with pytest.raises(Forbidden):
        services.package_update(package=package, actor=MusicianFactory(), price=5)
    with pytest.raises(Invalid):
        services.package_update(package=package, actor=musician, occasions=["funeral"])
    services.package_deactivate(package=package, actor=musician)
    package.refresh_from_db()
    assert package.active is False


# --- transitions ----------------------------------------------------------------------------


def test_the_offered_musician_accepts_and_the_customer_hears_of_it(
    django_capture_on_commit_callbacks,
):
    order = OrderFactory(status=S.MATCHING)
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_accept(order=order, musician=order.musician)
    assert (order.status, order.stage) == (S.IN_PROGRESS, "consultation")
    assert order.accepted_at is not None
    event = OrderEvent.objects.get(order=order)
    assert (event.name, event.actor, event.from_status, event.to_status) == (
        "accept",
        order.musician,
        S.MATCHING,
        S.IN_PROGRESS,
    )
    assert notified("order.offer_accepted", order.customer)
    offer = order.offers.get()
    assert offer.status == OfferStatus.ACCEPTED and offer.responded_at is not None


def test_only_the_offered_musician_may_accept_or_decline():
    order = OrderFactory(status=S.MATCHING)
    for person in (MusicianFactory(), order.customer):
        with pytest.raises(Forbidden):
            services.order_accept(order=order, musician=person)
        with pytest.raises(Forbidden):
            services.order_decline(order=order, musician=person)
    unassigned = OrderFactory(status=S.MATCHING, musician=None)
    with pytest.raises(Forbidden):
        services.order_accept(order=unassigned, musician=MusicianFactory())
    # Being the order's musician is not enough: the order must be offered to them.
    never_offered = OrderFactory(status=S.MATCHING, offer=False)
    with pytest.raises(Forbidden, match="not offered to you"):
        services.order_accept(order=never_offered, musician=never_offered.musician)
    assert not OrderEvent.objects.exists()
    assert order.offers.get().status == OfferStatus.PENDING


def test_a_decline_keeps_the_order_matching_with_the_reason(django_capture_on_commit_callbacks):
    order = OrderFactory(status=S.MATCHING)
    musician = order.musician
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_decline(order=order, musician=musician, reason="Fully booked")
    assert (order.status, order.musician) == (S.MATCHING, None)
    offer = order.offers.get()
    assert (offer.status, offer.reason) == (OfferStatus.DECLINED, "Fully booked")
    # Nobody else offers a package: the order waits, and its timeline says so.
    assert [(e.name, e.actor, e.note) for e in order.events.all()] == [
        ("decline", musician, "Fully booked"),
        ("no_candidate", None, "No musician is free for this order yet; we keep looking."),
    ]
    assert notified("order.offer_declined", order.customer)
    # A second answer (a retried request) finds the offer closed: a conflict, not a 403.
    with pytest.raises(Conflict) as twice:
        services.order_decline(order=order, musician=musician, reason="Twice")
    assert (twice.value.status, twice.value.code) == (409, "offer_closed")


def test_the_musician_advances_the_stages_and_the_customer_follows(
    django_capture_on_commit_callbacks,
):
    order = OrderFactory(status=S.IN_PROGRESS)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            order = services.order_advance_stage(order=order, musician=order.musician)
    assert order.stage == "production"
    assert list(order.events.values_list("stage", flat=True)) == [
        "composition",
        "recording",
        "production",
    ]
    assert Delivery.objects.filter(event="order.stage_changed").count() >= 3
    with pytest.raises(TransitionConflict) as conflict:
        services.order_advance_stage(order=order, musician=order.musician)
    assert conflict.value.allowed == ["open_dispute", "submit_draft"]


def test_a_draft_a_revision_another_draft_and_approval(django_capture_on_commit_callbacks):
    order = OrderFactory(status=S.IN_PROGRESS, revisions_included=1)
    musician, customer = order.musician, order.customer
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_submit_draft(order=order, musician=musician)
        request = services.order_request_revision(
            order=order, customer=customer, feedback="Slower, please"
        )
        order = services.order_submit_draft(order=order, musician=musician)
    assert isinstance(request, RevisionRequest)
    assert (request.status, request.included, request.feedback) == (
        RevisionStatus.GRANTED,
        True,
        "Slower, please",
    )
    assert order.status == S.IN_REVIEW and order.revisions_used == 1
    assert notified("order.draft_ready", customer)
    assert notified("order.revision_requested", musician)

    # Beyond the included revisions the request waits for the musician; the draft stays in
    # review and a second request cannot pile up behind it.
    extra = services.order_request_revision(order=order, customer=customer, feedback="Again")
    assert (extra.status, extra.included) == (RevisionStatus.PENDING, False)
    assert Order.objects.get(pk=order.pk).status == S.IN_REVIEW
    with pytest.raises(Conflict) as waiting:
        services.order_request_revision(order=order, customer=customer, feedback="And again")
    assert waiting.value.code == "revision_pending"
    with pytest.raises(Forbidden):
        services.order_approve(order=order, customer=musician)
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_approve(order=order, customer=customer)
    assert order.status == S.APPROVED
    extra.refresh_from_db()
    assert extra.status == RevisionStatus.DECLINED  # approving withdrew the extra request
    assert notified("order.draft_approved", musician)
    assert list(order.events.values_list("name", flat=True)) == [
        "submit_draft",
        "request_revision",
        "submit_draft",
        "extra_revision_requested",
        "approve",
    ]


def test_the_musician_consents_to_an_extra_revision_or_declines_it(
    django_capture_on_commit_callbacks,
):
    order = OrderFactory(status=S.IN_REVIEW, revisions_included=0)
    musician, customer = order.musician, order.customer
    first = services.order_request_revision(order=order, customer=customer, feedback="Slower")
    with pytest.raises(Forbidden):
        services.revision_consent(order=order, musician=customer, accept=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.revision_consent(order=order, musician=musician, accept=True, note="Sure")
    first.refresh_from_db()
    order.refresh_from_db()
    assert first.status == RevisionStatus.GRANTED
    assert (order.status, order.revisions_used) == (S.REVISION_REQUESTED, 1)
    assert notified("order.revision_consent", customer)

    order = services.order_submit_draft(order=order, musician=musician)
    second = services.order_request_revision(order=order, customer=customer, feedback="Faster")
    services.revision_consent(order=order, musician=musician, accept=False, note="No more")
    second.refresh_from_db()
    order.refresh_from_db()
    assert (second.status, second.response_note) == (RevisionStatus.DECLINED, "No more")
    assert (order.status, order.revisions_used) == (S.IN_REVIEW, 1)
    with pytest.raises(Conflict) as nothing:
        services.revision_consent(order=order, musician=musician, accept=True)
    assert nothing.value.code == "no_revision_pending"


def test_a_revision_needs_feedback():
    order = OrderFactory(status=S.IN_REVIEW)
    with pytest.raises(Invalid):
        services.order_request_revision(order=order, customer=order.customer, feedback=" ")


@pytest.mark.parametrize("status", [S.PLACED, S.MATCHING])
def test_the_customer_or_staff_cancels_before_acceptance(status):
    order = OrderFactory(status=status)
    order = services.order_cancel(order=order, actor=order.customer, reason="Plans changed")
    assert order.status == S.CANCELLED and order.closed_at is not None
    other = OrderFactory(status=status)
    assert services.order_cancel(order=other, actor=StaffFactory()).status == S.CANCELLED
    third = OrderFactory(status=status)
    with pytest.raises(Forbidden):
        services.order_cancel(order=third, actor=third.musician)


@pytest.mark.parametrize(
    "status", [S.IN_PROGRESS, S.APPROVED, S.COMPLETED, S.CANCELLED, S.DISPUTED]
)
def test_cancelling_after_acceptance_is_a_conflict_listing_what_is_allowed(status):
    order = OrderFactory(status=status)
    with pytest.raises(TransitionConflict) as conflict:
        services.order_cancel(order=order, actor=order.customer)
    assert conflict.value.status == 409
    assert (
        conflict.value.allowed
        == {
            S.IN_PROGRESS: ["open_dispute"],
            S.APPROVED: ["open_dispute"],
            S.COMPLETED: ["review"],
            S.CANCELLED: [],
            S.DISPUTED: [],
        }[status]
    )
    assert Order.objects.get(pk=order.pk).status == status


@pytest.mark.parametrize(
    "status", [S.IN_PROGRESS, S.IN_REVIEW, S.REVISION_REQUESTED, S.APPROVED, S.DELIVERED]
)
def test_either_side_opens_a_dispute_with_a_reason(status, django_capture_on_commit_callbacks):
    order = OrderFactory(status=status)
    with pytest.raises(Invalid):
        services.order_open_dispute(order=order, actor=order.customer, reason="bad")
    with pytest.raises(Forbidden):
        services.order_open_dispute(order=order, actor=UserFactory(), reason="Nothing arrived.")
    actor = order.musician if status == S.DELIVERED else order.customer
    with django_capture_on_commit_callbacks(execute=True):
        dispute = services.order_open_dispute(
            order=order, actor=actor, reason="The draft is not what we agreed."
        )
    assert isinstance(dispute, Dispute)
    assert (dispute.status, dispute.opened_by, dispute.outcome) == (DisputeStatus.OPEN, actor, "")
    assert Order.objects.get(pk=order.pk).status == S.DISPUTED
    assert dispute.evidence.get().text == "The draft is not what we agreed."
    assert notified("order.dispute_opened", order.customer)
    assert notified("order.dispute_opened", order.musician)


def test_no_dispute_before_the_work_starts_or_after_it_ends():
    for status in (S.PLACED, S.MATCHING, S.COMPLETED, S.CANCELLED, S.REFUNDED):
        order = OrderFactory(status=status)
        with pytest.raises(TransitionConflict):
            services.order_open_dispute(
                order=order, actor=order.customer, reason="Something went wrong."
            )
