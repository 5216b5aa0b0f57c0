"""Matching (docs/architecture.md section 5): candidates ranked by style and occasion fit, rating,
on-time rate and load; the order offered to one musician at a time; declines and expired offers
move it on; orders nobody can take wait for the beat task; the musician's matching profile."""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from billing import services as billing
from billing.models import Payment
from config.celery import app as celery_app
from notifications.models import Delivery as Notice
from orders import selectors, services
from orders.errors import Conflict, Forbidden
from orders.models import (
    MarketplaceSettings,
    MusicianProfile,
    OfferStatus,
    Order,
    OrderOffer,
    OrderStatus,
)
from orders.tasks import expire_offers, rematch_waiting
from tests.factories import MusicianFactory, UserFactory
from tests.orders.factories import (
    MusicianProfileFactory,
    OrderFactory,
    PackageFactory,
    ReviewFactory,
    api_client_for,
    brief,
    deposit_paid,
    service_brief,
)

pytestmark = pytest.mark.django_db
S = OrderStatus


client_for = api_client_for


def notices(event: str, person) -> int:
    return Notice.objects.filter(event=event, recipient=person).count()


def candidate(
    *,
    price=150_000,
    currency="INR",
    package_occasions=(),
    package_active=True,
    active_orders=0,
    **profile,
):
    """A musician who could take a 200_001 INR birthday order: a package at `price`, a matching
    profile (`profile` fields) and `active_orders` orders in progress."""
    musician = MusicianFactory()
    MusicianProfileFactory(musician=musician, **profile)
    PackageFactory(
        musician=musician,
        price=price,
        currency=currency,
        occasions=list(package_occasions),
        active=package_active,
    )
    for _ in range(active_orders):
        OrderFactory(musician=musician, status=S.IN_PROGRESS)
    return musician


def match_order(**overrides) -> Order:
    """A paid order that asked to be matched, not offered to anyone yet."""
    fields = {
        "status": S.MATCHING,
        "musician": None,
        "match": True,
        "genre": "acoustic pop",
        "occasion": "birthday",
        "price": 200_001,
    }
    return OrderFactory(**{**fields, **overrides})


def ranked(order, **kwargs) -> list:
    return [c.musician for c in selectors.musician_candidates(order, **kwargs)]


def parts(order) -> dict:
    return {c.musician.pk: c.parts for c in selectors.musician_candidates(order)}


# --- ranking --------------------------------------------------------------------------------


def test_the_style_the_brief_names_beats_a_partial_fit_which_beats_none():
    exact = candidate(styles=["acoustic pop", "folk"])
    partial = candidate(styles=["pop"])
    none = candidate(styles=["metal"])
    order = match_order()
    assert ranked(order) == [exact, partial, none]
    assert [parts(order)[m.pk]["style"] for m in (exact, partial, none)] == [1.0, 0.5, 0.0]
    # A brief that names no genre tells nothing: nobody gains or loses by style.
    vague = match_order(genre="")
    assert {p["style"] for p in parts(vague).values()} == {0.5}


def test_naming_the_occasion_beats_taking_any_which_beats_naming_others():
    named = candidate(occasions=["birthday", "wedding"])
    anything = candidate(occasions=[])
    others = candidate(occasions=["wedding"])
    order = match_order()
    assert ranked(order) == [named, anything, others]
    assert [parts(order)[m.pk]["occasion"] for m in (named, anything, others)] == [1.0, 0.5, 0.0]


def test_the_rating_counts_with_a_prior_so_one_review_does_not_beat_many():
    proven = candidate(rating_average=4.8, rating_count=50)
    lucky = candidate(rating_average=5.0, rating_count=1)
    new = candidate()
    poor = candidate(rating_average=2.0, rating_count=10)
    order = match_order()
    assert ranked(order) == [proven, lucky, new, poor]
    # Without reviews a musician is scored as the prior (4 stars): (4 - 1) / 4.
    assert parts(order)[new.pk]["rating"] == pytest.approx(0.75)
    assert parts(order)[lucky.pk]["rating"] == pytest.approx(((5 + 4 * 3) / 4 - 1) / 4)


