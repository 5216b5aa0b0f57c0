"""Bugs a hostile or unlucky user could hit, found in review, each pinned by a test that failed
before its fix: money left behind in escrow, 500s from malformed input, a deadlock between the
beat and a musician answering an offer, and answers given on orders that no longer take them.

The tests marked ``services`` need PostgreSQL (``make test-services``): the locks they are about
only exist there.
"""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from audio.models import AudioAsset
from billing.models import Payment, PaymentStatus, Refund
from orders import services
from orders.errors import Conflict
from orders.models import (
    OfferStatus,
    Order,
    OrderEvent,
    OrderOffer,
    OrderStatus,
    RevisionRequest,
    RevisionStatus,
    Version,
)
from tests.audio.factories import AudioAssetFactory
from tests.factories import StaffFactory, UserFactory
from tests.orders.conftest import client_for
from tests.orders.factories import (
    OrderFactory,
    PackageFactory,
    api_client_for,
    balance_checkout,
    paid_on_the_sandbox_page,
    service_brief,
)
from tests.orders.test_disputes import (
    BALANCE,
    DEPOSIT,
    PRICE,
    disputed,
    fee,
    ledger,
    paid_order,
    resolve,
)

pytestmark = pytest.mark.django_db
S = OrderStatus
REASON = "The draft is not the song we agreed on."


# --- money: a balance paid after a dispute closed the order ---------------------------------


@pytest.mark.parametrize(("outcome", "status"), [("refund", S.REFUNDED), ("release", S.COMPLETED)])
def test_a_balance_paid_on_a_checkout_left_open_after_the_dispute_closed_the_order_goes_back(
    outcome, status, django_capture_on_commit_callbacks
):
    # The customer opened the balance checkout, then a dispute; staff closed the order. The
    # checkout page was still open and the customer paid on it: that money was stuck in the
    # order's escrow for good (no state of the order could release or refund it).
    order = paid_order(django_capture_on_commit_callbacks, status=S.DELIVERED)
    checkout = balance_checkout(order)
    order = disputed(order)
    with django_capture_on_commit_callbacks(execute=True):
        assert resolve(order, outcome=outcome).status_code == 200

    paid_on_the_sandbox_page(checkout.url, django_capture_on_commit_callbacks)

    order.refresh_from_db()
    assert order.status == status
    balance = Payment.objects.get(purpose="order_balance")
    assert balance.status == PaymentStatus.REFUNDED
    assert Refund.objects.get(payment=balance).amount == BALANCE
    released = 0 if outcome == "refund" else DEPOSIT  # what the resolution decided
    assert ledger(order) == {
        "escrow": 0,
        "refunded": PRICE - released,
        "musician": released - fee(released),
        "platform": fee(released),
        "paid": PRICE,
    }


def test_a_balance_paid_while_the_dispute_is_open_still_waits_for_the_resolution(
    django_capture_on_commit_callbacks,
):
    order = paid_order(django_capture_on_commit_callbacks, status=S.DELIVERED)
    checkout = balance_checkout(order)
    order = disputed(order)
    paid_on_the_sandbox_page(checkout.url, django_capture_on_commit_callbacks)
    assert ledger(order)["escrow"] == PRICE and not Refund.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert resolve(order, outcome="refund").status_code == 200
    assert ledger(order)["escrow"] == 0 and ledger(order)["refunded"] == PRICE


# --- 500s from malformed input ----------------------------------------------------------------


def test_a_version_number_past_the_databases_range_is_a_400_not_a_500():
    order = OrderFactory(status=S.IN_PROGRESS)
    huge = 2**63
    api = api_client_for(order.customer)
    opened = api.post(
        f"/api/orders/{order.pk}/open_dispute",
        {"reason": REASON, "versions": [huge]},
        format="json",
    )
    assert opened.status_code == 400, opened.content
    assert opened.json()["errors"] == {"versions": [f"This order has no version {huge}."]}

    page = client_for(order.customer).post(
        f"/orders/{order.pk}/open_dispute/", {"reason": REASON, "versions": "9" * 30}
    )
    assert page.status_code == 400
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS and not order.disputes.exists()

    services.order_open_dispute(order=order, actor=order.customer, reason=REASON)
    evidence = api.post(
        f"/api/orders/{order.pk}/dispute_evidence",
        {"text": "See the draft.", "versions": [huge]},
        format="json",
    )
    assert evidence.status_code == 400, evidence.content
    assert evidence.json()["errors"] == {"versions": [f"This order has no version {huge}."]}


