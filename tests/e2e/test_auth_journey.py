"""A person signs up, logs out and logs in again, in a real browser against the live server."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.e2e

HERO = "Songs made for the people you love"
NAME = "Mira Okafor"
EMAIL = "mira.okafor@example.com"
PASSWORD = "Velvet-Harbor-7319"
SCREENSHOT = "/tmp/e2e-home.png"


def assert_stayed_on(live_server, browser_log):
    """Every request went to the live server: the pages need no CDN, font host or tracker."""
    origin = f"{live_server.url}/"
    socket_origin = "ws" + origin.removeprefix("http")
    foreign = [
        url for url in browser_log.requests if not url.startswith((origin, "data:", "blob:"))
    ] + [url for url in browser_log.websockets if not url.startswith(socket_origin)]
    assert browser_log.requests, "the browser made no requests at all"
    assert foreign == [], f"requests left {live_server.url}: {foreign}"


def test_sign_up_log_out_and_log_in_again(page, live_server, browser_log, django_user_model):
    home = f"{live_server.url}/"
    header = page.get_by_role("banner")

    page.goto("/")
    expect(page).to_have_title(re.compile(r"Encore"))
    expect(page.get_by_role("heading", level=1)).to_have_text(HERO)

    # Sign up from the navigation.
    header.get_by_role("link", name="Sign up").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/register/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Create your Encore account")
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label(re.compile(r"^Password")).fill(PASSWORD)
    page.get_by_label("I am a musician").check()
    page.get_by_role("button", name="Create account").click()

    expect(page).to_have_url(home)
    expect(page.get_by_role("status")).to_contain_text(f"Welcome to Encore, {NAME}!")
    expect(header.get_by_role("link", name=NAME)).to_be_visible()
    expect(header.get_by_role("link", name="Sign up")).to_have_count(0)
    # The role is not shown anywhere yet; the account is where the choice must have landed.
    assert django_user_model.objects.get(email=EMAIL).is_musician

    # Log out with the header's button (a POST form).
    header.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(home)
    expect(page.get_by_role("status")).to_contain_text("You are logged out.")
    expect(header.get_by_role("link", name="Log in")).to_be_visible()
    expect(header.get_by_role("link", name=NAME)).to_have_count(0)

    # Log in again through the login page.
    header.get_by_role("link", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label(re.compile(r"^Password")).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()

    expect(page).to_have_url(home)
    expect(page.get_by_role("heading", level=1)).to_have_text(HERO)
    expect(page.get_by_role("status")).to_contain_text(f"Welcome back, {NAME}.")
    expect(header.get_by_role("link", name=NAME)).to_be_visible()
    expect(header.get_by_role("button", name="Log out")).to_be_visible()
    page.screenshot(path=SCREENSHOT, full_page=True)

    assert_stayed_on(live_server, browser_log)
    assert browser_log.errors == []


def test_a_wrong_password_is_refused(page, live_server, browser_log):
    person = UserFactory(display_name="Tomas Reyes")
    header = page.get_by_role("banner")

    page.goto("/")
    header.get_by_role("link", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label(re.compile(r"^Password")).fill(DEFAULT_PASSWORD + "-wrong")
    page.get_by_role("main").get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_have_text("The email or password is not right.")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    expect(page.get_by_label("Email")).to_have_value(person.email)
    expect(header.get_by_role("link", name="Log in")).to_be_visible()

    # Still a visitor everywhere, not only on the page that showed the error.
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text(HERO)
    expect(header.get_by_role("link", name="Log in")).to_be_visible()
    expect(header.get_by_role("link", name="Tomas Reyes")).to_have_count(0)
    expect(header.get_by_role("button", name="Log out")).to_have_count(0)

    assert_stayed_on(live_server, browser_log)
    assert browser_log.errors == []