def test_a_punctual_musician_ranks_above_an_unknown_one_above_a_late_one():
    punctual = candidate(on_time_rate=1.0)
    unknown = candidate()
    late = candidate(on_time_rate=0.4)
    order = match_order()
    assert ranked(order) == [punctual, unknown, late]
    assert parts(order)[unknown.pk]["on_time"] == selectors.ON_TIME_PRIOR


def test_free_capacity_counts_and_only_active_orders_load_a_musician():
    idle = candidate(capacity=3)
    busy = candidate(capacity=3, active_orders=2)
    # Finished and disputed work: only the dispute still takes the musician's time.
    finished = candidate(capacity=2)
    for status in (S.COMPLETED, S.CANCELLED, S.REFUNDED, S.DELIVERED):
        OrderFactory(musician=finished, status=status)
    OrderFactory(musician=finished, status=S.DISPUTED)
    order = match_order()
    found = {c.musician.pk: c for c in selectors.musician_candidates(order)}
    assert (found[idle.pk].load, found[busy.pk].load, found[finished.pk].load) == (0, 2, 1)
    assert found[busy.pk].parts["load"] == pytest.approx(1 / 3)
    assert ranked(order) == [idle, finished, busy]


def test_orders_offered_and_waiting_for_an_answer_count_against_capacity():
    """An offer holds a place: a musician with room for one order who has an offer open gets
    no second offer until they answer it."""
    single = candidate(capacity=1)
    roomy = candidate(capacity=2)
    OrderFactory(musician=single, status=S.MATCHING)  # offered to them, not answered yet
    OrderFactory(musician=roomy, status=S.MATCHING)
    found = {c.musician.pk: c for c in selectors.musician_candidates(match_order())}
    assert single.pk not in found
    assert found[roomy.pk].load == 1


def test_the_score_weighs_every_part_and_stays_between_0_and_1():
    best = candidate(
        styles=["acoustic pop"],
        occasions=["birthday"],
        rating_average=5.0,
        rating_count=1000,
        on_time_rate=1.0,
    )
    worst = candidate(
        styles=["metal"],
        occasions=["wedding"],
        rating_average=1.0,
        rating_count=1000,
        on_time_rate=0.0,
        capacity=2,
        active_orders=1,
    )
    scores = {c.musician.pk: c.score for c in selectors.musician_candidates(match_order())}
    assert scores[best.pk] == pytest.approx(1.0, abs=0.001)
    assert 0 <= scores[worst.pk] < 0.1


def _away_now():
    today = timezone.now().date()
    return candidate(away_from=today - timedelta(days=1), away_until=today + timedelta(days=2))


EXCLUDED = {
    "full": lambda: candidate(capacity=2, active_orders=2),
    "away_today": _away_now,
    "away_from_today_open_ended": lambda: candidate(away_from=timezone.now().date()),
    "away_until_today": lambda: candidate(away_until=timezone.now().date()),
    "not_accepting_orders": lambda: candidate(accepting_orders=False),
    "package_above_the_price": lambda: candidate(price=200_002),
    "package_in_another_currency": lambda: candidate(currency="USD", price=1_000),
    "package_inactive": lambda: candidate(package_active=False),
    "package_for_other_occasions": lambda: candidate(package_occasions=["wedding"]),
    "not_a_musician_any_more": lambda: _demoted(candidate()),
    "deactivated": lambda: _deactivated(candidate()),
}


def _demoted(musician):
    musician.is_musician = False
    musician.save(update_fields=["is_musician"])
    return musician


def _deactivated(musician):
    musician.is_active = False
    musician.save(update_fields=["is_active"])
    return musician


@pytest.mark.parametrize("why", list(EXCLUDED))
def test_who_cannot_take_the_order_is_never_a_candidate(why):
    free = candidate()
    EXCLUDED[why]()
    assert ranked(match_order()) == [free]


