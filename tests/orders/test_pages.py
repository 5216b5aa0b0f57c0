"""The commission pages through Django's test client: the commission form in steps, my orders,
the order page per role and state, its actions (plain POST and htmx), the polling of a page
waiting for the pipeline, and a whole journey with the sandbox checkout and the real media
pipeline."""

import re
import time
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from audio.models import Rendition
from billing.models import Payment
from orders import services
from orders.models import (
    MediaStatus,
    Order,
    OrderEvent,
    OrderOffer,
    OrderStatus,
    RevisionRequest,
    RevisionStatus,
    Version,
)
from tests.audio.conftest import upload_of
from tests.audio.factories import RenditionFactory
from tests.billing.factories import no_provider_keys
from tests.factories import MusicianFactory, StaffFactory, UserFactory
from tests.orders.conftest import body_of, client_for
from tests.orders.factories import (
    MusicianProfileFactory,
    OrderFactory,
    PackageFactory,
    draft_of,
    finals_of,
    service_brief,
)

pytestmark = pytest.mark.django_db
S = OrderStatus
HTMX = {"HTTP_HX_REQUEST": "true"}


def text_of(response) -> str:
    """The page's visible words, spaces collapsed: what a person reads."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def field_error(response, field: str) -> str:
    """The error shown under a commission form field (its id is what aria-describedby names)."""
    match = re.search(
        rf'<div class="error" id="id_{field}_error"[^>]*>(.*?)</div>',
        response.content.decode(),
        re.S,
    )
    return (
        re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", match.group(1)))).strip()
        if match
        else ""
    )


def in_days(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).date().isoformat()


def step1(**overrides) -> dict:
    data = {
        "occasion": "birthday",
        "occasion_date": in_days(30),
        "recipient_name": "Asha",
        "story": "My sister loves the sea and sings in the car every morning.",
    }
    data.update(overrides)
    return data


def step2(**overrides) -> dict:
    data = {
        "genre": "acoustic pop",
        "mood": "joyful",
        "tempo_feel": "upbeat",
        "language": "English",
        "lyrics_choice": "musician",
        "lyrics": "",
        "names_to_include": "Asha, Ravi",
        "references": "https://example.com/song\n\nhttps://example.com/other\n",
        "instructions": "Mention the beach at Kovalam.",
    }
    data.update(overrides)
    return data


def everything(package=None, **overrides) -> dict:
    """One POST of every field, as the form sends it without JavaScript in one go."""
    data = {**step1(), **step2(), "package": str(package.pk) if package else "match"}
    data.update(overrides)
    return data


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def action(client, order, name, data=None, **extra):
    return client.post(f"/orders/{order.pk}/{name}/", data or {}, **extra)


def ready_version(order, number=1, **fields):
    """A ready draft with its preview rendition (a stand-in file: for page tests)."""
    version = draft_of(order, number=number, ready_at=timezone.now(), **fields)
    RenditionFactory(asset=version.asset, kind=Rendition.Kind.PREVIEW_MP3)
    return version


# --- who sees what ------------------------------------------------------------------------------


def test_the_pages_ask_to_log_in_first(client):
    order = OrderFactory()
    for url in ("/orders/", "/orders/new/", f"/orders/{order.pk}/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    response = client.post(f"/orders/{order.pk}/cancel/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Order.objects.get(pk=order.pk).status == S.MATCHING


def test_the_order_page_is_for_the_customer_the_musician_and_staff_only():
    order = OrderFactory(status=S.IN_PROGRESS)
    for person in (order.customer, order.musician, StaffFactory()):
        response = client_for(person).get(f"/orders/{order.pk}/")
        assert response.status_code == 200, person
        assert "Birthday song for Asha" in text_of(response)
    for person in (UserFactory(), MusicianFactory()):
        assert client_for(person).get(f"/orders/{order.pk}/").status_code == 404
        assert action(client_for(person), order, "advance_stage").status_code == 404
        assert client_for(person).get(f"/orders/{order.pk}/watch/").status_code == 404
    assert client_for(order.customer).get(f"/orders/{order.pk}/cancel/").status_code == 405
    assert action(client_for(order.customer), order, "fly").status_code == 404
    assert Order.objects.get(pk=order.pk).stage == "consultation"


def test_my_orders_lists_mine_as_customer_and_as_musician_with_their_status():
    musician = MusicianFactory(display_name="Meera Nair")
    mine = OrderFactory(status=S.IN_REVIEW, recipient_name="Asha")
    OrderFactory(musician=musician, status=S.MATCHING, recipient_name="Kiran")  # offered
    OrderFactory(musician=musician, status=S.IN_PROGRESS, recipient_name="Dev")
    OrderFactory(customer=musician, status=S.PLACED, recipient_name="Mum")
    OrderFactory(recipient_name="Someone else")

    page = text_of(client_for(mine.customer).get("/orders/"))
    assert "Birthday song for Asha" in page and "Draft in review" in page
    assert "Someone else" not in page and "Kiran" not in page

    response = client_for(musician).get("/orders/")
    page = text_of(response)
    assert "Offered to you by" in page and "Answer by" in page
    assert "You make it for" in page and "Birthday song for Dev" in page
    assert "Commissioned by you" in page and "Birthday song for Mum" in page
    assert "Someone else" not in page and "Asha" not in page
    making_only = text_of(client_for(musician).get("/orders/?show=making"))
    assert "Birthday song for Dev" in making_only and "Mum" not in making_only
    mine_only = text_of(client_for(musician).get("/orders/?show=commissioned"))
    assert "Birthday song for Mum" in mine_only and "Dev" not in mine_only

    # The navigation links to the page once it exists.
    assert 'href="/orders/"' in response.content.decode()


def test_my_orders_is_paginated_in_a_bounded_number_of_queries(django_assert_max_num_queries):
    customer = UserFactory()
    for _ in range(25):
        OrderFactory(customer=customer, status=S.MATCHING)
    client = client_for(customer)
    with django_assert_max_num_queries(8):
        response = client.get("/orders/")
    assert response.status_code == 200
    assert text_of(response).count("Birthday song for Asha") == 20
    assert "Page 1 of 2" in text_of(response)
    assert text_of(client.get("/orders/?page=2")).count("Birthday song for Asha") == 5


# --- the commission form ------------------------------------------------------------------------


def test_step_one_shows_a_short_story_on_its_field_and_creates_nothing(user):
    client = client_for(user)
    response = client.post("/orders/new/", {"step": "1", "action": "next", **step1(story="Short")})
    assert response.status_code == 400
    assert "20 characters at least" in field_error(response, "story")
    assert 'aria-invalid="true"' in response.content.decode()
    assert "Step 1 of 3" in text_of(response)
    assert Order.objects.count() == 0


def test_the_steps_carry_the_brief_forward_and_back(user):
    PackageFactory(name="Birthday special")
    client = client_for(user)
    assert "Step 1 of 3" in text_of(client.get("/orders/new/"))

    second = client.post("/orders/new/", {"step": "1", "action": "next", **step1()})
    assert second.status_code == 200 and "Step 2 of 3: The sound" in text_of(second)
    html = second.content.decode()
    assert 'type="hidden" name="recipient_name" value="Asha"' in html

    wrong = client.post(
        "/orders/new/",
        {"step": "2", "action": "next", **step1(), **step2(references="not a link")},
    )
    assert wrong.status_code == 400
    assert "Not a web link" in field_error(wrong, "references")

    third = client.post("/orders/new/", {"step": "2", "action": "next", **step1(), **step2()})
    page = text_of(third)
    assert third.status_code == 200 and "Step 3 of 3" in page
    assert "Birthday special" in page and "Match me with a musician" in page
    assert "My sister loves the sea" in page  # the brief, to check before paying
    assert field_error(third, "package") == ""  # not chosen yet is not an error yet

    back = client.post("/orders/new/", {"step": "3", "action": "back", **step1(), **step2()})
    assert back.status_code == 200 and "Step 2 of 3" in text_of(back)
    assert "Mention the beach at Kovalam." in back.content.decode()
    assert Order.objects.count() == 0


def test_a_link_to_a_package_preselects_it(user):
    package = PackageFactory()
    other = PackageFactory()
    response = client_for(user).get(f"/orders/new/?package={package.pk}")
    assert f'name="package" value="{package.pk}"' in response.content.decode()
    only = client_for(user).get(f"/orders/new/?musician={package.musician_id}")
    final = client_for(user).post(
        f"/orders/new/?musician={package.musician_id}",
        {"step": "2", "action": "next", **step1(), **step2()},
    )
    assert only.status_code == 200
    assert str(package.pk) in final.content.decode() and str(other.pk) not in final.content.decode()


def test_an_occasion_too_soon_for_the_package_is_shown_on_the_date(user):
    package = PackageFactory(delivery_days=7)
    response = client_for(user).post(
        "/orders/new/", everything(package, occasion_date=in_days(3), budget="5000")
    )
    assert response.status_code == 400
    error = field_error(response, "occasion_date")
    assert "This takes 7 days" in error and "at the earliest" in error
    assert "Step 1 of 3" in text_of(response)
    assert Order.objects.count() == 0 and Payment.objects.count() == 0


def test_a_budget_below_the_price_is_shown_on_the_budget(user):
    package = PackageFactory(price=200_001)  # 2,000.01 rupees
    response = client_for(user).post("/orders/new/", everything(package, budget="2000"))
    assert response.status_code == 400
    assert "below the package's price" in field_error(response, "budget")
    assert "Step 3 of 3" in text_of(response)
    assert Order.objects.count() == 0 and Payment.objects.count() == 0


def test_matching_needs_a_budget(user):
    response = client_for(user).post("/orders/new/", everything(None))
    assert response.status_code == 400
    assert "budget" in field_error(response, "budget")
    assert Order.objects.count() == 0


def test_commissioning_places_the_order_and_sends_to_the_sandbox_checkout(
    user, django_capture_on_commit_callbacks
):
    package = PackageFactory(price=200_001)
    client = client_for(user)
    response = client.post(
        "/orders/new/",
        {"step": "3", "action": "submit", **everything(package, budget="2500.50")},
    )
    assert response.status_code == 302
    checkout = response["Location"]
    assert urlsplit(checkout).path.startswith("/billing/sandbox/checkout/")

    order = Order.objects.get()
    assert (order.customer, order.musician, order.package) == (user, package.musician, package)
    assert order.status == S.PLACED and order.price == 200_001
    assert order.budget == 250_050  # rupees in, paise stored
    assert order.references == ["https://example.com/song", "https://example.com/other"]
    assert order.names_to_include == "Asha, Ravi" and order.lyrics_choice == "musician"

    page = client.get(path_of(checkout))
    assert page.status_code == 200 and "₹1,000.01" in text_of(page)  # the deposit
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(path_of(checkout), {"outcome": "success"})
    assert paid.status_code == 302
    # The provider's return lands on the order itself, with the payment acknowledged.
    back = client.get(path_of(paid["Location"]))
    assert back.status_code == 302 and back["Location"] == f"/orders/{order.pk}/"
    detail = client.get(f"/orders/{order.pk}/")
    assert "Payment received" in text_of(detail)
    assert "Finding your musician" in text_of(detail)
    assert "Deposit ₹1,000.01 Captured" in text_of(detail)
    order.refresh_from_db()
    assert order.status == S.MATCHING


def test_being_matched_takes_the_budget_as_the_price(user):
    response = client_for(user).post("/orders/new/", everything(None, budget="3000"))
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.match and order.musician is None and order.price == 300_000


def test_the_form_steps_answer_htmx_with_the_form_alone(user):
    package = PackageFactory()
    client = client_for(user)
    second = client.post("/orders/new/", {"step": "1", "action": "next", **step1()}, **HTMX)
    assert second.status_code == 200
    assert b"<html" not in second.content and b'id="commission-form"' in second.content
    wrong = client.post(
        "/orders/new/", {"step": "1", "action": "next", **step1(recipient_name="")}, **HTMX
    )
    assert wrong.status_code == 400 and wrong["X-Orders-Fragment"] == "1"
    assert field_error(wrong, "recipient_name")
    done = client.post("/orders/new/", everything(package), **HTMX)
    assert done.status_code == 200
    assert urlsplit(done["HX-Redirect"]).path.startswith("/billing/sandbox/checkout/")


# --- the order page: what each side may do now ------------------------------------------------


def test_an_offered_musician_sees_accept_and_decline_with_the_deadline():
    order = OrderFactory(status=S.MATCHING)  # offered to its musician
    musician_page = client_for(order.musician).get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="accept"' in musician_page and 'data-testid="decline"' in musician_page
    assert "Answer by" in musician_page
    customer_page = client_for(order.customer).get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="accept"' not in customer_page
    assert 'data-testid="cancel-order"' in customer_page

    musician = client_for(order.musician)
    response = action(musician, order, "accept")
    assert response.status_code == 302 and response["Location"] == f"/orders/{order.pk}/"
    page = musician.get(f"/orders/{order.pk}/")
    assert "You accepted the order" in text_of(page)
    assert 'data-testid="upload-draft"' in page.content.decode()
    assert Order.objects.get(pk=order.pk).status == S.IN_PROGRESS


def test_declining_leaves_the_order_with_a_reason():
    order = OrderFactory(status=S.MATCHING)  # offered to its musician
    response = action(client_for(order.musician), order, "decline", {"reason": "Fully booked"})
    assert response.status_code == 302 and response["Location"] == "/orders/"
    assert OrderOffer.objects.get().reason == "Fully booked"
    assert client_for(order.musician).get(f"/orders/{order.pk}/").status_code == 404


def test_the_timeline_highlights_the_current_step_and_stage():
    order = OrderFactory(status=S.IN_PROGRESS, stage="recording")
    html = client_for(order.customer).get(f"/orders/{order.pk}/").content.decode()
    current = re.findall(r'<li class="(?:timeline-step timeline|stage stage)-current"[^>]*>', html)
    assert len(current) == 2  # the step and its stage
    assert re.search(r'timeline-current" aria-current="step" data-step="in_progress"', html)
    assert re.search(r'stage-current" aria-current="step">Recording', html)
    assert re.search(r'stage-done"[^>]*>Composition', html)
    assert re.search(r'timeline-upcoming"[^>]*data-step="in_review"', html)

    cancelled = OrderFactory(status=S.CANCELLED)
    OrderEvent.objects.create(
        order=cancelled, name="cancel", from_status=S.MATCHING, to_status=S.CANCELLED
    )
    html = client_for(cancelled.customer).get(f"/orders/{cancelled.pk}/").content.decode()
    assert "This order was cancelled" in html
    assert re.search(r'timeline-stopped"[^>]*data-step="matching"', html)


def test_the_customer_reviews_a_draft_and_the_musician_does_not():
    order = OrderFactory(status=S.IN_REVIEW, revisions_included=1, revisions_used=0)
    ready_version(order, note="First take")
    customer = client_for(order.customer).get(f"/orders/{order.pk}/")
    html = customer.content.decode()
    assert 'data-testid="approve"' in html and 'data-testid="request-revision"' in html
    # The player points at the page's stable link, which answers with a fresh signed one.
    src = re.search(r'<audio[^>]*src="([^"]+)"', html).group(1)
    assert src == f"/orders/{order.pk}/versions/1/preview/"
    assert "/media/s/" not in html
    assert "Your upload (original file)" not in html

    musician = client_for(order.musician).get(f"/orders/{order.pk}/").content.decode()
    assert (
        'data-testid="approve"' not in musician and 'data-testid="request-revision"' not in musician
    )
    assert "Your upload (original file)" in musician
    assert "The customer is listening to your draft" in musician


def test_an_action_the_state_does_not_allow_says_so_with_a_409():
    order = OrderFactory(status=S.IN_PROGRESS)
    client = client_for(order.customer)
    response = action(client, order, "approve")
    assert response.status_code == 409
    assert "You cannot approve the draft now: this order is in progress." in text_of(response)
    assert Order.objects.get(pk=order.pk).status == S.IN_PROGRESS

    htmx = action(client, order, "request_revision", {"feedback": "Faster"}, **HTMX)
    assert htmx.status_code == 409 and htmx["X-Orders-Fragment"] == "1"
    assert htmx["HX-Retarget"] == "#order-body" and b"<html" not in htmx.content
    assert "You cannot request a revision now" in text_of(htmx)

    # The other side's action: 403 with the service's words, nothing moves.
    forbidden = action(client, order, "advance_stage")
    assert forbidden.status_code == 403
    assert "Only the order's musician may do this." in text_of(forbidden)
    paying = action(client, order, "pay_balance")
    assert paying.status_code == 409 and "cannot pay the balance now" in text_of(paying)
    assert Order.objects.get(pk=order.pk).stage == "consultation"


def test_a_revision_needs_feedback_shown_on_the_field():
    order = OrderFactory(status=S.IN_REVIEW)
    ready_version(order)
    response = action(client_for(order.customer), order, "request_revision", {"feedback": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="revision-feedback-error"[^>]*>Tell the musician what to change\.', html)
    assert RevisionRequest.objects.count() == 0


def test_a_revision_beyond_the_included_ones_waits_for_the_musician():
    order = OrderFactory(status=S.IN_REVIEW, revisions_included=1, revisions_used=1)
    ready_version(order)
    customer = client_for(order.customer)
    page = customer.get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="extra-revision-note"' in page

    response = action(customer, order, "request_revision", {"feedback": "A slower bridge"})
    assert response.status_code == 302
    page = text_of(customer.get(f"/orders/{order.pk}/"))
    assert "needs the musician's consent" in page and "Request a revision" not in page
    assert "Approve this draft" in page

    musician = client_for(order.musician)
    assert "A slower bridge" in text_of(musician.get(f"/orders/{order.pk}/"))
    answered = action(musician, order, "revision_consent", {"answer": "accept", "note": "Sure"})
    assert answered.status_code == 302
    order.refresh_from_db()
    assert order.status == S.REVISION_REQUESTED
    assert RevisionRequest.objects.get().status == RevisionStatus.GRANTED


def test_opening_a_dispute_checks_the_reason_and_then_takes_evidence():
    order = OrderFactory(status=S.IN_REVIEW)
    ready_version(order)
    client = client_for(order.customer)
    short = action(client, order, "open_dispute", {"reason": "Bad"})
    assert short.status_code == 400
    assert re.search(
        r'id="dispute-reason-error"[^>]*>Tell us what happened', short.content.decode()
    )
    wrong_version = action(
        client, order, "open_dispute", {"reason": "Not my story at all", "versions": "x"}
    )
    assert wrong_version.status_code == 400 and "Choose versions from the list." in text_of(
        wrong_version
    )

    opened = action(
        client, order, "open_dispute", {"reason": "Not my story at all", "versions": "1"}
    )
    assert opened.status_code == 302
    order.refresh_from_db()
    assert order.status == S.DISPUTED
    page = client.get(f"/orders/{order.pk}/")
    assert 'data-testid="add-evidence"' in page.content.decode()
    added = action(
        client, order, "dispute_evidence", {"text": "The names are wrong", "versions": "1"}
    )
    assert added.status_code == 302
    page = text_of(client.get(f"/orders/{order.pk}/"))
    assert "The names are wrong" in page and "about v1" in page

    staff = text_of(client_for(StaffFactory()).get(f"/orders/{order.pk}/"))
    assert "resolve_dispute" in staff and "Add evidence" not in staff


def test_cancelling_a_placed_order_with_a_plain_post_and_with_htmx():
    order = OrderFactory(status=S.PLACED)
    response = action(
        client_for(order.customer), order, "cancel", {"reason": "Changed my mind"}, **HTMX
    )
    assert response.status_code == 200 and response["HX-Retarget"] == "#order-body"
    assert "The order is cancelled." in text_of(response)
    assert Order.objects.get(pk=order.pk).status == S.CANCELLED
    again = action(client_for(order.customer), order, "cancel")
    assert again.status_code == 409 and "this order is cancelled" in text_of(again)


def test_the_placed_order_offers_the_deposit_checkout(user):
    package = PackageFactory()
    order = services.order_place(customer=user, package=package, **service_brief())
    response = action(client_for(user), order, "pay_deposit")
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path.startswith("/billing/sandbox/checkout/")


def test_the_order_page_reads_in_a_bounded_number_of_queries(django_assert_max_num_queries):
    """The same number of queries with many versions, events and evidence as with one."""
    order = OrderFactory(status=S.IN_REVIEW, revisions_included=1, revisions_used=1)
    for number in (1, 2, 3, 4):
        ready_version(order, number=number)
    for name in ("place", "deposit_captured", "accept", "submit_draft"):
        OrderEvent.objects.create(
            order=order, actor=order.customer, name=name, from_status=S.PLACED, to_status=S.PLACED
        )
    services.order_open_dispute(
        order=order, actor=order.customer, reason="The names are all wrong.", versions=[1, 2]
    )
    for text in ("Here is v3 too", "And v4"):
        services.dispute_evidence_add(order=order, actor=order.musician, text=text, versions=[3, 4])
    for person in (order.customer, order.musician, StaffFactory()):
        client = client_for(person)
        # 16: the parties' evidence form also lists the chat messages it can cite.
        with django_assert_max_num_queries(16):
            response = client.get(f"/orders/{order.pk}/")
        assert response.status_code == 200
        assert response.content.decode().count("<audio controls") == 4
        assert "And v4" in text_of(response)


def test_a_review_needs_stars_and_is_for_the_customer_once():
    order = OrderFactory(status=S.COMPLETED)
    customer = client_for(order.customer)
    assert 'data-testid="review-form"' in customer.get(f"/orders/{order.pk}/").content.decode()
    musician_page = client_for(order.musician).get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="review-form"' not in musician_page

    unrated = action(customer, order, "review", {"text": "Lovely"})
    assert unrated.status_code == 400
    html = unrated.content.decode()
    assert re.search(r'id="review-rating-error"[^>]*>Rate from 1 to 5 stars\.', html)
    assert ">Lovely</textarea>" in html  # what was typed is kept

    assert action(customer, order, "review", {"rating": "4", "text": "Lovely"}).status_code == 302
    again = action(customer, order, "review", {"rating": "5"})
    assert again.status_code == 409 and "You already reviewed this order." in text_of(again)
    page = text_of(client_for(order.musician).get(f"/orders/{order.pk}/"))
    assert "The customer's review 4 out of 5 stars. Lovely" in page


def test_the_musician_moves_the_work_through_its_stages():
    order = OrderFactory(status=S.IN_PROGRESS)
    musician = client_for(order.musician)
    assert "Move to composition" in text_of(musician.get(f"/orders/{order.pk}/"))
    moved = action(musician, order, "advance_stage", {"note": "Lyrics drafted"}, **HTMX)
    assert moved.status_code == 200
    assert "The order is now in composition." in text_of(moved)
    assert "Move to recording" in text_of(moved)
    customer = text_of(client_for(order.customer).get(f"/orders/{order.pk}/"))
    assert "Moved to the next stage" in customer and "Lyrics drafted" in customer


def test_the_forms_carry_a_csrf_token_and_need_it():
    order = OrderFactory(status=S.PLACED)
    client = Client(enforce_csrf_checks=True)
    client.force_login(order.customer)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert action(client, order, "cancel").status_code == 403
    assert Order.objects.get(pk=order.pk).status == S.PLACED
    assert action(client, order, "cancel", {"csrfmiddlewaretoken": token}).status_code == 302
    assert Order.objects.get(pk=order.pk).status == S.CANCELLED
    form = client.get("/orders/new/").content.decode()
    assert 'name="csrfmiddlewaretoken"' in form


def test_the_musician_sees_why_a_draft_or_the_finals_failed_and_can_upload_again():
    order = OrderFactory(status=S.IN_PROGRESS)
    draft_of(order, status=MediaStatus.FAILED, failure_reason="The file is silent.")
    page = client_for(order.musician).get(f"/orders/{order.pk}/")
    assert "This draft could not be processed: The file is silent." in text_of(page)
    assert 'data-testid="upload-draft"' in page.content.decode()

    approved = OrderFactory(status=S.APPROVED)
    finals_of(approved, status=MediaStatus.FAILED, failure_reason="True peak above -1 dBTP.")
    page = client_for(approved.musician).get(f"/orders/{approved.pk}/")
    assert "Finals upload 1: Failed True peak above -1 dBTP." in text_of(page)
    assert 'data-testid="upload-finals"' in page.content.decode()
    # The customer is told what is happening, not the musician's QC details.
    customer = text_of(client_for(approved.customer).get(f"/orders/{approved.pk}/"))
    assert "prepares the finals" in customer and "True peak" not in customer


def test_staff_are_told_how_to_resolve_a_dispute_only_on_a_disputed_order():
    order = OrderFactory(status=S.IN_PROGRESS)
    staff = client_for(StaffFactory())
    services.order_open_dispute(
        order=order, actor=order.customer, reason="The musician stopped answering.", versions=[]
    )
    page = staff.get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    said = text_of(page)
    dispute = order.disputes.get()
    assert "Resolve it in the admin" in said
    assert f'href="/admin/disputes/inspect/{dispute.pk}/"' in page.content.decode()
    assert f"POST /api/orders/{order.pk}/resolve_dispute" in said
    assert "come later" not in said
    assert 'data-testid="open-dispute"' not in page.content.decode()

    quiet = text_of(staff.get(f"/orders/{OrderFactory(status=S.IN_PROGRESS).pk}/"))
    assert "You see this order as staff." in quiet
    assert "resolve_dispute" not in quiet and "Resolve it in the admin" not in quiet


# --- the page waits for the pipeline ------------------------------------------------------------


def test_a_processing_draft_is_polled_until_it_is_ready():
    order = OrderFactory(status=S.IN_PROGRESS)
    version = ready_version(order)
    Version.objects.filter(pk=version.pk).update(status=MediaStatus.PROCESSING, ready_at=None)
    client = client_for(order.customer)
    page = client.get(f"/orders/{order.pk}/").content.decode()
    watch = re.search(r'hx-get="([^"]+)" hx-trigger="every 3s"', page)
    assert watch, "the page polls while the draft is processing"
    assert '<meta http-equiv="refresh"' in page  # inside <noscript>, for pages without JS
    url = unescape(watch.group(1))

    assert client.get(url, **HTMX).status_code == 204  # nothing moved yet

    Version.objects.filter(pk=version.pk).update(status=MediaStatus.READY)
    Order.objects.filter(pk=order.pk).update(status=S.IN_REVIEW)
    changed = client.get(url, **HTMX)
    assert changed.status_code == 200
    assert changed["HX-Retarget"] == "#order-body" and changed["HX-Reswap"] == "outerHTML"
    assert "Draft in review" in text_of(changed) and "<audio controls" in changed.content.decode()
    assert 'hx-trigger="every 3s"' not in changed.content.decode()  # done: no more polling

    # Reloaded by hand, the page does not poll any more either.
    assert "every 3s" not in client.get(f"/orders/{order.pk}/").content.decode()


# --- the whole journey, with the sandbox and the real pipeline ---------------------------------


def pay_on_sandbox(client, checkout_url, pipeline):
    with pipeline():
        paid = client.post(path_of(checkout_url), {"outcome": "success"})
    assert paid.status_code == 302, paid.content
    return paid


def test_a_whole_commission_through_the_pages(sources, pipeline):  # noqa: F811
    customer = UserFactory()
    package = PackageFactory(price=200_001, revisions_included=1, delivery_days=7)
    musician = package.musician
    shopper, maker = client_for(customer), client_for(musician)

    # The customer commissions the song and pays the deposit on the sandbox's page.
    placed = shopper.post(f"/orders/new/?package={package.pk}", everything(package))
    assert placed.status_code == 302
    order = Order.objects.get()
    paid = pay_on_sandbox(shopper, placed["Location"], pipeline)
    back = shopper.get(path_of(paid["Location"]))
    assert back["Location"] == f"/orders/{order.pk}/"
    assert "Finding your musician" in text_of(shopper.get(back["Location"]))

    # The musician accepts and uploads a draft; the preview is made on commit.
    assert action(maker, order, "accept").status_code == 302
    with pipeline():
        uploaded = action(
            maker, order, "upload_draft", {"audio": upload_of(sources.music_wav), "note": "v1!"}
        )
    assert uploaded.status_code == 302
    order.refresh_from_db()
    assert order.status == S.IN_REVIEW, Version.objects.get().failure_reason

    # The customer hears the watermarked preview, never the original, and asks for a change.
    page = shopper.get(f"/orders/{order.pk}/").content.decode()
    preview = unescape(re.search(r'<audio controls[^>]*src="([^"]+)"', page).group(1))
    heard = shopper.get(preview, follow=True)
    assert heard.status_code == 200 and heard["Content-Type"] == "audio/mpeg"
    assert "original" not in heard.redirect_chain[-1][0] and "Your upload" not in page
    assert (
        action(shopper, order, "request_revision", {"feedback": "A slower start"}).status_code
        == 302
    )

    # v2 answers the feedback; the customer approves it.
    with pipeline():
        again = action(maker, order, "upload_draft", {"audio": upload_of(sources.music_mp3)})
    assert again.status_code == 302
    page = text_of(shopper.get(f"/orders/{order.pk}/"))
    assert "Version 2" in page and "This version answers the feedback: A slower start" in page
    assert action(shopper, order, "approve").status_code == 302

    # The musician uploads the finals; they pass QC and the order is delivered.
    with pipeline():
        finals = action(maker, order, "deliver", {"audio": upload_of(sources.music_wav)})
    assert finals.status_code == 302
    order.refresh_from_db()
    assert order.status == S.DELIVERED, order.deliveries.get().failure_reason

    # The customer pays the balance and lands back on the order, completed.
    checkout = action(shopper, order, "pay_balance")
    assert checkout.status_code == 302
    paid = pay_on_sandbox(shopper, checkout["Location"], pipeline)
    back = shopper.get(path_of(paid["Location"]))
    assert back["Location"] == f"/orders/{order.pk}/"
    page = shopper.get(back["Location"])
    assert "Completed" in text_of(page)

    # The FLAC downloads, and the customer leaves a review.
    flac = re.search(r'href="([^"]+)"[^>]*data-testid="download-flac"', page.content.decode())
    download = shopper.get(unescape(flac.group(1)), follow=True)
    assert download.status_code == 200
    assert body_of(download)[:4] == b"fLaC"
    reviewed = action(shopper, order, "review", {"rating": "5", "text": "We all cried."})
    assert reviewed.status_code == 302
    page = text_of(shopper.get(f"/orders/{order.pk}/"))
    assert "Thank you for your review." in page and "5 out of 5 stars. We all cried." in page
    assert "Post your review" not in page
    order.refresh_from_db()
    assert order.status == S.COMPLETED and order.review.rating == 5


def test_an_upload_that_is_not_audio_is_refused_on_the_file_field(sources):  # noqa: F811
    order = OrderFactory(status=S.IN_PROGRESS)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = action(
        client_for(order.musician),
        order,
        "upload_draft",
        {"audio": SimpleUploadedFile("notes.txt", b"just some words, not a song" * 40)},
    )
    assert response.status_code in (400, 415)
    assert re.search(
        r'id="draft-audio-error"[^>]*>[^<]*not an audio file', response.content.decode()
    )
    assert Version.objects.count() == 0
    missing = action(client_for(order.musician), order, "upload_draft", {"note": "forgot"})
    assert missing.status_code == 400 and "Choose the audio file of your draft." in text_of(missing)


# --- issue 10: what each page says ----------------------------------------------------------


def day(days: int) -> str:
    """A date as the pages write it: 7 May 2026."""
    return f"{(timezone.now() + timedelta(days=days)).date():%-d %B %Y}"


def step_post(client, step: int, url="/orders/new/", **data):
    return client.post(url, {"step": str(step), "action": "next", **data})


def test_step_one_checks_the_occasion_date_against_the_picked_package(user):
    package = PackageFactory(delivery_days=10, musician=MusicianFactory(display_name="Meera"))
    client = client_for(user)
    url = f"/orders/new/?package={package.pk}"

    first = client.get(url)
    html = first.content.decode()
    # The browser is told the earliest date, and the customer why, before typing one.
    assert f'min="{in_days(10)}"' in html
    assert f"{day(10)} or later: Meera takes 10 days" in text_of(first)
    carried = re.search(r'type="hidden" name="package" value="([^"]+)"', html).group(1)
    assert carried == str(package.pk)

    too_soon = step_post(client, 1, url, package=carried, **step1(occasion_date=in_days(5)))
    assert too_soon.status_code == 400
    assert "Step 1 of 3" in text_of(too_soon)
    error = field_error(too_soon, "occasion_date")
    # The same human date as the help text above the field.
    assert error == f"This takes 10 days: the occasion date is {day(10)} at the earliest."
    assert Order.objects.count() == 0

    in_time = step_post(client, 1, url, package=carried, **step1(occasion_date=in_days(10)))
    assert in_time.status_code == 200 and "Step 2 of 3" in text_of(in_time)


def test_step_one_checks_the_date_against_the_fastest_way_without_a_pick(user):
    PackageFactory(delivery_days=5)
    slow = PackageFactory(delivery_days=14)
    client = client_for(user)
    assert f'min="{in_days(5)}"' in client.get("/orders/new/").content.decode()

    too_soon = step_post(client, 1, **step1(occasion_date=in_days(3)))
    assert too_soon.status_code == 400 and "Step 1 of 3" in text_of(too_soon)
    assert "This takes 5 days" in field_error(too_soon, "occasion_date")

    in_time = step_post(client, 1, **step1(occasion_date=in_days(8)))
    assert in_time.status_code == 200 and "Step 2 of 3" in text_of(in_time)
    # A slower package picked on the last step sends the customer back to the date.
    placed = client.post(
        "/orders/new/",
        {"step": "3", "action": "submit", **everything(slow, occasion_date=in_days(8))},
    )
    assert placed.status_code == 400 and "Step 1 of 3" in text_of(placed)
    assert "This takes 14 days" in field_error(placed, "occasion_date")
    assert Order.objects.count() == 0


def test_the_lyrics_box_is_for_the_customers_own_lyrics(user):
    package = PackageFactory()
    client = client_for(user)
    second = step_post(client, 1, **step1())
    html = second.content.decode()
    # Without JavaScript the box is on the page; orders.js hides it unless it is wanted.
    assert 'data-field="lyrics"' in html and 'name="lyrics_choice"' in html
    assert "Only when you provide the lyrics" in text_of(second)

    for choice in ("musician", "instrumental"):
        third = step_post(client, 2, **step1(), **step2(lyrics_choice=choice, lyrics="La la la"))
        assert third.status_code == 200 and "Step 3 of 3" in text_of(third), choice
        summary = re.search(r'<dl class="facts">(.*?)</dl>', third.content.decode(), re.S)
        assert "La la la" not in summary.group(1) and "Your lyrics" not in summary.group(1)

    missing = step_post(client, 2, **step1(), **step2(lyrics_choice="customer", lyrics=" "))
    assert missing.status_code == 400
    assert "Paste your lyrics" in field_error(missing, "lyrics")

    placed = client.post("/orders/new/", everything(package, lyrics="Typed, then changed mind"))
    assert placed.status_code == 302
    order = Order.objects.get()
    assert (order.lyrics_choice, order.lyrics) == ("musician", "")
    own = client.post(
        "/orders/new/",
        everything(package, lyrics_choice="customer", lyrics="Happy birthday, Asha"),
    )
    assert own.status_code == 302
    assert Order.objects.get(lyrics_choice="customer").lyrics == "Happy birthday, Asha"


def test_the_watermark_note_is_shown_only_while_the_versions_are_previews():
    note = "A watermarked preview: the finals come without the watermark once"
    reviewing = OrderFactory(status=S.IN_REVIEW)
    ready_version(reviewing)
    customer = text_of(client_for(reviewing.customer).get(f"/orders/{reviewing.pk}/"))
    assert f"{note} you approve and they are delivered." in customer
    musician = text_of(client_for(reviewing.musician).get(f"/orders/{reviewing.pk}/"))
    assert "The customer hears this watermarked preview" in musician and note not in musician

    approved = OrderFactory(status=S.APPROVED)
    ready_version(approved)
    page = text_of(client_for(approved.customer).get(f"/orders/{approved.pk}/"))
    assert f"{note} they are delivered." in page and "you approve" not in page

    for status in (S.DELIVERED, S.COMPLETED):
        done = OrderFactory(status=status)
        ready_version(done)
        for person in (done.customer, done.musician):
            response = client_for(person).get(f"/orders/{done.pk}/")
            assert response.content.decode().count("<audio controls") == 1, status
            assert 'data-testid="watermark-note"' not in response.content.decode(), status

    # Finals delivered, then a dispute: the drafts are no previews of a song to come either.
    disputed = OrderFactory(status=S.DISPUTED)
    ready_version(disputed)
    finals_of(disputed)
    page = client_for(disputed.customer).get(f"/orders/{disputed.pk}/").content.decode()
    assert 'data-testid="watermark-note"' not in page


def order_status_on(client, order) -> str:
    html = client.get(f"/orders/{order.pk}/").content.decode()
    return unescape(re.search(r'data-testid="order-status">([^<]+)<', html).group(1))


def list_statuses(client, **params) -> dict[str, str]:
    """Each row of my orders: its title -> the status it shows."""
    html = client.get("/orders/", params).content.decode()
    rows = re.findall(
        r'<a href="/orders/[^"]+/">([^<]+)</a>.*?data-testid="row-status">([^<]+)<', html, re.S
    )
    return {unescape(title): unescape(status) for title, status in rows}


def test_a_musician_reads_statuses_meant_for_the_musician():
    musician = MusicianFactory()
    offered = OrderFactory(musician=musician, status=S.MATCHING, recipient_name="Kiran")
    reviewing = OrderFactory(musician=musician, status=S.IN_REVIEW, recipient_name="Dev")
    ready_version(reviewing)
    approved = OrderFactory(musician=musician, status=S.APPROVED, recipient_name="Mum")
    maker = client_for(musician)

    assert order_status_on(maker, offered) == "Waiting for your answer"
    assert order_status_on(maker, reviewing) == "Customer is reviewing your draft"
    assert order_status_on(maker, approved) == "Approved: upload the finals"
    assert list_statuses(maker) == {
        "Birthday song for Kiran": "Waiting for your answer",
        "Birthday song for Dev": "Customer is reviewing your draft",
        "Birthday song for Mum": "Approved: upload the finals",
    }
    # The customer and staff keep the customer's words.
    assert order_status_on(client_for(offered.customer), offered) == "Finding your musician"
    assert order_status_on(client_for(reviewing.customer), reviewing) == "Draft in review"
    assert order_status_on(client_for(StaffFactory()), reviewing) == "Draft in review"
    assert list_statuses(client_for(reviewing.customer)) == {
        "Birthday song for Dev": "Draft in review"
    }

    # An offer whose time ran out (the beat has not moved it on yet) asks nothing any more.
    OrderOffer.objects.filter(order=offered).update(expires_at=timezone.now() - timedelta(hours=1))
    assert order_status_on(maker, offered) == "Your time to answer is over"
    assert list_statuses(maker)["Birthday song for Kiran"] == "Your time to answer is over"


def test_staff_see_every_order_narrowed_by_status(django_assert_max_num_queries):
    staff = StaffFactory()
    placed = OrderFactory(status=S.PLACED, musician=None, recipient_name="Asha")
    offered = OrderFactory(status=S.MATCHING, recipient_name="Kiran")
    reviewing = OrderFactory(status=S.IN_REVIEW, recipient_name="Dev")
    client = client_for(staff)

    response = client.get("/orders/")
    page = text_of(response)
    assert "All orders" in page
    for order in (placed, offered, reviewing):
        assert order.title in page
    assert f"Commissioned by {placed.customer.display_name}, no musician yet" in page
    assert f", offered to {offered.musician.display_name}" in page
    assert (
        f"Commissioned by {reviewing.customer.display_name} from "
        f"{reviewing.musician.display_name}" in page
    )

    only = text_of(client.get("/orders/", {"status": "in_review"}))
    assert "Birthday song for Dev" in only
    assert "Birthday song for Asha" not in only and "Birthday song for Kiran" not in only
    assert 'value="in_review" selected' in client.get("/orders/?status=in_review").content.decode()
    nothing = text_of(client.get("/orders/", {"status": "refunded"}))
    assert "No orders with this status." in nothing
    # Staff's own commissions stay one tab away; a status that does not exist is ignored.
    assert "Birthday song" not in text_of(client.get("/orders/", {"show": "commissioned"}))
    assert text_of(client.get("/orders/", {"status": "nonsense"})).count("Birthday song") == 3

    # Everyone else still sees their own orders only, whatever they ask for.
    customer_page = text_of(client_for(placed.customer).get("/orders/", {"status": "in_review"}))
    assert "Birthday song for Dev" not in customer_page and "All orders" not in customer_page

    for _ in range(22):
        OrderFactory(status=S.IN_REVIEW)
    with django_assert_max_num_queries(8):
        first = client.get("/orders/", {"status": "in_review"})
    assert text_of(first).count("Birthday song for") == 20
    assert "Page 1 of 2" in text_of(first)
    # The pages keep the filter.
    assert "?status=in_review&amp;page=2" in first.content.decode()
    second = text_of(client.get("/orders/", {"status": "in_review", "page": 2}))
    assert second.count("Birthday song for") == 3 and "Kiran" not in second


def test_the_picked_musician_is_named_from_the_first_step(user):
    meera = MusicianFactory(display_name="Meera Nair")
    package = PackageFactory(musician=meera, name="Birthday song", price=250_000, delivery_days=7)
    PackageFactory(musician=MusicianFactory(display_name="Theo"))
    client = client_for(user)

    first = text_of(client.get(f"/orders/new/?package={package.pk}"))
    assert "Step 1 of 3" in first
    # (the name is in bold: text_of reads the tag as a space)
    named = "Your song by Meera Nair : Birthday song, ₹2,500.00, ready 7 days after they accept."
    assert named in first
    assert "Available now" in first

    from_discover = client.get(f"/orders/new/?musician={meera.pk}")
    assert "Your song by Meera Nair ." in text_of(from_discover)
    second = step_post(client, 1, f"/orders/new/?musician={meera.pk}", **step1())
    assert "Step 2 of 3" in text_of(second) and "Your song by Meera Nair" in text_of(second)

    # Nobody picked: nobody named; asking to be matched names nobody either.
    assert "Your song by" not in text_of(client.get("/orders/new/"))
    matched = client.post(
        f"/orders/new/?package={package.pk}",
        {"step": "2", "action": "next", **step1(), **step2(), "package": "match"},
    )
    assert "Step 3 of 3" in text_of(matched) and "Your song by" not in text_of(matched)


def test_the_commission_form_says_when_the_picked_musician_is_not_free(user):
    busy = MusicianFactory(display_name="Busy Bea")
    MusicianProfileFactory(musician=busy, capacity=1)
    OrderFactory(musician=busy, status=S.IN_PROGRESS, delivery_days=9)
    package = PackageFactory(musician=busy, name="Quick song")
    paused = MusicianFactory(display_name="Paused Pia")
    MusicianProfileFactory(musician=paused, accepting_orders=False)
    client = client_for(user)

    first = text_of(client.get(f"/orders/new/?package={package.pk}"))
    assert f"Fully booked, next free on {day(9)}" in first
    assert "ask us to match you with a musician who is free" in first
    pia = text_of(client.get(f"/orders/new/?musician={paused.pk}"))
    assert "Your song by Paused Pia ." in pia and "Paused: not taking new commissions" in pia

    # On the last step each package says whether its musician is free.
    third = text_of(
        client.post("/orders/new/", {"step": "2", "action": "next", **step1(), **step2()})
    )
    label = "Busy Bea: Quick song, ₹2,000.01, 7 days, 2 revisions included"
    assert f"{label} (fully booked, next free on {day(9)})" in third


def test_the_package_choices_read_availability_once_for_all(user, django_assert_max_num_queries):
    client = client_for(user)
    wanted = {"step": "2", "action": "next", **step1(), **step2()}

    def queries_for_the_last_step() -> int:
        with django_assert_max_num_queries(12) as counted:
            response = client.post("/orders/new/", wanted)
        assert response.status_code == 200 and "Step 3 of 3" in text_of(response)
        return len(counted.captured_queries)

    PackageFactory()
    queries_for_the_last_step()  # the first read creates the marketplace settings
    one = queries_for_the_last_step()
    for _ in range(8):
        musician = MusicianFactory()
        MusicianProfileFactory(musician=musician, capacity=1)
        OrderFactory(musician=musician, status=S.IN_PROGRESS)
        PackageFactory(musician=musician)
    assert queries_for_the_last_step() == one
    assert text_of(client.post("/orders/new/", wanted)).count("(fully booked, next free on") == 8


# --- what QA found in a real browser ------------------------------------------------------------


def test_placing_without_payments_configured_answers_the_message_as_a_fragment(user, settings):
    """orders.js swaps in any answer marked as a fragment, a 503 included."""
    no_provider_keys(settings)
    settings.BILLING_SANDBOX = False
    package = PackageFactory()
    response = client_for(user).post(
        "/orders/new/", {"step": "3", "action": "submit", **everything(package)}, **HTMX
    )
    assert response.status_code == 503
    assert response["X-Orders-Fragment"] == "1"
    assert "Payments are not configured on this site yet" in text_of(response)
    assert 'id="commission-form"' in response.content.decode()


def test_the_stable_preview_link_answers_with_a_fresh_signed_link_to_whoever_may_hear_it(
    monkeypatch,
):
    order = OrderFactory(status=S.IN_REVIEW)
    ready_version(order)
    url = f"/orders/{order.pk}/versions/1/preview/"
    customer = client_for(order.customer)

    first = customer.get(url)
    assert first.status_code == 302 and first["Cache-Control"] == "no-store"
    signed = first["Location"]
    assert signed.startswith("/media/s/")
    assert customer.get(signed).status_code == 200

    # Long after that link expired (600 s + the track), the page's player still plays.
    later = time.time() + 3 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert customer.get(signed).status_code == 403
    again = customer.get(url)
    assert again.status_code == 302 and again["Location"] != signed
    assert customer.get(again["Location"]).status_code == 200

    # The musician and staff hear it too; nobody else learns it exists.
    assert client_for(order.musician).get(url).status_code == 302
    assert client_for(StaffFactory()).get(url).status_code == 302
    assert client_for(UserFactory()).get(url).status_code == 404
    assert customer.get(f"/orders/{order.pk}/versions/2/preview/").status_code == 404
    signed_out = Client().get(url)
    assert signed_out.status_code == 302 and "/media/s/" not in signed_out["Location"]


def test_the_original_and_the_downloads_are_stable_links_too():
    order = OrderFactory(status=S.IN_REVIEW)
    ready_version(order)
    musician = client_for(order.musician)
    html = musician.get(f"/orders/{order.pk}/").content.decode()
    original = f"/orders/{order.pk}/versions/1/original/"
    assert f'href="{original}"' in html
    assert musician.get(original)["Location"].startswith("/media/s/")
    # The customer never gets the musician's upload.
    assert client_for(order.customer).get(original).status_code == 404

    completed = OrderFactory(status=S.COMPLETED)
    finals = finals_of(completed)
    RenditionFactory(asset=finals.asset, kind=Rendition.Kind.DELIVERY_MP3)
    customer = client_for(completed.customer)
    page = customer.get(f"/orders/{completed.pk}/").content.decode()
    link = f"/orders/{completed.pk}/downloads/mp3/"
    assert f'href="{link}"' in page and "/media/s/" not in page
    assert customer.get(link)["Location"].startswith("/media/s/")
    assert customer.get(f"/orders/{completed.pk}/downloads/wav/").status_code == 404
    assert client_for(UserFactory()).get(link).status_code == 404


def test_approve_and_revise_carry_the_version_shown_and_a_newer_one_is_said_clearly():
    order = OrderFactory(status=S.IN_REVIEW, revisions_included=2)
    ready_version(order, number=1)
    ready_version(order, number=2)
    html = client_for(order.customer).get(f"/orders/{order.pk}/").content.decode()
    forms = re.findall(
        r'<form[^>]*action="[^"]*/(approve|request_revision)/".*?</form>', html, re.S
    )
    assert forms == ["approve", "request_revision"]
    for form in re.findall(
        r'<form[^>]*action="[^"]*/(?:approve|request_revision)/".*?</form>', html, re.S
    ):
        assert '<input type="hidden" name="version" value="2">' in form


def test_step_three_lists_only_packages_that_fit_the_occasion_and_its_date(user):
    PackageFactory(name="Birthday quick", occasions=["birthday"], delivery_days=5)
    PackageFactory(name="Any occasion", occasions=[], delivery_days=7)
    PackageFactory(name="Wedding song", occasions=["wedding"], delivery_days=5)
    PackageFactory(name="Slow epic", occasions=[], delivery_days=14)
    client = client_for(user)
    third = client.post(
        "/orders/new/",
        {"step": "2", "action": "next", **step1(occasion_date=in_days(8)), **step2()},
    )
    said = text_of(third)
    assert "Step 3 of 3" in said
    assert "Birthday quick" in said and "Any occasion" in said
    assert "Wedding song" not in said and "Slow epic" not in said
    assert (
        "2 packages not shown: 1 made for other occasions than birthday and "
        f"1 that cannot be ready by {day(8)}." in said
    )

    # Without a date only the occasion counts.
    roomy = text_of(
        client.post(
            "/orders/new/",
            {"step": "2", "action": "next", **step1(occasion="wedding"), **step2()},
        )
    )
    assert "Wedding song" in roomy and "Slow epic" in roomy and "Birthday quick" not in roomy
    assert "1 package not shown: 1 made for other occasions than wedding." in roomy


def test_an_unavailable_musicians_package_is_shown_but_cannot_be_picked(user):
    paused = MusicianFactory(display_name="Paused Pia")
    MusicianProfileFactory(musician=paused, accepting_orders=False)
    package = PackageFactory(musician=paused, name="Pia song")
    client = client_for(user)
    third = client.post("/orders/new/", {"step": "2", "action": "next", **step1(), **step2()})
    html = third.content.decode()
    radio = re.search(rf'<input[^>]*value="{package.pk}"[^>]*>', html).group(0)
    assert "disabled" in radio
    assert "Pia song" in text_of(third) and "paused: not taking new commissions" in text_of(third)

    placed = client.post("/orders/new/", {"step": "3", "action": "submit", **everything(package)})
    assert placed.status_code == 400
    assert "Paused: not taking new commissions. Choose another package" in field_error(
        placed, "package"
    )
    assert Order.objects.count() == 0


def test_a_musician_opening_their_own_card_is_told_they_cannot_commission_themselves():
    musician = MusicianFactory(display_name="Meera")
    own = PackageFactory(musician=musician)
    client = client_for(musician)
    for url in (f"/orders/new/?musician={musician.pk}", f"/orders/new/?package={own.pk}"):
        said = text_of(client.get(url))
        assert "you cannot commission a song from yourself" in said, url
    assert "cannot commission" not in text_of(client.get("/orders/new/"))


def test_times_on_order_pages_name_their_zone():
    order = OrderFactory(status=S.MATCHING)  # offered to its musician
    musician = client_for(order.musician)
    for page in (musician.get(f"/orders/{order.pk}/"), musician.get("/orders/")):
        said = text_of(page)
        assert "Answer by" in said
        stamps = re.findall(r"\d{1,2} \w{3} \d{4}, \d{2}:\d{2}(?: ([A-Z]{3}))?", said)
        assert stamps and set(stamps) == {"UTC"}, stamps


def test_staff_read_all_orders_in_the_menu():
    staff = text_of(client_for(StaffFactory()).get("/orders/"))
    assert "All orders" in staff
    nav = client_for(StaffFactory()).get("/orders/").content.decode()
    assert re.search(r'<ul id="nav-links".*?</ul>', nav, re.S).group(0).count("My orders") == 0
    customer = client_for(UserFactory()).get("/orders/").content.decode()
    assert ">My orders<" in re.search(r'<ul id="nav-links".*?</ul>', customer, re.S).group(0)


def test_answering_a_draft_a_newer_one_replaced_says_which_to_hear_and_shows_it():
    order = OrderFactory(status=S.IN_REVIEW, revisions_included=2)
    ready_version(order, number=1)
    ready_version(order, number=2)  # arrived while the customer's page showed v1
    customer = client_for(order.customer)
    for name, data in (("approve", {}), ("request_revision", {"feedback": "Slower, please."})):
        answer = action(customer, order, name, {"version": "1", **data}, **HTMX)
        assert answer.status_code == 409, name
        assert answer["X-Orders-Fragment"] == "1"
        said = text_of(answer)
        assert "A newer draft (v2) arrived: listen to it first" in said, name
        # The fragment brings the new draft and the forms now answer it.
        assert 'data-testid="version-2"' in answer.content.decode()
        assert '<input type="hidden" name="version" value="2">' in answer.content.decode()
    order.refresh_from_db()
    assert order.status == S.IN_REVIEW and order.revisions_used == 0

    approved = action(customer, order, "approve", {"version": "2"})
    assert approved.status_code == 302
    order.refresh_from_db()
    assert order.status == S.APPROVED
