"""Browser fixtures: Debian's Chromium driven by Playwright against pytest-django's live server."""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def _allow_async_unsafe():
    """Let the ORM run in the test thread while Playwright is running.

    Playwright's sync API drives an asyncio event loop in this (the main) thread, switching
    to it with greenlets. To Django the thread then always looks like async code, and every
    ORM call from the test or from the database fixtures' teardown (transactional_db's flush)
    raises SynchronousOnlyOperation. Nothing here is really concurrent: the test thread is
    blocked while the loop runs. So DJANGO_ALLOW_ASYNC_UNSAFE is set, but only while the
    browser is up (this fixture is set up before it and torn down after it), so tests outside
    tests/e2e keep Django's safety check.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def browser(_allow_async_unsafe):
    """Headless Chromium from the OS package. Playwright's own download is never used."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"The browser tests need Chromium at {CHROMIUM} "
            "(Debian/Ubuntu: apt-get install chromium). Playwright's bundled browsers are not "
            "used, so `playwright install` does not help.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def home_page(transactional_db):
    """Encore's HomePage as the site root. The data migration creates it, but transactional_db
    empties every table after each test, the Wagtail root page included: put the tree back."""
    from cms.pages import home_page_ensure

    return home_page_ensure()


class BrowserLog:
    """What the page did besides rendering: the URLs it requested, its uncaught JS errors.

    WebSockets are not "request" events in Playwright; the `page` fixture records their URLs
    where it intercepts them.
    """

    def __init__(self):
        self.requests: list[str] = []
        self.websockets: list[str] = []
        self.errors: list[str] = []


@pytest.fixture
def browser_log():
    return BrowserLog()


@pytest.fixture
def page(browser, live_server, home_page, browser_log):
    """A fresh browser context (no cookies) per test, with the live server as base URL."""
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("request", lambda request: browser_log.requests.append(request.url))
    # pytest-django's live server is WSGI and cannot accept a WebSocket (the live notification
    # bell opens one). Left alone, the handshake would hit Django as a stray GET, concurrently
    # with the test's own requests, and the page would retry it forever. Playwright answers
    # the socket instead: it stays open and silent, as with a server that has nothing to say.
    page.route_web_socket(re.compile(r".*"), lambda route: browser_log.websockets.append(route.url))
    page.on("pageerror", lambda error: browser_log.errors.append(str(error)))
    yield page
    context.close()