def test_away_later_or_a_package_at_the_price_for_this_occasion_is_fine():
    today = timezone.now().date()
    later = candidate(away_from=today + timedelta(days=3), away_until=today + timedelta(days=9))
    back = candidate(away_from=today - timedelta(days=9), away_until=today - timedelta(days=1))
    at_price = candidate(price=200_001, package_occasions=["birthday", "wedding"])
    assert set(ranked(match_order())) == {later, back, at_price}


def test_the_customer_is_never_offered_their_own_order_nor_anyone_twice():
    customer = candidate(styles=["acoustic pop"], occasions=["birthday"], rating_average=5.0)
    other = candidate()
    order = match_order(customer=customer)
    assert ranked(order) == [other]
    assert ranked(order, exclude=[other.pk]) == []


# --- offering -------------------------------------------------------------------------------


def test_a_paid_match_order_is_offered_to_the_best_candidate(
    sandbox_provider, django_capture_on_commit_callbacks
):
    rules = MarketplaceSettings.load()
    rules.offer_expiry_hours = 6
    rules.save()
    best = candidate(styles=["acoustic pop"], occasions=["birthday"])
    second = candidate(styles=["rock"])
    customer = UserFactory()
    client = client_for(customer)
    placed = client.post("/api/orders", {"match": True, **brief(budget=200_001)}, format="json")
    assert placed.status_code == 201, placed.content
    order = Order.objects.get(pk=placed.json()["id"])
    ranking = selectors.musician_candidates(order)
    assert [c.musician for c in ranking] == [best, second]
    order = deposit_paid(order, django_capture_on_commit_callbacks)

    assert (order.status, order.musician) == (S.MATCHING, best)
    offer = OrderOffer.objects.get(order=order)
    assert (offer.musician, offer.rank, offer.status) == (best, 1, OfferStatus.PENDING)
    assert offer.score == pytest.approx(ranking[0].score)
    assert timedelta(hours=5, minutes=59) < offer.expires_at - timezone.now() <= timedelta(hours=6)
    event = order.events.get(name="offer")
    assert (event.actor, event.from_status, event.to_status) == (None, S.MATCHING, S.MATCHING)
    assert event.note == f"Offered to {best.display_name}"
    assert [e.name for e in order.events.all()] == ["place", "deposit_captured", "offer"]
    assert notices("order.offer", best) >= 1 and notices("order.offer", second) == 0

    # The offered musician sees the order and until when to answer; the other does not.
    seen = client_for(best).get(f"/api/orders/{order.pk}").json()
    assert seen["offer"]["status"] == "pending"
    assert seen["allowed"] == ["accept", "decline"]
    assert client_for(second).get(f"/api/orders/{order.pk}").status_code == 404
    assert client_for(second).get("/api/orders").json()["count"] == 0


def test_the_offer_is_announced_only_once_the_capture_commits(
    user, django_capture_on_commit_callbacks
):
    best = candidate()
    order = services.order_place(customer=user, match=True, **service_brief(budget=200_001))
    deposit = Payment.objects.get(reference=str(order.pk))
    with django_capture_on_commit_callbacks() as callbacks:
        billing.payment_capture(payment=deposit)  # what the provider's webhook sets off
    # The offer is made in the capture's transaction...
    assert OrderOffer.objects.get(order=order).musician == best
    assert notices("order.offer", best) == 0
    # ... and the musician hears of it once that commits.
    for callback in callbacks:
        callback()
    assert notices("order.offer", best) >= 1


def test_the_customers_pick_is_offered_first_then_the_best_match(
    sandbox_provider, django_capture_on_commit_callbacks
):
    pick = PackageFactory(price=200_001).musician
    best = candidate(styles=["acoustic pop"])
    customer = UserFactory()
    order = services.order_place(customer=customer, package=pick.packages.get(), **service_brief())
    order = deposit_paid(order, django_capture_on_commit_callbacks)
    first = order.offers.get()
    assert (first.musician, first.rank, first.score) == (pick, 1, None)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_decline(order=order, musician=pick, reason="On tour that month")
    order.refresh_from_db()
    assert order.musician == best
    assert [(o.musician, o.rank, o.status) for o in order.offers.order_by("rank")] == [
        (pick, 1, OfferStatus.DECLINED),
        (best, 2, OfferStatus.PENDING),
    ]


