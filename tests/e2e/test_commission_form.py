"""The commission form's behaviour in a real browser: the occasion date is refused on step 1
before anything is sent, and the lyrics box shows only while the customer writes the lyrics
(and stays on the page for a browser without JavaScript)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.test_commission_journey import log_in
from tests.factories import MusicianFactory, UserFactory
from tests.orders.factories import PackageFactory

pytestmark = pytest.mark.e2e


def in_days(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).date().isoformat()


def day(days: int) -> str:
    return f"{(timezone.now() + timedelta(days=days)).date():%-d %B %Y}"


def fill_step_one(page, *, occasion_date: str):
    page.get_by_label("Occasion").select_option("birthday")
    page.get_by_label("When is it?").fill(occasion_date)
    page.get_by_label("Who is the song for?").fill("Asha")
    page.get_by_label("Their story").fill("My sister loves the sea and sings every morning.")


def test_step_one_refuses_an_occasion_sooner_than_the_delivery_time(page, browser_log):
    customer = UserFactory()
    package = PackageFactory(musician=MusicianFactory(display_name="Meera Nair"), delivery_days=10)
    log_in(page, customer)
    page.goto(f"/orders/new/?package={package.pk}")
    expect(page.get_by_test_id("commission-pick")).to_contain_text("Your song by Meera Nair")

    fill_step_one(page, occasion_date=in_days(5))
    sent = len(browser_log.requests)
    page.get_by_role("button", name="Next").click()

    # The browser keeps the customer on step 1, in the form's words, and sends nothing.
    expect(page.get_by_role("heading", name=re.compile("Step 1 of 3"))).to_be_visible()
    date = page.get_by_label("When is it?")
    expect(date).to_have_js_property(
        "validationMessage", f"Meera Nair takes 10 days: pick {day(10)} or later."
    )
    assert browser_log.requests[sent:] == []

    date.fill(in_days(10))
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name=re.compile("Step 2 of 3"))).to_be_visible()
    expect(page.get_by_test_id("commission-pick")).to_contain_text("Your song by Meera Nair")
    assert browser_log.errors == []


def test_the_lyrics_box_shows_only_while_the_customer_writes_the_lyrics(page, browser_log):
    customer = UserFactory()
    package = PackageFactory(delivery_days=7)
    log_in(page, customer)
    page.goto(f"/orders/new/?package={package.pk}")
    fill_step_one(page, occasion_date=in_days(30))
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name=re.compile("Step 2 of 3"))).to_be_visible()

    lyrics = page.get_by_label("Your lyrics")
    expect(page.get_by_label("The musician writes them")).to_be_checked()
    expect(lyrics).to_be_hidden()
    page.get_by_label("I'll provide the lyrics").check()
    expect(lyrics).to_be_visible()
    lyrics.fill("Happy birthday, Asha, queen of the sea")
    page.get_by_label("Instrumental").check()
    expect(lyrics).to_be_hidden()
    page.get_by_label("I'll provide the lyrics").check()
    expect(lyrics).to_have_value("Happy birthday, Asha, queen of the sea")

    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("heading", name=re.compile("Step 3 of 3"))).to_be_visible()
    expect(page.get_by_role("region", name="Your brief")).to_contain_text("queen of the sea")
    # Back on step 2 (an htmx swap), the box follows the choice again.
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("Your lyrics")).to_be_visible()
    page.get_by_label("The musician writes them").check()
    expect(page.get_by_label("Your lyrics")).to_be_hidden()
    assert browser_log.errors == []


def test_without_javascript_the_lyrics_box_stays_and_is_left_out_unless_wanted(
    browser, live_server, home_page
):
    customer = UserFactory()
    package = PackageFactory(delivery_days=7)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, customer)
    page.goto(f"/orders/new/?package={package.pk}")
    fill_step_one(page, occasion_date=in_days(30))
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_label("Your lyrics")).to_be_visible()
    page.get_by_label("Your lyrics").fill("Words for nobody")
    page.get_by_role("button", name="Next").click()
    brief = page.get_by_role("region", name="Your brief")
    expect(brief).to_contain_text("The musician writes them")
    expect(brief).not_to_contain_text("Words for nobody")
    context.close()
