"""The dashboard: offers waiting (with the time left to answer), accepting and declining them
through orders' services, the work in hand by stage with late orders flagged, and the money."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Payout, PayoutStatus, TransactionKind
from billing.services.ledger import Leg, external_code, ledger_post, payable_code
from orders.models import OfferStatus, Order, OrderEvent, OrderStatus
from tests.orders.factories import OrderFactory, PackageFactory, offered_to
from tests.studio.conftest import client_for

pytestmark = pytest.mark.django_db

S = OrderStatus


def test_an_offer_waiting_shows_its_terms_and_a_countdown_to_its_expiry(studio, musician):
    order = OrderFactory(musician=musician, status=S.MATCHING, genre="acoustic pop")
    offer = order.offers.get()
    body = studio.get("/studio/").content.decode()
    card = re.search(rf'data-testid="offer-{order.pk}".*?</li>', body, re.S).group(0)
    assert "Birthday song for Asha" in card
    assert "₹2,000.01" in card and "7 days to deliver" in card
    # The script ticks down from the expiry the server wrote.
    assert f'data-countdown="{offer.expires_at.isoformat()}"' in card
    assert re.search(r"data-countdown=[^>]*>\s*1\xa0day", card)
    assert 'data-testid="offer-accept"' in card and 'data-testid="offer-decline"' in card


def test_a_matched_offer_shows_the_package_it_is_offered_at_not_the_budget(studio, musician):
    """The customer's budget is a ceiling; the musician reads the price of their own package,
    as on the order page (orders.selectors.order_terms_for)."""
    package = PackageFactory(musician=musician, name="Quick song", price=150_000)
    order = OrderFactory(musician=musician, status=S.MATCHING, match=True, price=300_000)
    order.offers.update(package=package, price=150_000, delivery_days=5, revisions_included=1)
    body = studio.get("/studio/").content.decode()
    assert "₹1,500.00 · 5 days to deliver · 1 revision · Quick song" in body
    assert "₹3,000.00" not in body


def test_offers_expired_answered_or_made_to_others_are_not_shown(studio, musician, other_musician):
    expired = OrderFactory(musician=musician, status=S.MATCHING, recipient_name="Expired")
    expired.offers.update(expires_at=timezone.now() - timedelta(minutes=1))
    OrderFactory(musician=other_musician, status=S.MATCHING, recipient_name="Elsewhere")
    accepted = OrderFactory(musician=musician, status=S.IN_PROGRESS, recipient_name="Taken")
    body = studio.get("/studio/").content.decode()
    assert "Expired" not in body and "Elsewhere" not in body
    assert "No offers right now" in body
    assert f"work-{accepted.pk}" in body


def test_accepting_an_offer_opens_its_workspace_in_progress(studio, musician):
    order = OrderFactory(musician=musician, status=S.MATCHING)
    response = studio.post(f"/studio/offers/{order.pk}/accept/")
    assert response.status_code == 302
    assert response["Location"] == f"/studio/orders/{order.pk}/"
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS and order.stage == "consultation"
    assert order.accepted_at is not None
    assert order.offers.get().status == OfferStatus.ACCEPTED
    assert OrderEvent.objects.filter(order=order, name="accept", actor=musician).exists()
    page = studio.get(response["Location"])
    assert "You accepted the order" in page.content.decode()


def test_declining_an_offer_records_why_and_moves_the_order_on(studio, musician):
    order = OrderFactory(musician=musician, status=S.MATCHING)
    response = studio.post(f"/studio/offers/{order.pk}/decline/", {"reason": "Away that week"})
    assert response.status_code == 302 and response["Location"] == "/studio/"
    offer = order.offers.get(musician=musician)
    assert offer.status == OfferStatus.DECLINED and offer.reason == "Away that week"
    order.refresh_from_db()
    assert order.musician_id != musician.pk  # no other candidate: nobody is offered it
    assert "You declined the order" in studio.get("/studio/").content.decode()


def test_answering_an_offer_that_expired_meanwhile_is_a_conflict_and_changes_nothing(
    studio, musician
):
    order = OrderFactory(musician=musician, status=S.MATCHING)
    order.offers.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = studio.post(f"/studio/offers/{order.pk}/accept/")
    assert response.status_code == 409
    assert "This offer has expired." in response.content.decode()
    order.refresh_from_db()
    assert order.status == S.MATCHING and order.accepted_at is None


def test_accepting_twice_is_a_conflict_the_second_time(studio, musician):
    order = OrderFactory(musician=musician, status=S.MATCHING)
    assert studio.post(f"/studio/offers/{order.pk}/accept/").status_code == 302
    again = studio.post(f"/studio/offers/{order.pk}/accept/")
    assert again.status_code == 409
    assert Order.objects.get(pk=order.pk).status == S.IN_PROGRESS


def test_a_decline_reason_too_long_or_with_a_nul_is_refused_and_the_offer_stays(studio, musician):
    order = OrderFactory(musician=musician, status=S.MATCHING)
    assert (
        studio.post(f"/studio/offers/{order.pk}/decline/", {"reason": "x" * 1001}).status_code
        == 400
    )
    assert (
        studio.post(f"/studio/offers/{order.pk}/decline/", {"reason": "a\x00b"}).status_code == 400
    )
    assert order.offers.get().status == OfferStatus.PENDING


def test_answers_are_posts_only(studio, musician):
    order = OrderFactory(musician=musician, status=S.MATCHING)
    assert studio.get(f"/studio/offers/{order.pk}/accept/").status_code == 405


def test_work_is_grouped_by_stage_and_status_with_late_orders_flagged(studio, musician):
    now = timezone.now()
    late = OrderFactory(
        musician=musician,
        status=S.IN_PROGRESS,
        stage="composition",
        accepted_at=now - timedelta(days=10),
        delivery_days=7,
        recipient_name="Late one",
    )
    on_time = OrderFactory(
        musician=musician,
        status=S.IN_PROGRESS,
        stage="recording",
        accepted_at=now - timedelta(days=1),
        delivery_days=7,
    )
    # Past due while the customer is reviewing: the next move is not the musician's.
    reviewing = OrderFactory(
        musician=musician,
        status=S.IN_REVIEW,
        accepted_at=now - timedelta(days=10),
        delivery_days=7,
    )
    finished = OrderFactory(musician=musician, status=S.COMPLETED, recipient_name="Finished")
    body = studio.get("/studio/").content.decode()

    def group(key):
        return re.search(rf'data-testid="stage-{key}".*?</section>', body, re.S).group(0)

    assert f"work-{late.pk}" in group("composition")
    assert 'data-testid="late"' in group("composition")
    assert f"work-{on_time.pk}" in group("recording")
    assert "late" not in group("recording").replace("studio-late", "")
    assert f"work-{reviewing.pk}" in group("in_review")
    assert 'data-testid="late"' not in group("in_review")
    assert 'data-testid="stage-consultation"' not in body  # empty groups are left out
    assert f"work-{finished.pk}" not in body
    assert re.search(r'data-testid="late-count">1 late<', body)
    due = (on_time.accepted_at + timedelta(days=7)).strftime("%-d %b %Y")
    assert f"Due {due}" in group("recording")


def _capture(order, amount):
    ledger_post(
        kind=TransactionKind.CAPTURE,
        idempotency_key=f"test:capture:{order.pk}",
        legs=[
            Leg(external_code("sandbox", "payments"), order.currency, -amount),
            Leg(f"escrow:order:{order.pk}", order.currency, amount),
        ],
    )


def test_earnings_show_escrow_of_open_orders_and_the_payout_figures(studio, musician):
    open_order = OrderFactory(musician=musician, status=S.IN_PROGRESS)
    _capture(open_order, 100_001)
    offered = OrderFactory(musician=musician, status=S.MATCHING)  # not theirs until accepted
    _capture(offered, 50_000)
    theirs = OrderFactory(status=S.IN_PROGRESS)
    _capture(theirs, 70_000)
    # A release long ago (past the hold) and one today (on hold) reached the payable.
    for key, amount, days in (("old", 30_000, 30), ("new", 12_000, 0)):
        posted, _ = ledger_post(
            kind=TransactionKind.RELEASE,
            idempotency_key=f"test:release:{key}",
            legs=[
                Leg(external_code("sandbox", "payments"), "INR", -amount),
                Leg(payable_code(musician.pk), "INR", amount, owner_id=musician.pk),
            ],
        )
        type(posted).objects.filter(pk=posted.pk).update(
            created_at=timezone.now() - timedelta(days=days)
        )
    Payout.objects.create(
        musician=musician,
        amount=8_000,
        currency="INR",
        status=PayoutStatus.PAID,
        provider="sandbox",
        idempotency_key="payout:test",
    )
    body = studio.get("/studio/").content.decode()
    figures = re.search(r'data-testid="earnings-INR".*?</dl>', body, re.S).group(0)

    def figure(name):
        return re.search(rf'data-figure="{name}">([^<]*)<', figures).group(1)

    assert figure("in_escrow") == "₹1,000.01"
    assert figure("payable") == "₹420.00"
    assert figure("on_hold") == "₹120.00"
    assert figure("paid_out") == "₹80.00"


def test_a_musician_with_nothing_yet_sees_where_things_will_show(studio):
    body = studio.get("/studio/").content.decode()
    assert "No offers right now" in body
    assert "Nothing in progress" in body
    assert "Nothing yet: what customers pay" in body
    assert "Available now" in body


def test_a_paused_musician_is_told_why_no_offers_come(studio, musician):
    from orders.services import musician_profile_update

    musician_profile_update(musician=musician, accepting_orders=False)
    body = studio.get("/studio/").content.decode()
    assert "Paused: not taking new commissions: no new offers reach you" in body


def test_the_dashboard_reads_in_a_fixed_number_of_queries(musician, django_assert_max_num_queries):
    def populate(count):
        for _ in range(count):
            offered_to(OrderFactory(musician=None, status=S.MATCHING), musician)
            OrderFactory(
                musician=musician,
                status=S.IN_PROGRESS,
                stage="composition",
                accepted_at=timezone.now(),
            )
            OrderFactory(musician=musician, status=S.IN_REVIEW, accepted_at=timezone.now())

    populate(1)
    studio = client_for(musician)
    with django_assert_max_num_queries(16) as few:
        assert studio.get("/studio/").status_code == 200
    populate(5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = studio.get("/studio/").content.decode()
    assert body.count('data-testid="offer-accept"') == 6