# --- declining ------------------------------------------------------------------------------


def test_a_decline_with_a_reason_offers_the_next_candidate_and_hides_the_order(
    django_capture_on_commit_callbacks,
):
    best = candidate(styles=["acoustic pop"])
    second = candidate(styles=["pop"])
    order = match_order()
    with django_capture_on_commit_callbacks(execute=True):
        services.orders_rematch()
    order.refresh_from_db()
    assert order.musician == best

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(best).post(
            f"/api/orders/{order.pk}/decline", {"reason": "Booked solid"}, format="json"
        )
    # The decliner may no longer see the order: the answer is only where it stands.
    assert response.status_code == 200, response.content
    assert response.json() == {"id": str(order.pk), "status": "matching"}
    order.refresh_from_db()
    assert order.musician == second
    declined = order.offers.get(musician=best)
    assert (declined.status, declined.reason) == (OfferStatus.DECLINED, "Booked solid")
    assert declined.responded_at is not None
    assert order.offers.get(musician=second).rank == 2
    assert [(e.name, e.note) for e in order.events.all()] == [
        ("offer", f"Offered to {best.display_name}"),
        ("decline", "Booked solid"),
        ("offer", f"Offered to {second.display_name}"),
    ]
    assert notices("order.offer_declined", order.customer) >= 1
    assert notices("order.offer", second) >= 1

    decliner = client_for(best)
    assert decliner.get(f"/api/orders/{order.pk}").status_code == 404
    assert decliner.get("/api/orders").json()["count"] == 0
    assert decliner.post(f"/api/orders/{order.pk}/accept").status_code == 404
    # Through the service (a request that read the order before the decline): a clear 409.
    with pytest.raises(Conflict) as closed:
        services.order_accept(order=order, musician=best)
    assert (closed.value.status, closed.value.code) == (409, "offer_closed")

    # The last candidate declines too: nobody is left, the order waits.
    services.order_decline(order=order, musician=second, reason="")
    order.refresh_from_db()
    assert (order.status, order.musician) == (S.MATCHING, None)
    assert order.events.last().name == "no_candidate"
    assert client_for(order.customer).get(f"/api/orders/{order.pk}").json()["status"] == (
        "matching"
    )


def test_a_decline_reason_is_at_most_1000_characters():
    order = OrderFactory(status=S.MATCHING)
    response = client_for(order.musician).post(
        f"/api/orders/{order.pk}/decline", {"reason": "x" * 1001}, format="json"
    )
    assert response.status_code == 400
    assert order.offers.get().status == OfferStatus.PENDING


# --- expiry ---------------------------------------------------------------------------------


def _expire(offer, *, ago=timedelta(minutes=1)):
    OrderOffer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - ago)


def test_an_unanswered_offer_expires_and_the_order_moves_on(django_capture_on_commit_callbacks):
    best = candidate(styles=["acoustic pop"])
    second = candidate()
    order = match_order()
    services.orders_rematch()
    offer = OrderOffer.objects.get(order=order, musician=best)

    # Not due yet: the beat task leaves it alone.
    assert services.offers_expire_due() == 0
    assert services.offer_expire(offer_id=offer.pk) is False

    _expire(offer)
    # Past its time but before the beat ran: accepting is refused with a clear 409.
    late = client_for(best).post(f"/api/orders/{order.pk}/accept")
    assert late.status_code == 409
    assert late.json()["code"] == "offer_expired"
    assert Order.objects.get(pk=order.pk).status == S.MATCHING

    with django_capture_on_commit_callbacks(execute=True):
        expire_offers.delay()  # the beat task, eager in tests
    offer.refresh_from_db()
    order.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED and offer.responded_at is not None
    assert order.musician == second
    assert order.offers.get(musician=second).status == OfferStatus.PENDING
    assert [e.name for e in order.events.all()] == ["offer", "expire_offer", "offer"]
    assert notices("order.offer_expired", best) >= 1
    assert notices("order.offer", second) >= 1
    assert client_for(best).get(f"/api/orders/{order.pk}").status_code == 404
    with pytest.raises(Conflict) as expired:
        services.order_accept(order=order, musician=best)
    assert expired.value.code == "offer_expired"
    assert services.offers_expire_due() == 0  # once only


