"""Two people in one listening room, in two browser contexts: the host presses play and the
guest's player stays within 150 ms of the host's for 20 s.

pytest-django's live server is WSGI and cannot carry the room's websocket, so the site runs
under daphne in its own process, on the embedded defaults (a SQLite file and the embedded Redis
server in a temporary var/ folder), as `make run` serves it. Its data (users, a real song
published through the catalog services, the room) is made in that database by
tests/e2e/room_sync_setup.py.

Each page reports its <audio> position with the moment it read it (``encoreRoom.report()``);
both pages run on this machine's clock, so the two positions are compared at one instant by
projecting each forward at real-time speed from its own reading.
"""

import json
import statistics
import time
from pathlib import Path

import pytest

from tests.config.test_live_events_across_processes import BIN, run
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.daphne_site import daphne_env, daphne_serving

pytestmark = pytest.mark.e2e

WATCH_SECONDS = 20.0
LIMIT_MS = 150.0


@pytest.fixture
def server(tmp_path, _allow_async_unsafe):
    env = daphne_env(tmp_path)
    data = json.loads(
        run([str(BIN / "python"), "tests/e2e/room_sync_setup.py"], env, timeout=600).stdout
    )
    with daphne_serving(env, tmp_path) as (base_url, log):
        yield {"url": base_url, "log": log, **data}


@pytest.fixture
def room_browser(_allow_async_unsafe):
    """Chromium that may start sound without a click: the guest's page plays when the host
    presses play (people who join by hand get a "Turn the sound on" button instead)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=no-user-gesture-required"],
        )
        yield browser
        browser.close()


def open_room(browser, server, who: str):
    context = browser.new_context(base_url=server["url"])
    context.add_cookies([{"name": server["cookie"], "value": server[who], "url": server["url"]}])
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"/rooms/{server['room']}/")
    # Clock synced (eight pings answered).
    page.wait_for_function("window.encoreRoom && window.encoreRoom.report().rtt_ms !== null")
    return page, errors


REPORT = "window.encoreRoom.report()"


def position_now(report: dict, at_ms: float) -> float:
    return report["position_ms"] + (at_ms - report["at_ms"])


def test_the_guest_stays_within_150_ms_of_the_host(server, room_browser):
    host, host_errors = open_room(room_browser, server, "host")
    guest, guest_errors = open_room(room_browser, server, "guest")

    host.locator("#room-controls").get_by_role("button", name="Play", exact=True).click()
    for page in (host, guest):
        page.wait_for_function(
            "() => { const r = window.encoreRoom.report();"
            " return r.playing && r.position_ms > 300; }",
            timeout=20_000,
        )

    gaps = []
    deadline = time.monotonic() + WATCH_SECONDS
    while time.monotonic() < deadline:
        a = host.evaluate(REPORT)
        b = guest.evaluate(REPORT)
        assert a["playing"] and b["playing"], (a, b)
        at = max(a["at_ms"], b["at_ms"])
        gaps.append(position_now(b, at) - position_now(a, at))
        time.sleep(0.2)

    worst = max(abs(g) for g in gaps)
    summary = (
        f"room sync over {WATCH_SECONDS:.0f} s, {len(gaps)} samples: guest - host "
        f"median {statistics.median(gaps):+.1f} ms, worst |gap| {worst:.1f} ms, "
        f"p95 |gap| {sorted(abs(g) for g in gaps)[int(0.95 * len(gaps)) - 1]:.1f} ms; "
        f"host {host.evaluate(REPORT)['stats']}, guest {guest.evaluate(REPORT)['stats']}"
    )
    print(summary)
    (Path(server["log"]).parent / "drift.txt").write_text(summary)
    assert worst < LIMIT_MS, summary
    assert not host_errors and not guest_errors, (host_errors, guest_errors)