def test_evidence_still_points_at_the_orders_own_versions_in_the_order_given():
    order = OrderFactory(status=S.IN_PROGRESS)
    for number in (1, 2):
        Version.objects.create(
            order=order,
            number=number,
            asset=AudioAssetFactory(owner=order.musician, purpose=AudioAsset.Purpose.PREVIEW),
            uploaded_by=order.musician,
            status="ready",
        )
    dispute = services.order_open_dispute(
        order=order, actor=order.musician, reason=REASON, versions=[2, 1, 2]
    )
    assert sorted(v.number for v in dispute.evidence.get().versions.all()) == [1, 2]


def _in_review_with_a_pending_extra_revision():
    order = OrderFactory(status=S.IN_REVIEW, revisions_included=0)
    services.order_request_revision(order=order, customer=order.customer, feedback="Once more?")
    return order


def _ready(status, side):
    """An order in `status` where `side` ("customer" or "musician") may take the action."""
    if status == "pending_revision":
        order = _in_review_with_a_pending_extra_revision()
    elif status == S.DISPUTED:
        order = OrderFactory(status=S.IN_PROGRESS)
        services.order_open_dispute(order=order, actor=order.customer, reason=REASON)
    else:
        order = OrderFactory(status=status)
    order.refresh_from_db()
    return order, getattr(order, side)


@pytest.mark.parametrize(
    ("action", "status", "side", "field"),
    [
        ("cancel", S.MATCHING, "customer", "reason"),
        ("request_revision", S.IN_REVIEW, "customer", "feedback"),
        ("open_dispute", S.IN_PROGRESS, "customer", "reason"),
        ("dispute_evidence", S.DISPUTED, "musician", "text"),
        ("review", S.COMPLETED, "customer", "text"),
        ("decline", S.MATCHING, "musician", "reason"),
        ("advance_stage", S.IN_PROGRESS, "musician", "note"),
        ("revision_consent", "pending_revision", "musician", "note"),
    ],
)
def test_a_nul_character_in_a_page_form_is_a_400_on_its_field(action, status, side, field):
    # PostgreSQL cannot store NUL: the API's serializers refuse it, the pages passed it on to
    # the database (a 500 there).
    order, person = _ready(status, side)
    events = OrderEvent.objects.filter(order=order).count()
    data = {
        "reason": REASON,
        "feedback": "Slower, please.",
        "text": "Lovely.",
        "note": "Noted.",
        "rating": "5",
        "answer": "accept",
    }
    data[field] = "Hello\x00there, a long enough text"
    response = client_for(person).post(f"/orders/{order.pk}/{action}/", data)
    assert response.status_code == 400
    assert "a character that is not allowed" in response.content.decode()
    assert Order.objects.get(pk=order.pk).status == order.status
    assert OrderEvent.objects.filter(order=order).count() == events


# --- answers the order no longer takes ------------------------------------------------------


def test_a_consent_post_that_does_not_answer_declines_nothing():
    # The page's form sends answer=accept|decline; a post without it (or with anything else)
    # declined the extra revision, which cannot be taken back.
    order = _in_review_with_a_pending_extra_revision()
    musician = client_for(order.musician)
    for data in ({"note": "Hmm"}, {"answer": "maybe"}):
        response = musician.post(f"/orders/{order.pk}/revision_consent/", data)
        assert response.status_code == 400
        assert "Answer yes or no" in response.content.decode()
    assert RevisionRequest.objects.get(order=order).status == RevisionStatus.PENDING
    declined = musician.post(f"/orders/{order.pk}/revision_consent/", {"answer": "decline"})
    assert declined.status_code == 302
    assert RevisionRequest.objects.get(order=order).status == RevisionStatus.DECLINED