def test_an_answered_offer_never_expires():
    order = OrderFactory(status=S.MATCHING)
    offer = order.offers.get()
    services.order_accept(order=order, musician=order.musician)
    _expire(offer, ago=timedelta(days=3))
    assert services.offers_expire_due() == 0
    assert services.offer_expire(offer_id=offer.pk) is False
    offer.refresh_from_db()
    order.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED and order.status == S.IN_PROGRESS


def test_a_cancelled_order_withdraws_its_offer():
    order = OrderFactory(status=S.MATCHING)
    services.order_cancel(order=order, actor=order.customer)
    offer = order.offers.get()
    assert offer.status == OfferStatus.WITHDRAWN
    _expire(offer)
    assert services.offers_expire_due() == 0
    with pytest.raises(Conflict):
        services.order_accept(order=order, musician=order.musician)


# --- nobody free ----------------------------------------------------------------------------


def test_without_candidates_the_order_waits_and_is_offered_when_someone_is_free(
    user, sandbox_provider, django_capture_on_commit_callbacks
):
    resting = candidate(accepting_orders=False)
    order = services.order_place(customer=user, match=True, **service_brief(budget=200_001))
    order = deposit_paid(order, django_capture_on_commit_callbacks)
    assert (order.status, order.musician) == (S.MATCHING, None)
    assert [e.name for e in order.events.all()] == ["place", "deposit_captured", "no_candidate"]
    told = notices("order.unmatched", user)  # one delivery per channel (email, in-app)
    assert told >= 1  # the customer is told it waits

    # The beat task finds nobody again: neither the timeline nor the customer hears it twice.
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            assert services.orders_rematch() == 0
    assert order.events.filter(name="no_candidate").count() == 1
    assert notices("order.unmatched", user) == told

    services.musician_profile_update(musician=resting, accepting_orders=True)
    with django_capture_on_commit_callbacks(execute=True):
        rematch_waiting.delay()
    order.refresh_from_db()
    assert order.musician == resting
    assert [e.name for e in order.events.all()][-2:] == ["no_candidate", "offer"]
    assert notices("order.offer", resting) >= 1
    assert services.orders_rematch() == 0  # offered: not waiting any more


def test_a_full_musician_is_offered_the_waiting_order_once_work_is_done():
    busy = candidate(capacity=1, active_orders=1)
    order = match_order()
    assert services.orders_rematch() == 0
    ongoing = busy.orders_taken.get(status=S.IN_PROGRESS)
    Order.objects.filter(pk=ongoing.pk).update(status=S.COMPLETED)  # as balance_captured would
    assert services.orders_rematch() == 1
    order.refresh_from_db()
    assert order.musician == busy


def test_the_beat_runs_both_matching_tasks():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"orders.expire_offers", "orders.rematch_waiting"} <= scheduled
    assert {"orders.expire_offers", "orders.rematch_waiting"} <= set(celery_app.tasks)


# --- the musician's profile -----------------------------------------------------------------


