"""Staff settle a dispute in the Wagtail admin, in a real browser: they log into the admin,
follow the home page's open-dispute figure to the queue, read the dispute, and resolve it with
a partial refund (a split). Then the customer and the musician each open their order page and
their notifications and see the outcome."""

import re
import threading

import pytest
from django.db import connection
from playwright.sync_api import expect

from billing.services.ledger import balance
from orders.models import DisputeStatus, OrderStatus
from tests.billing.factories import no_provider_keys
from tests.e2e.test_commission_journey import log_in, second_session
from tests.factories import DEFAULT_PASSWORD, StaffFactory
from tests.orders.test_disputes import disputed, paid_order

pytestmark = pytest.mark.e2e

SCREENSHOT = "/tmp/e2e-dispute-admin.png"


@pytest.fixture
def sandbox_settings(settings, live_server):
    settings.SITE_URL = live_server.url
    settings.BILLING_CURRENCY = "INR"
    settings.SANDBOX_WEBHOOK_URL = ""
    no_provider_keys(settings)
    return settings


def outside_the_browser_loop(work):
    """Run `work` in a thread of its own: Playwright's event loop runs in the test's thread,
    where the services' after-commit pushes (async_to_sync) cannot run."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def admin_log_in(page, user):
    page.goto("/admin/login/")
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.I)).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def test_staff_resolve_a_dispute_with_a_partial_refund_and_both_sides_see_it(
    page, browser, live_server, browser_log, sandbox_settings, django_capture_on_commit_callbacks
):
    order = outside_the_browser_loop(
        lambda: disputed(
            paid_order(django_capture_on_commit_callbacks, status=OrderStatus.IN_REVIEW),
            reason="The draft is a rock song; we asked for a lullaby.",
        )
    )
    staff = StaffFactory(display_name="Sam from Encore")

    admin_log_in(page, staff)
    panel = page.get_by_test_id("marketplace-today")
    expect(panel).to_contain_text("1 open dispute")
    panel.get_by_role("link", name=re.compile("open dispute")).click()
    expect(page).to_have_url(re.compile(r"/admin/disputes/$"))
    row = page.get_by_role("row").filter(has_text=str(order))
    expect(row).to_have_count(1)
    row.get_by_role("link").first.click()

    expect(page.get_by_test_id("dispute-reason")).to_contain_text("we asked for a lullaby")
    expect(page.get_by_test_id("escrow-held")).to_have_text("₹1,000.01")
    # A refund above what the escrow holds is explained, and nothing moves.
    page.get_by_label(re.compile(r"^Partial refund \(a split\)")).check()
    page.get_by_label(re.compile("Refund to the customer")).fill("5000")
    page.get_by_role("button", name="Resolve the dispute").click()
    expect(page.get_by_test_id("refund-amount-error")).to_contain_text("less than the ₹1,000.01")

    page.get_by_label(re.compile(r"^Partial refund \(a split\)")).check()
    page.get_by_label(re.compile("Refund to the customer")).fill("400.00")
    page.get_by_label("Note to both sides").fill("Half the work matched the brief.")
    page.get_by_role("button", name="Resolve the dispute").click()

    resolved = re.compile("Dispute resolved: Refund, ₹400.00 refunded")
    expect(page.get_by_text(resolved)).to_be_visible()
    expect(page.get_by_test_id("resolution")).to_contain_text(
        "₹400.00 refunded to the customer, ₹600.01 released to the musician, by Sam from Encore"
    )
    page.screenshot(path=SCREENSHOT, full_page=True)

    order.refresh_from_db()
    assert order.status == OrderStatus.REFUNDED
    assert order.disputes.get().status == DisputeStatus.RESOLVED
    assert balance(code=f"escrow:order:{order.pk}", currency="INR") == 0

    for person in (order.customer, order.musician):
        context, their_page = second_session(browser, live_server, browser_log)
        log_in(their_page, person)
        their_page.goto(f"/orders/{order.pk}/")
        expect(their_page.get_by_text("Outcome:")).to_be_visible()
        outcome = their_page.locator(".dispute").filter(has_text="Outcome:")
        expect(outcome).to_contain_text("₹400.00 refunded")
        expect(outcome).to_contain_text("₹600.01 released to the musician")
        expect(outcome).to_contain_text("Half the work matched the brief.")
        their_page.goto("/notifications/")
        expect(their_page.get_by_role("link", name=f"Dispute resolved: {order}")).to_be_visible()
        context.close()

    assert browser_log.errors == []
