"""A musician's studio in a real browser: an offer waits on the dashboard with its countdown
ticking; the musician accepts it, lands in the order's workspace and uploads a draft (a real
synthesised recording), watching its progress arrive step by step over their own event stream
(ws/events/) until it is ready, then reads its quality checks.

The progress is live only through a server that speaks websockets, so, as in test_order_chat,
the site runs under daphne in its own process on the embedded defaults (a SQLite file and the
embedded Redis server in a temporary var/ folder), with Celery eager: the upload's request runs
the media pipeline, and its steps reach the page while the request is still on its way. The
offer is made in that database by the factories.
"""

import json
import re
import sys
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from tests.audio import synth
from tests.config.test_live_events_across_processes import run
from tests.e2e.daphne_site import daphne_env, daphne_serving
from tests.e2e.test_commission_journey import log_in, second_session

pytestmark = pytest.mark.e2e

EVENTS_SOCKET = re.compile(r"/ws/events/")
PIPELINE_TIMEOUT = 120_000  # ms: the upload's request runs the whole pipeline (Celery eager)

SETUP = """
import json
from datetime import timedelta

import django

django.setup()

from django.utils import timezone

from orders.models import OrderStatus
from tests.factories import MusicianFactory, UserFactory
from tests.orders.factories import OrderFactory

order = OrderFactory(
    status=OrderStatus.MATCHING,
    customer=UserFactory(display_name="Priya Customer"),
    musician=MusicianFactory(display_name="Meera Musician"),
    recipient_name="Asha",
    genre="acoustic pop",
)
# Two hours to answer: the countdown shows (and ticks) its seconds.
order.offers.update(expires_at=timezone.now() + timedelta(hours=2))
print(json.dumps({"order": str(order.pk), "musician": order.musician.email}))
"""


@pytest.fixture
def studio_server(tmp_path, _allow_async_unsafe):
    """daphne serving config.asgi (pages and sockets) on a free port, with an order offered to
    a musician."""
    env = daphne_env(tmp_path)
    (tmp_path / "var").mkdir()
    run([sys.executable, "manage.py", "migrate", "--noinput"], env, timeout=300)
    data = json.loads(run([sys.executable, "-c", SETUP], env, timeout=120).stdout)
    with daphne_serving(env, tmp_path) as (url, log):
        yield SimpleNamespace(url=url, log=log, **data)


def test_a_musician_accepts_an_offer_and_watches_the_draft_process_live(
    studio_server, browser, browser_log, tmp_path
):
    draft = tmp_path / "first-draft.wav"
    synth.write_wav(draft, synth.music(6.0), 44100)
    context, page = second_session(browser, studio_server, browser_log)
    frames: list[dict] = []
    console_errors: list[str] = []
    page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )

    def through(route):
        """The person's event stream reaches the real server; what it sends is kept."""
        server = route.connect_to_server()

        def from_server(message):
            frames.append(json.loads(message))
            route.send(message)

        server.on_message(from_server)

    # Newer routes win: only ws/events/ goes through (the chat's socket stays answered silently).
    page.route_web_socket(EVENTS_SOCKET, through)
    try:
        log_in(page, SimpleNamespace(email=studio_server.musician))

        # 1. The studio is in the musician's navigation; the offer waits with its countdown.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Studio").click()
        expect(page).to_have_url(re.compile(r"/studio/$"))
        offer = page.get_by_test_id(f"offer-{studio_server.order}")
        expect(offer).to_contain_text("Birthday song for Asha")
        expect(offer).to_contain_text("From Priya Customer")
        countdown = offer.get_by_test_id("offer-countdown")
        expect(countdown).to_have_text(re.compile(r"^1 h 5\d min \d\d s$"))
        first = countdown.inner_text()
        expect(countdown).not_to_have_text(first, timeout=3_000)  # it ticks

        # 2. Accepting opens the order's workspace: the order page's own parts, in the studio.
        offer.get_by_test_id("offer-accept").click()
        expect(page).to_have_url(re.compile(rf"/studio/orders/{studio_server.order}/$"))
        expect(page.get_by_text("You accepted the order.")).to_be_visible()
        expect(page.get_by_test_id("order-stage")).to_have_text("Consultation")
        expect(page.get_by_test_id("studio-uploads")).to_contain_text("No uploads yet")
        # The page follows the musician's own event stream (its scripts are running).
        expect(page.locator("html")).to_have_attribute("data-studio-live", "1", timeout=15_000)
        # A stage control is orders' own: its answer swaps the order body, and the studio's
        # uploads panel beside it asks again.
        with page.expect_request(re.compile(rf"/studio/orders/{studio_server.order}/uploads/$")):
            page.get_by_test_id("advance-stage").click()
        expect(page.get_by_test_id("order-stage")).to_have_text("Composition")
        expect(page).to_have_url(re.compile(rf"/studio/orders/{studio_server.order}/$"))

        # 3. The draft goes up; its processing shows live, step by step, until it is ready.
        page.get_by_label("Draft audio file").set_input_files(str(draft))
        page.get_by_role("button", name="Upload draft").click()
        live = page.get_by_test_id("live-upload")
        expect(live).to_be_visible()
        expect(live).to_contain_text("first-draft.wav")
        expect(live.locator("[data-step]").first).to_be_visible(timeout=PIPELINE_TIMEOUT)
        expect(live.locator("[data-upload-text]")).to_have_text("Ready", timeout=PIPELINE_TIMEOUT)
        expect(live).to_have_attribute("data-state", "ready")
        expect(live.locator("progress")).to_have_attribute("value", "100")
        shown = live.locator("[data-step]").all_inner_texts()
        assert "Reading the file" in shown and "Checking the quality" in shown, shown

        # What the page showed came over the socket, as the pipeline went.
        progress = [f for f in frames if f.get("type") == "audio.progress"]
        steps = [f["step"] for f in progress]
        assert {"probe", "qc", "analyse", "render.preview"} <= set(steps), steps
        assert progress[-1]["status"] == "ready" and progress[-1]["progress"] == 1.0
        assert len({f["asset_id"] for f in progress}) == 1

        # 4. The order moved to review; the uploads panel shows the draft with its checks.
        expect(page.get_by_test_id("order-status")).to_have_text(
            "Customer is reviewing your draft", timeout=PIPELINE_TIMEOUT
        )
        version = page.get_by_test_id("upload-version-1")
        expect(version).to_have_attribute("data-status", "ready", timeout=15_000)
        expect(version).to_contain_text("first-draft.wav")
        expect(version.get_by_test_id("quality-source")).to_contain_text("Quality checks")
        expect(version.locator('[data-check="sample_rate"]')).to_contain_text(
            "Sample rate 44100 Hz."
        )
        # The draft's watermarked preview plays on the order page's own version list.
        expect(page.get_by_test_id("version-1").locator("audio")).to_have_count(1)

        # 5. Back on the dashboard, the order is in the work list under review.
        page.get_by_role("navigation", name="Studio").get_by_role("link", name="Dashboard").click()
        expect(page.get_by_test_id("stage-in_review")).to_contain_text("Birthday song for Asha")
        expect(page.get_by_test_id("studio-offers")).to_contain_text("No offers right now")

        assert browser_log.errors == []
        assert console_errors == [], console_errors
    finally:
        context.close()


