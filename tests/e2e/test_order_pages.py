"""What QA found on the order pages in a real browser: an answer the server marks as a fragment
is shown whatever its status (503 when payments are not configured), and the menu collapses
and opens on a phone-sized screen."""

import re

import pytest
from playwright.sync_api import expect

from tests.billing.factories import no_provider_keys
from tests.e2e.test_commission_form import fill_step_one, in_days
from tests.e2e.test_commission_journey import log_in
from tests.factories import MusicianFactory, UserFactory
from tests.orders.factories import PackageFactory

pytestmark = pytest.mark.e2e


def test_placing_without_payments_configured_shows_why(page, browser_log, settings):
    no_provider_keys(settings)
    settings.BILLING_SANDBOX = False
    package = PackageFactory(musician=MusicianFactory(display_name="Meera Nair"), delivery_days=7)
    log_in(page, UserFactory())
    page.goto(f"/orders/new/?package={package.pk}")
    fill_step_one(page, occasion_date=in_days(30))
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name=re.compile("Step 2 of 3"))).to_be_visible()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name=re.compile("Step 3 of 3"))).to_be_visible()

    with page.expect_response(lambda response: response.status == 503):
        page.get_by_role("button", name="Place the order and pay the deposit").click()
    # The 503 fragment is swapped in: the customer reads why nothing was charged.
    expect(page.get_by_test_id("commission-form")).to_contain_text(
        "Payments are not configured on this site yet"
    )
    assert browser_log.errors == []


def test_the_menu_collapses_and_opens_on_a_phone(page, browser_log):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    menu = page.get_by_role("button", name="Menu")
    links = page.locator("#nav-links")
    expect(menu).to_be_visible()
    expect(links).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")

    menu.click()
    expect(links).to_be_visible()
    expect(links.get_by_role("link", name="Discover musicians")).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")

    menu.click()
    expect(links).to_be_hidden()
    assert browser_log.errors == []

    # On a wide screen the links are always there and the button is not.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(links).to_be_visible()
    expect(menu).to_be_hidden()
