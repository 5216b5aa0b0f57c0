"""A musician gets paid, in a real browser: they find Payouts in the navigation, set their
payout account (a wrong id is explained), the beat pays what is past its hold through the
sandbox, and the page shows the payout and the figures."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.services import payouts
from tests.billing.test_payouts import HOLD, earn
from tests.e2e.test_auth_journey import assert_stayed_on
from tests.e2e.test_commission_journey import log_in
from tests.factories import MusicianFactory

pytestmark = pytest.mark.e2e

SCREENSHOT = "/tmp/e2e-payouts.png"


@pytest.fixture
def sandbox_settings(settings, live_server):
    settings.SITE_URL = live_server.url
    settings.BILLING_PROVIDER = "auto"
    settings.BILLING_PAYOUT_HOLD_DAYS = 7
    settings.SANDBOX_WEBHOOK_URL = ""
    settings.STRIPE_SECRET_KEY = ""
    settings.RAZORPAY_KEY_ID = ""
    settings.RAZORPAY_KEY_SECRET = ""
    return settings


def figure(page, name):
    return page.locator(f'[data-figure="{name}"]')


def test_a_musician_sets_a_payout_account_and_sees_the_payout(
    page, live_server, browser_log, sandbox_settings
):
    musician = MusicianFactory(display_name="Meera Nair")
    earn(musician, amount=100_000, fee=15_000, at=timezone.now() - HOLD - timedelta(hours=1))
    earn(musician, amount=30_000, fee=3_000)  # completed today: on hold
    log_in(page, musician)

    page.get_by_role("banner").get_by_role("link", name="Payouts").click()
    expect(page).to_have_url(f"{live_server.url}/billing/payouts/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Payouts")
    expect(figure(page, "payable")).to_have_text("₹1,120.00")
    expect(figure(page, "on_hold")).to_contain_text("₹270.00")
    expect(figure(page, "available")).to_have_text("₹850.00")
    expect(page.get_by_text("You have no payout account yet")).to_be_visible()

    page.get_by_label("Paid through").select_option("sandbox")
    page.get_by_label("Account id").fill("meera@bank")
    page.get_by_role("button", name="Add the payout account").click()
    expect(page.get_by_text(re.compile(r"not a sandbox payout account id"))).to_be_visible()

    page.get_by_label("Account id").fill("sbx_meera_studio")
    page.get_by_role("button", name="Add the payout account").click()
    expect(page.get_by_role("status")).to_contain_text("Your payout account is saved.")
    expect(page.get_by_text("sbx_meera_studio").first).to_be_visible()

    # The beat runs (hourly in production); the sandbox settles the transfer by webhook.
    assert payouts.payouts_run()["created"] == 1

    page.reload()
    expect(figure(page, "paid_out")).to_have_text("₹850.00")
    expect(figure(page, "payable")).to_have_text("₹270.00")
    expect(figure(page, "available")).to_have_text("₹0.00")
    row = page.get_by_test_id("payout-list").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("₹850.00")
    expect(row).to_contain_text("Paid on")
    page.screenshot(path=SCREENSHOT, full_page=True)
    assert browser_log.errors == []
    assert_stayed_on(live_server, browser_log)