def test_a_musician_reads_and_changes_their_matching_profile(musician):
    client = client_for(musician)
    first = client.get("/api/musicians/me")
    assert first.status_code == 200
    assert first.json() == {
        "styles": [],
        "occasions": [],
        "capacity": 3,
        "accepting_orders": True,
        "away_from": None,
        "away_until": None,
        "rating_average": None,
        "rating_count": 0,
        "on_time_rate": None,
        "first_draft_approval_rate": None,
        "average_completion_days": None,
        "completed_orders": 0,
    }
    today = timezone.now().date()
    changed = client.patch(
        "/api/musicians/me",
        {
            "styles": ["Acoustic Pop", "acoustic pop ", "Jazz"],
            "occasions": ["wedding", "birthday"],
            "capacity": 5,
            "away_from": (today + timedelta(days=10)).isoformat(),
            "away_until": (today + timedelta(days=20)).isoformat(),
            "rating_average": 5.0,  # read-only: ignored
        },
        format="json",
    )
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert body["styles"] == ["acoustic pop", "jazz"]
    assert (body["occasions"], body["capacity"]) == (["wedding", "birthday"], 5)
    assert body["rating_average"] is None
    musician.musician_profile.refresh_from_db()
    assert musician.musician_profile.away_until == today + timedelta(days=20)
    assert client.get("/api/musicians/me/").json()["styles"] == ["acoustic pop", "jazz"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"capacity": 51}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"occasions": ["funeral"]}, "occasions"),
        ({"styles": [f"style {n}" for n in range(21)]}, "styles"),
        ({"styles": ["x" * 41]}, "styles"),
        ({"away_from": "2030-02-30"}, "away_from"),
        ({"away_from": "2030-05-10", "away_until": "2030-05-01"}, "away_until"),
        ({"accepting_orders": "perhaps"}, "accepting_orders"),
    ],
)
def test_a_profile_that_does_not_hold_up_is_a_400_naming_the_field(musician, data, field):
    response = client_for(musician).patch("/api/musicians/me", data, format="json")
    assert response.status_code == 400, response.content
    # Errors in a list's items are named by their position ("styles.0").
    assert field in {key.split(".")[0] for key in response.json()["errors"]}
    assert client_for(musician).get("/api/musicians/me").json()["capacity"] == 3


def test_the_away_range_is_checked_against_what_is_stored(musician):
    client = client_for(musician)
    assert (
        client.patch("/api/musicians/me", {"away_from": "2030-05-10"}, format="json").status_code
        == 200
    )
    before = client.patch("/api/musicians/me", {"away_until": "2030-05-01"}, format="json")
    assert before.status_code == 400 and "away_until" in before.json()["errors"]


def test_only_musicians_have_a_matching_profile(user):
    client = client_for(user)
    assert client.get("/api/musicians/me").status_code == 403
    refused = client.patch("/api/musicians/me", {"capacity": 2}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    assert not MusicianProfile.objects.filter(musician=user).exists()
    assert APIClient().get("/api/musicians/me").status_code == 401
    with pytest.raises(Forbidden):
        services.musician_profile_update(musician=user, capacity=2)


def test_anyone_reads_a_musicians_public_page(api_client):
    musician = candidate(styles=["folk"], occasions=["wedding"], capacity=4)
    PackageFactory(musician=musician, active=False, name="Retired package")
    ReviewFactory(order=OrderFactory(musician=musician, status=S.COMPLETED), rating=4)
    services.musician_stats_refresh(musician=musician)
    response = api_client.get(f"/api/musicians/{musician.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["display_name"]) == (str(musician.pk), musician.display_name)
    assert body["profile"]["styles"] == ["folk"] and body["profile"]["capacity"] == 4
    assert (body["profile"]["rating_average"], body["profile"]["rating_count"]) == (4.0, 1)
    assert [p["name"] for p in body["packages"]] == [musician.packages.get(active=True).name]
    assert [r["rating"] for r in body["reviews"]] == [4]


def test_a_musician_without_a_profile_yet_shows_the_defaults(api_client):
    musician = MusicianFactory()
    body = api_client.get(f"/api/musicians/{musician.pk}/").json()
    assert body["profile"]["capacity"] == 3 and body["packages"] == [] and body["reviews"] == []


def test_the_public_page_is_404_for_non_musicians_and_bad_ids(api_client):
    listener = UserFactory()
    inactive = _deactivated(MusicianFactory())
    for target in (listener.pk, inactive.pk, uuid.uuid4()):
        response = api_client.get(f"/api/musicians/{target}")
        assert response.status_code == 404, target
        assert response.json()["code"] == "not_found"
    bad = api_client.get("/api/musicians/not-an-id")
    assert (bad.status_code, bad.json()["code"]) == (404, "not_found")