@pytest.mark.parametrize("accept", [True, False])
def test_an_extra_revision_is_not_answered_while_a_dispute_holds_the_order(accept):
    # Accepting failed with a 409 (the transition is refused) but declining went through on
    # a disputed order, telling the customer and writing the timeline as if it were in review.
    order = _in_review_with_a_pending_extra_revision()
    services.order_open_dispute(order=order, actor=order.customer, reason=REASON)
    events = OrderEvent.objects.filter(order=order).count()
    response = api_client_for(order.musician).post(
        f"/api/orders/{order.pk}/revision_consent", {"accept": accept}, format="json"
    )
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "transition_not_allowed"
    assert RevisionRequest.objects.get(order=order).status == RevisionStatus.PENDING
    assert OrderEvent.objects.filter(order=order).count() == events
    # Once the work goes on and a draft is in review again, the musician answers it.
    with transaction.atomic():
        services.dispute_resolve(order=order, staff=StaffFactory(), outcome="continue")
    services.order_submit_draft(order=order, musician=order.musician)
    request = services.revision_consent(order=order, musician=order.musician, accept=accept)
    assert request.status == (RevisionStatus.GRANTED if accept else RevisionStatus.DECLINED)


def test_a_pending_extra_revision_is_closed_when_the_dispute_closes_the_order():
    order = _in_review_with_a_pending_extra_revision()
    services.order_open_dispute(order=order, actor=order.customer, reason=REASON)
    with transaction.atomic():
        services.dispute_resolve(order=order, staff=StaffFactory(), outcome="release")
    request = RevisionRequest.objects.get(order=order)
    assert request.status == RevisionStatus.DECLINED
    assert request.response_note == "Closed by the dispute's resolution."


def test_an_order_cancelled_while_offered_no_longer_names_the_musician():
    order = OrderFactory(status=S.MATCHING)
    musician = order.musician
    services.order_cancel(order=order, actor=order.customer)
    order.refresh_from_db()
    assert (order.status, order.musician) == (S.CANCELLED, None)
    assert OrderOffer.objects.get(order=order).status == OfferStatus.WITHDRAWN
    assert api_client_for(musician).get(f"/api/orders/{order.pk}").status_code == 404
    assert api_client_for(order.customer).get(f"/api/orders/{order.pk}").json()["musician"] is None


# --- locks (PostgreSQL) ---------------------------------------------------------------------


