"""Orders in the Wagtail admin: staff find orders by filters and search, and read an order's
timeline, money, chat and versions with their QC results. Read-only; staff only."""

import uuid
from datetime import timedelta

import pytest
from django.db import reset_queries
from django.utils import timezone

from audio.models import QualityCheck, QualityReport
from orders.models import ChatMessage, Order, OrderStatus
from tests.factories import MusicianFactory, UserFactory
from tests.orders.admin_helpers import assert_refused, non_staff_people, staff_client
from tests.orders.factories import OrderFactory, draft_of
from tests.orders.test_disputes import PRICE, paid_order

pytestmark = pytest.mark.django_db
S = OrderStatus
LIST = "/admin/orders/"


def inspect_url(order) -> str:
    return f"/admin/orders/inspect/{order.pk}/"


def listed(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def accepted(order, *, days_ago: float, delivery_days: int = 7):
    Order.objects.filter(pk=order.pk).update(
        accepted_at=timezone.now() - timedelta(days=days_ago), delivery_days=delivery_days
    )
    return order


def test_staff_filter_orders_by_status_stage_musician_customer_and_dates():
    _, client = staff_client()
    meera = MusicianFactory(display_name="Meera Nair")
    waiting = OrderFactory(status=S.MATCHING, recipient_name="Waiting Wanda", musician=None)
    recording = OrderFactory(
        status=S.IN_PROGRESS, stage="recording", recipient_name="Recording Ravi", musician=meera
    )
    done = OrderFactory(
        status=S.COMPLETED,
        recipient_name="Done Dev",
        customer=UserFactory(email="priya@example.com", display_name="Priya Shah"),
    )
    Order.objects.filter(pk=done.pk).update(created_at=timezone.now() - timedelta(days=40))

    by_status = listed(client.get(LIST, {"status": "matching"}))
    assert "Waiting Wanda" in by_status and "Recording Ravi" not in by_status

    by_stage = listed(client.get(LIST, {"stage": "recording"}))
    assert "Recording Ravi" in by_stage and "Waiting Wanda" not in by_stage

    by_musician = listed(client.get(LIST, {"musician": str(meera.pk)}))
    assert "Recording Ravi" in by_musician and "Done Dev" not in by_musician

    by_customer = listed(client.get(LIST, {"customer": "Priya"}))
    assert "Done Dev" in by_customer and "Recording Ravi" not in by_customer

    old = (timezone.now() - timedelta(days=41)).date().isoformat()
    older = (timezone.now() - timedelta(days=39)).date().isoformat()
    by_date = listed(client.get(LIST, {"created_from": old, "created_to": older}))
    assert "Done Dev" in by_date and "Waiting Wanda" not in by_date
    assert waiting.pk and recording.pk


def test_staff_find_late_orders_and_orders_due_in_a_range():
    _, client = staff_client()
    late = accepted(OrderFactory(status=S.IN_PROGRESS, recipient_name="Late Lata"), days_ago=9)
    on_time = accepted(OrderFactory(status=S.IN_REVIEW, recipient_name="Fresh Farah"), days_ago=2)
    delivered = accepted(OrderFactory(status=S.DELIVERED, recipient_name="Given Gita"), days_ago=20)
    Order.objects.filter(pk=delivered.pk).update(delivered_at=timezone.now() - timedelta(days=1))
    # A long order accepted long ago is not late: its term is longer.
    long_term = accepted(
        OrderFactory(status=S.IN_PROGRESS, recipient_name="Patient Pia"),
        days_ago=20,
        delivery_days=30,
    )

    page = listed(client.get(LIST, {"late": "true"}))
    assert "Late Lata" in page
    for name in ("Fresh Farah", "Given Gita", "Patient Pia"):
        assert name not in page

    # Due dates: Lata was due 2 days ago, Farah in 5 days, Pia in 10.
    today = timezone.now().date()
    due = listed(
        client.get(
            LIST,
            {
                "due_from": (today + timedelta(days=4)).isoformat(),
                "due_to": (today + timedelta(days=11)).isoformat(),
            },
        )
    )
    assert "Fresh Farah" in due and "Patient Pia" in due and "Late Lata" not in due
    assert on_time.pk and long_term.pk and late.pk


@pytest.mark.parametrize(
    "query",
    ["id", "customer_email", "customer_name", "musician_email", "musician_name", "occasion", "to"],
)
def test_staff_search_orders(query):
    _, client = staff_client()
    customer = UserFactory(email="kiran.rao@example.com", display_name="Kiran Rao")
    musician = MusicianFactory(email="tara.songs@example.com", display_name="Tara Menon")
    order = OrderFactory(
        status=S.IN_PROGRESS,
        customer=customer,
        musician=musician,
        occasion="graduation",
        recipient_name="Zubin",
    )
    OrderFactory(status=S.IN_PROGRESS, recipient_name="Somebody Else", occasion="birthday")
    terms = {
        "id": str(order.pk),
        "customer_email": "kiran.rao@",
        "customer_name": "Kiran",
        "musician_email": "tara.songs",
        "musician_name": "Menon",
        "occasion": "graduation",
        "to": "Zubin",
    }

    page = listed(client.get(LIST, {"q": terms[query]}))

    assert "Zubin" in page and "Somebody Else" not in page


def test_the_listing_costs_the_same_few_queries_for_many_orders(django_assert_max_num_queries):
    _, client = staff_client()
    for _ in range(3):
        OrderFactory(status=S.IN_PROGRESS)
    client.get(LIST)  # warm the session and Wagtail's caches
    with django_assert_max_num_queries(20) as few:
        listed(client.get(LIST))
    budget = len(few.captured_queries)  # before the log is reset
    for _ in range(30):
        OrderFactory(status=S.IN_PROGRESS)
    with django_assert_max_num_queries(budget):
        page = listed(client.get(LIST))
    assert page.count("/admin/orders/inspect/") >= 33


def test_the_inspect_page_shows_timeline_money_chat_and_versions_with_qc(
    django_capture_on_commit_callbacks,
):
    _, client = staff_client()
    order = paid_order(django_capture_on_commit_callbacks, status=S.IN_REVIEW)
    version = draft_of(order, number=1, note="First take, acoustic.")
    report = QualityReport.objects.create(asset=version.asset, stage="source", status="warning")
    QualityCheck.objects.create(
        report=report,
        name="loudness",
        status="warning",
        measured=-9.5,
        threshold=-10,
        unit="LUFS",
        message="Louder than the delivery target.",
    )
    ChatMessage.objects.create(
        order=order, sender=order.customer, client_msg_id=uuid.uuid4(), body="Can it be slower?"
    )

    page = listed(client.get(inspect_url(order)))

    # The timeline, as the one timeline selector words it for staff, and the events.
    assert '<li data-state="current"><strong>Review</strong>' in page
    assert '<li data-state="done"><strong>Placed</strong>' in page
    assert "deposit_captured" in page and "submit_draft" in page
    # The money: the deposit captured into the escrow, which holds it.
    assert "order_deposit" in page and "Captured" in page
    assert f"escrow:order:{order.pk}" in page
    assert "₹1,000.01" in page  # the deposit of ₹2,000.01, held in escrow
    assert "external:sandbox:payments" in page
    # The chat and the versions with their QC.
    assert "Can it be slower?" in page
    assert "First take, acoustic." in page
    assert "Louder than the delivery target." in page and "loudness" in page
    assert order.price == PRICE


def test_the_inspect_page_costs_the_same_queries_however_long_the_order(
    django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    _, client = staff_client()
    order = paid_order(django_capture_on_commit_callbacks, status=S.IN_REVIEW)

    def drafts(numbers):
        for number in numbers:
            version = draft_of(order, number=number)
            report = QualityReport.objects.create(
                asset=version.asset, stage="source", status="passed"
            )
            QualityCheck.objects.create(report=report, name="peak", status="passed", message="ok")

    drafts([1])
    ChatMessage.objects.create(
        order=order, sender=order.customer, client_msg_id=uuid.uuid4(), body="first"
    )
    client.get(inspect_url(order))
    reset_queries()  # the payments filled the query log: a full log counts nothing
    with django_assert_max_num_queries(40) as few:
        listed(client.get(inspect_url(order)))
    budget = len(few.captured_queries)  # before the log is reset
    drafts(range(2, 6))
    for index in range(20):
        ChatMessage.objects.create(
            order=order, sender=order.musician, client_msg_id=uuid.uuid4(), body=f"note {index}"
        )
    reset_queries()
    with django_assert_max_num_queries(budget):
        page = listed(client.get(inspect_url(order)))
    assert "note 19" in page and "v5" in page


def test_an_unknown_order_is_404():
    _, client = staff_client()
    assert client.get(f"/admin/orders/inspect/{uuid.uuid4()}/").status_code == 404


def test_nobody_edits_adds_or_deletes_an_order_in_the_admin():
    _, client = staff_client()
    order = OrderFactory(status=S.IN_PROGRESS, recipient_name="Asha")
    for path in (
        "/admin/orders/new/",
        f"/admin/orders/edit/{order.pk}/",
        f"/admin/orders/delete/{order.pk}/",
    ):
        response = client.post(path, {"recipient_name": "Changed"})
        assert response.status_code in (302, 403), path
    order.refresh_from_db()
    assert order.recipient_name == "Asha" and Order.objects.filter(pk=order.pk).exists()


@pytest.mark.parametrize("who", ["customer", "musician"])
def test_customers_and_musicians_get_no_order_screen(who, client):
    person = non_staff_people()[who]
    order = OrderFactory(status=S.IN_PROGRESS, **{who: person})
    client.force_login(person)

    for path in (LIST, inspect_url(order), f"{LIST}?q=Asha"):
        assert_refused(client.get(path), text=order.story)
