"""What people read about an order, worded for who reads it: the deposit notice of an order
nobody accepted yet says it is being offered (not that the work can start), the history says
who accepted once ("Accepted by Mira", not "by the musician by Mira"), and the musician reads
neither "Finding your musician" nor the customer's budget."""

import re

import pytest
from django.core import mail
from django.utils import timezone

from notifications.models import Notification
from orders.models import OrderStatus
from tests.factories import MusicianFactory, UserFactory
from tests.orders.conftest import client_for
from tests.orders.factories import PackageFactory, api_client_for, brief, paid_on_the_sandbox_page
from tests.orders.test_match_pricing import matched_and_paid
from tests.orders.test_pages import text_of

pytestmark = pytest.mark.django_db
S = OrderStatus


def history_of(response) -> list[str]:
    """The lines of the order's history as the page shows them."""
    html = response.content.decode()
    block = re.search(r'data-testid="order-history">(.*?)</ol>', html, re.S).group(1)
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip()
        for item in re.findall(r"<li>(.*?)</li>", block, re.S)
    ]


def placed_and_paid(customer, on_commit, **order):
    placed = api_client_for(customer).post("/api/orders", {**order, **brief()}, format="json")
    assert placed.status_code == 201, placed.content
    paid_on_the_sandbox_page(placed.json()["deposit"]["checkout_url"], on_commit)
    return placed.json()["id"]


def verified_customer():
    return UserFactory(email_verified_at=timezone.now())


def test_the_deposit_notice_of_a_matched_order_says_it_is_being_offered(
    sandbox_provider, django_capture_on_commit_callbacks
):
    musician = MusicianFactory()
    PackageFactory(musician=musician, price=100_000)
    customer = verified_customer()
    placed = api_client_for(customer).post(
        "/api/orders", {"match": True, **brief(budget=300_000)}, format="json"
    )
    assert placed.status_code == 201, placed.content
    paid_on_the_sandbox_page(
        placed.json()["deposit"]["checkout_url"], django_capture_on_commit_callbacks
    )

    notice = Notification.objects.get(recipient=customer, event="order.deposit_received")
    assert "being offered to musicians who fit your brief" in notice.body
    assert "We will tell you when it is accepted." in notice.body
    assert "can start" not in notice.body
    [email] = [m for m in mail.outbox if m.subject.startswith("Deposit received")]
    assert "We are offering it to musicians who fit your brief" in email.body
    assert "as soon as one of them accepts" in email.body
    assert "can start" not in email.body


def test_the_deposit_notice_of_a_pick_names_the_musician_it_is_offered_to(
    sandbox_provider, django_capture_on_commit_callbacks
):
    package = PackageFactory(musician=MusicianFactory(display_name="Mira Musician"))
    customer = verified_customer()
    placed_and_paid(customer, django_capture_on_commit_callbacks, package=str(package.pk))

    notice = Notification.objects.get(recipient=customer, event="order.deposit_received")
    assert "being offered to Mira Musician" in notice.body
    [email] = [m for m in mail.outbox if m.subject.startswith("Deposit received")]
    assert "We are offering it to Mira Musician" in email.body
    assert "as soon as they accept" in email.body
    assert "can start" not in email.body


def test_the_history_names_who_accepted_once(sandbox_provider, django_capture_on_commit_callbacks):
    package = PackageFactory(musician=MusicianFactory(display_name="Mira Musician"))
    customer = UserFactory()
    order_id = placed_and_paid(
        customer, django_capture_on_commit_callbacks, package=str(package.pk)
    )
    with django_capture_on_commit_callbacks(execute=True):
        api_client_for(package.musician).post(f"/api/orders/{order_id}/accept")

    for person in (customer, package.musician):
        lines = history_of(client_for(person).get(f"/orders/{order_id}/"))
        accepted = [line for line in lines if "Accepted" in line]
        assert len(accepted) == 1 and accepted[0].endswith("Accepted by Mira Musician")
        assert not any("by the musician by" in line for line in lines)


def test_the_musician_reads_their_own_words_not_the_customers_budget(
    sandbox_provider, django_capture_on_commit_callbacks
):
    order, musician, _ = matched_and_paid(django_capture_on_commit_callbacks)
    offered = client_for(musician).get(f"/orders/{order.pk}/")
    assert "Finding your musician" not in text_of(offered)
    assert "Offered to you" in text_of(offered)
    steps = api_client_for(musician).get(f"/api/orders/{order.pk}").json()["timeline"]
    assert [s["label"] for s in steps][:2] == ["Placed", "Offered to you"]

    with django_capture_on_commit_callbacks(execute=True):
        api_client_for(musician).post(f"/api/orders/{order.pk}/accept")
    page = text_of(client_for(musician).get(f"/orders/{order.pk}/"))
    assert "Finding your musician" not in page
    assert "your budget was" not in page
    assert "Priced at your package, ₹1,500.01." in page
    notes = [
        e["note"] for e in api_client_for(musician).get(f"/api/orders/{order.pk}").json()["events"]
    ]
    assert not any("budget" in note for note in notes)

    # The customer still reads their own words.
    customer = text_of(client_for(order.customer).get(f"/orders/{order.pk}/"))
    assert "Finding your musician" in customer
    assert "(your budget was ₹5,000.01)" in customer