def _in_background(work):
    """Run `work` on its own connection; returns (thread, outcome dict)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test looks at
            outcome["value"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _wait_until_someone_waits_for_a_lock(timeout=10.0):
    """Polled from a connection of its own: PostgreSQL's activity view is a snapshot taken once
    per transaction, so the caller's (inside its atomic block) would never see the wait."""

    def poll():
        deadline = time.monotonic() + timeout
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                if cursor.fetchone()[0]:
                    return True
                time.sleep(0.05)
        return False

    thread, waited = _in_background(poll)
    thread.join(timeout + 5)
    assert waited.get("value") is True, "the background work never waited for the lock"


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("answer", ["accept", "decline"])
def test_an_answer_at_the_deadline_while_the_beat_expires_the_offer_is_a_409_not_a_deadlock(
    answer,
):
    # The musician's accept locks the order, then the offer; offer_expire locked the offer,
    # then the order: with both at once PostgreSQL killed one of them ("deadlock detected",
    # a 500 for the musician). Here the answer holds the order's lock when the beat starts.
    order = OrderFactory(status=S.MATCHING)
    musician = order.musician
    offer = OrderOffer.objects.get(order=order)
    OrderOffer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    answered = None
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=order.pk)  # the answer's lock is taken
        thread, expired = _in_background(lambda: services.offer_expire(offer_id=offer.pk))
        _wait_until_someone_waits_for_a_lock()
        try:
            if answer == "accept":
                services.order_accept(order=order, musician=musician)
            else:
                services.order_decline(order=order, musician=musician, reason="Busy")
        except Exception as error:  # noqa: BLE001 - the outcome is what the test looks at
            answered = error
    thread.join(30)
    assert not thread.is_alive()
    assert isinstance(answered, Conflict) and answered.code == "offer_expired", answered
    assert expired["value"] is True, expired
    order.refresh_from_db()
    assert (order.status, order.musician_id) == (S.MATCHING, None)
    assert OrderOffer.objects.get(pk=offer.pk).status == OfferStatus.EXPIRED
    assert OrderEvent.objects.filter(order=order, name="expire_offer").count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_draft_ready_while_a_dispute_is_being_opened_does_not_stay_processing():
    # The preview's handler read the order's state without its lock, so a dispute committing
    # in between made order_submit_draft raise inside audio's transaction: the draft stayed
    # "processing" for good and the musician could never upload another.
    order = OrderFactory(status=S.IN_PROGRESS)
    asset = AudioAssetFactory(owner=order.musician, purpose=AudioAsset.Purpose.PREVIEW)
    version = Version.objects.create(order=order, number=1, asset=asset, uploaded_by=order.musician)

    def settle():
        with transaction.atomic():  # as audio calls it: inside the asset's transaction
            services.version_asset_settled(asset=asset, outcome="ready")

    with transaction.atomic():
        services.order_open_dispute(order=order, actor=order.customer, reason=REASON)
        thread, settled = _in_background(settle)
        _wait_until_someone_waits_for_a_lock()
    thread.join(30)
    assert not thread.is_alive()
    assert settled["value"] is None, settled
    version.refresh_from_db()
    order.refresh_from_db()
    assert (version.status, order.status) == ("ready", S.DISPUTED)
    assert OrderEvent.objects.filter(order=order, name="version_ready").count() == 1


# --- authorization --------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["customer", "musician"])
def test_staff_do_not_resolve_a_dispute_on_their_own_order(
    side, django_capture_on_commit_callbacks
):
    # is_staff was the only check: a staff member who made the song could release the escrow
    # to themselves (or, as the customer, refund it to themselves).
    order = disputed(paid_order(django_capture_on_commit_callbacks))
    party = getattr(order, side)
    type(party).objects.filter(pk=party.pk).update(is_staff=True)
    party.refresh_from_db()
    outcome = "release" if side == "musician" else "refund"
    response = resolve(order, staff=party, outcome=outcome)
    assert response.status_code == 403, response.content
    order.refresh_from_db()
    assert order.status == S.DISPUTED and ledger(order)["escrow"] == DEPOSIT
    assert resolve(order, outcome=outcome).status_code == 200  # other staff decide it


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_deposit_captured_while_the_customer_cancels_is_refunded_at_once(
    django_capture_on_commit_callbacks,
):
    # The deposit's handler read the order's state without its lock: a cancel committing in
    # between made order_deposit_captured raise, and the capture itself was rolled back (left
    # to webhook retries, and lost when the capture came from the provider-capture task).
    from billing import services as billing

    package = PackageFactory(price=10_000)
    order = services.order_place(customer=UserFactory(), package=package, **service_brief())
    deposit = Payment.objects.get(purpose="order_deposit")
    with transaction.atomic():
        services.order_cancel(order=order, actor=order.customer)
        thread, captured = _in_background(lambda: billing.payment_capture(payment=deposit))
        _wait_until_someone_waits_for_a_lock()
    thread.join(30)
    assert not thread.is_alive()
    assert not isinstance(captured["value"], Exception), captured
    order.refresh_from_db()
    assert order.status == S.CANCELLED
    deposit.refresh_from_db()
    assert deposit.status == PaymentStatus.REFUNDED
    assert Refund.objects.get(payment=deposit).amount == 5_000
    assert ledger(order)["escrow"] == 0