def test_a_musician_uploads_a_song_to_the_catalog_and_watches_it_become_ready(
    studio_server, browser, browser_log, tmp_path
):
    song = tmp_path / "monsoon.wav"
    synth.write_wav(song, synth.music(6.0, seed=11), 44100)
    context, page = second_session(browser, studio_server, browser_log)
    page.route_web_socket(EVENTS_SOCKET, lambda route: route.connect_to_server())
    try:
        log_in(page, SimpleNamespace(email=studio_server.musician))
        page.goto("/studio/")
        page.get_by_role("navigation", name="Studio").get_by_role("link", name="Catalog").click()
        expect(page).to_have_url(re.compile(r"/studio/catalog/$"))
        expect(page.locator("html")).to_have_attribute("data-studio-live", "1", timeout=15_000)

        form = page.get_by_test_id("song-upload-form")
        form.get_by_label("Audio file").set_input_files(str(song))
        form.get_by_label("Title").fill("Monsoon")
        form.get_by_label("Genres").fill("Indie, Folk")
        form.get_by_role("button", name="Upload the song").click()

        live = page.get_by_test_id("live-upload")
        expect(live).to_contain_text("monsoon.wav")
        expect(live.locator("[data-upload-text]")).to_have_text("Ready", timeout=PIPELINE_TIMEOUT)
        expect(live.locator("[data-step]")).not_to_have_count(0)
        # The answer swapped in the list with the new song, playable and ready.
        expect(page.get_by_text("“Monsoon” is uploaded.")).to_be_visible()
        row = page.get_by_test_id("songs").locator("tr", has_text="Monsoon")
        expect(row.get_by_test_id("song-status")).to_have_text("Ready")
        # The form is fresh for the next song.
        expect(form.get_by_label("Title")).to_have_value("")

        # A file that is not audio is refused on the form, in place.
        notes = tmp_path / "notes.mp3"
        notes.write_bytes(b"These are not sounds. " * 200)
        form.get_by_label("Audio file").set_input_files(str(notes))
        form.get_by_label("Title").fill("Not a song")
        form.get_by_role("button", name="Upload the song").click()
        expect(form.locator("#song-audio_error")).to_be_visible()
        expect(form.get_by_label("Title")).to_have_value("Not a song")
        expect(page.get_by_test_id("live-upload").first).to_contain_text("Not accepted")
        expect(page.get_by_test_id("songs").locator("tbody tr")).to_have_count(1)
        assert browser_log.errors == []
    finally:
        context.close()
