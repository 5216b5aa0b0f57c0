"""The tracking timeline shows only the stages an order actually passed: a draft sent for review
from composition does not claim recording and production happened. One selector
(selectors.order_timeline) gives the page its timeline, and the API the same."""

import re

import pytest

from orders import selectors, services
from orders.models import OrderStatus
from tests.factories import StaffFactory
from tests.orders.conftest import client_for
from tests.orders.factories import OrderFactory, api_client_for

pytestmark = pytest.mark.django_db
S = OrderStatus


def accepted_order():
    """An order its musician accepted (the accept event records the consultation stage)."""
    order = OrderFactory(status=S.MATCHING)
    return services.order_accept(order=order, musician=order.musician)


def advanced(order, times: int):
    for _ in range(times):
        order = services.order_advance_stage(order=order, musician=order.musician)
    return order


def stages(order) -> list[tuple[str, str]]:
    step = next(s for s in selectors.order_timeline(order) if s["status"] == S.IN_PROGRESS)
    return [(stage["stage"], stage["state"]) for stage in step["stages"]]


def states(order) -> dict:
    return {step["status"]: step["state"] for step in selectors.order_timeline(order)}


def test_a_draft_from_composition_shows_only_the_stages_it_passed():
    order = advanced(accepted_order(), 1)
    assert stages(order) == [
        ("consultation", "done"),
        ("composition", "current"),
        ("recording", "upcoming"),
        ("production", "upcoming"),
    ]
    order = services.order_submit_draft(order=order, musician=order.musician)
    assert stages(order) == [("consultation", "done"), ("composition", "done")]
    assert states(order)[S.IN_PROGRESS] == "done"
    assert states(order)[S.IN_REVIEW] == "current"
    order = services.order_approve(order=order, customer=order.customer)
    assert stages(order) == [("consultation", "done"), ("composition", "done")]


def test_every_stage_passed_is_done_once_the_draft_is_in():
    order = advanced(accepted_order(), 3)
    order = services.order_submit_draft(order=order, musician=order.musician)
    assert stages(order) == [
        ("consultation", "done"),
        ("composition", "done"),
        ("recording", "done"),
        ("production", "done"),
    ]


def test_a_revision_is_work_on_the_stage_the_order_is_in():
    order = advanced(accepted_order(), 2)
    order = services.order_submit_draft(order=order, musician=order.musician)
    services.order_request_revision(order=order, customer=order.customer, feedback="Slower.")
    order.refresh_from_db()
    assert stages(order) == [
        ("consultation", "done"),
        ("composition", "done"),
        ("recording", "current"),
        ("production", "upcoming"),
    ]
    step = next(s for s in selectors.order_timeline(order) if s["status"] == S.IN_PROGRESS)
    assert step["label"] == "In progress: revision requested" and step["state"] == "current"


def test_before_the_work_starts_every_stage_is_to_come_and_a_cancelled_order_has_none():
    waiting = OrderFactory(status=S.MATCHING)
    assert {state for _, state in stages(waiting)} == {"upcoming"} and len(stages(waiting)) == 4
    placed = OrderFactory(status=S.PLACED)
    cancelled = services.order_cancel(order=placed, actor=placed.customer)
    assert stages(cancelled) == []
    assert states(cancelled)[S.PLACED] == "stopped"


def test_an_order_stopped_by_a_dispute_stops_on_its_stage():
    order = advanced(accepted_order(), 2)
    services.order_open_dispute(order=order, actor=order.customer, reason="Nothing for weeks now.")
    order.refresh_from_db()
    assert stages(order) == [
        ("consultation", "done"),
        ("composition", "done"),
        ("recording", "current"),
    ]
    assert states(order)[S.IN_PROGRESS] == "stopped"
    services.dispute_resolve(order=order, staff=StaffFactory(), outcome="continue")
    order.refresh_from_db()
    assert stages(order)[-2:] == [("recording", "current"), ("production", "upcoming")]


def test_the_selector_reads_the_prefetched_events(django_assert_num_queries):
    order = advanced(accepted_order(), 1)
    detailed = selectors.order_detail_for(order.customer, order.pk)
    with django_assert_num_queries(0):
        selectors.order_timeline(detailed)


def test_the_page_and_the_api_show_the_same_stages():
    order = advanced(accepted_order(), 1)
    order = services.order_submit_draft(order=order, musician=order.musician)
    page = client_for(order.customer).get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    timeline = re.search(r'data-testid="timeline".*?</ol>\s*</section>', page.text, re.S)[0]
    assert "Composition" in timeline
    assert "Recording" not in timeline and "Production" not in timeline
    body = api_client_for(order.customer).get(f"/api/orders/{order.pk}").json()
    in_progress = next(s for s in body["timeline"] if s["status"] == "in_progress")
    assert [s["stage"] for s in in_progress["stages"]] == ["consultation", "composition"]
