"""A commission from the brief to the review, in a real browser: the customer and the musician
each in their own browser session, payments through the sandbox provider's checkout page and
drafts and finals through the real media pipeline."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.purposes import escrow_code
from billing.services import balance
from billing.services.ledger import PLATFORM_FEES, payable_code
from orders.models import MarketplaceSettings, Order, OrderStatus, Review
from tests.audio import synth
from tests.e2e.test_auth_journey import assert_stayed_on
from tests.factories import DEFAULT_PASSWORD, MusicianFactory, UserFactory
from tests.orders.factories import PackageFactory

pytestmark = pytest.mark.e2e

PRICE = 250_001  # paise: odd, so the deposit rounds up
PIPELINE_TIMEOUT = 90_000  # ms: the upload request runs the whole pipeline (Celery eager)


@pytest.fixture
def journey_settings(settings, live_server):
    # The checkout's return link and the sandbox page must point at the live server, and the
    # sandbox hands its signed webhook to the webhook service in process.
    settings.SITE_URL = live_server.url
    settings.BILLING_CURRENCY = "INR"
    settings.BILLING_PROVIDER = "auto"
    settings.SANDBOX_WEBHOOK_URL = ""
    settings.STRIPE_SECRET_KEY = ""
    settings.RAZORPAY_KEY_ID = ""
    settings.RAZORPAY_KEY_SECRET = ""
    return settings


def log_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("banner").get_by_role("button", name="Log out")).to_be_visible()


def second_session(browser, live_server, browser_log):
    """Another person's browser: its own cookies, recorded like the `page` fixture's."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.on("request", lambda request: browser_log.requests.append(request.url))
    page.route_web_socket(re.compile(r".*"), lambda route: browser_log.websockets.append(route.url))
    page.on("pageerror", lambda error: browser_log.errors.append(str(error)))
    return context, page


def pay_at_the_sandbox(page):
    expect(page).to_have_url(re.compile(r"/billing/sandbox/checkout/"))
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()


def test_a_song_from_brief_to_review(
    page, browser, live_server, browser_log, journey_settings, tmp_path
):
    customer = UserFactory(display_name="Priya")
    musician = MusicianFactory(display_name="Meera Nair")
    package = PackageFactory(
        musician=musician,
        name="Birthday song",
        price=PRICE,
        delivery_days=7,
        revisions_included=1,
    )
    draft = tmp_path / "draft.wav"
    synth.write_wav(draft, synth.music(6.0), 44100)
    second_draft = tmp_path / "draft-2.wav"
    synth.write_wav(second_draft, synth.music(6.0, seed=7), 44100)

    # --- the customer commissions the song and pays the deposit -------------------------------
    log_in(page, customer)
    page.goto(f"/orders/new/?package={package.pk}")
    expect(page.get_by_role("heading", name=re.compile("Step 1 of 3"))).to_be_visible()
    expect(page.get_by_test_id("commission-pick")).to_contain_text("Your song by Meera Nair")
    page.get_by_label("Occasion").select_option("birthday")
    occasion_date = (timezone.now() + timedelta(days=30)).date().isoformat()
    page.get_by_label("When is it?").fill(occasion_date)
    page.get_by_label("Who is the song for?").fill("Asha")
    page.get_by_label("Their story").fill("My sister loves the sea and sings every morning.")
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("heading", name=re.compile("Step 2 of 3"))).to_be_visible()
    page.get_by_label("Genre or style").fill("acoustic pop")
    page.get_by_label("The musician writes them").check()
    page.get_by_label("Names to include").fill("Asha, Ravi")
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_role("heading", name=re.compile("Step 3 of 3"))).to_be_visible()
    expect(page.get_by_label(re.compile("Meera Nair: Birthday song"))).to_be_checked()
    page.get_by_role("button", name="Place the order and pay the deposit").click()

    pay_at_the_sandbox(page)
    # Back on the order page once the deposit is captured: the order is offered to Meera.
    expect(page).to_have_url(re.compile(r"/orders/[0-9a-f-]{36}/$"))
    expect(page.get_by_test_id("order-status")).to_have_text("Finding your musician")
    order = Order.objects.get(customer=customer)
    assert order.status == OrderStatus.MATCHING
    assert order.recipient_name == "Asha" and order.names_to_include == "Asha, Ravi"

    # --- the musician accepts and uploads the first draft -------------------------------------
    musician_context, studio = second_session(browser, live_server, browser_log)
    log_in(studio, musician)
    studio.goto(f"/orders/{order.pk}/")
    expect(studio.get_by_test_id("order-status")).to_have_text("Waiting for your answer")
    studio.get_by_role("button", name="Accept the order").click()
    expect(studio.get_by_test_id("order-stage")).to_have_text("Consultation")
    studio.get_by_label("Draft audio file").set_input_files(str(draft))
    studio.get_by_role("button", name="Upload draft").click()
    expect(studio.get_by_test_id("order-status")).to_have_text(
        "Customer is reviewing your draft", timeout=PIPELINE_TIMEOUT
    )

    # --- the customer listens to v1 and asks for a revision -----------------------------------
    page.reload()
    expect(page.get_by_test_id("order-status")).to_have_text("Draft in review")
    preview = page.get_by_test_id("version-1").locator("audio")
    expect(preview).to_have_count(1)
    preview_url = preview.get_attribute("src")
    assert preview_url == f"/orders/{order.pk}/versions/1/preview/"
    # The stable page URL hands the browser a freshly signed link to the watermarked preview.
    signed = page.request.get(preview_url, max_redirects=0)
    assert signed.status == 302
    assert "/media/s/" in signed.headers["location"]
    assert signed.headers["location"].split("?")[0].endswith("preview.mp3")
    page.get_by_label("What should change?").fill("A slower start, please.")
    page.get_by_role("button", name="Request a revision").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Revision requested")

    # --- v2 arrives, answering that feedback --------------------------------------------------
    studio.reload()
    expect(studio.get_by_text("A slower start, please.").first).to_be_visible()
    studio.get_by_label("Draft audio file").set_input_files(str(second_draft))
    studio.get_by_label("Note about this draft (optional)").fill("Slower intro now.")
    studio.get_by_role("button", name="Upload draft").click()
    expect(studio.get_by_test_id("order-status")).to_have_text(
        "Customer is reviewing your draft", timeout=PIPELINE_TIMEOUT
    )

    # --- the customer approves v2 -------------------------------------------------------------
    page.reload()
    expect(page.get_by_test_id("version-2")).to_contain_text("A slower start, please.")
    page.get_by_role("button", name="Approve this draft").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Approved")

    # --- the musician delivers the finals; they pass QC ---------------------------------------
    studio.reload()
    studio.get_by_label("Final master audio file").set_input_files(str(second_draft))
    studio.get_by_role("button", name="Upload finals").click()
    expect(studio.get_by_test_id("order-status")).to_have_text(
        "Delivered: waiting for the customer's balance", timeout=PIPELINE_TIMEOUT
    )

    # --- the customer pays the balance, downloads the FLAC and leaves a review ----------------
    page.reload()
    page.get_by_role("button", name=re.compile("Pay the balance")).click()
    pay_at_the_sandbox(page)
    expect(page.get_by_test_id("order-status")).to_have_text("Completed")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download FLAC").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".flac")
    with open(download.path(), "rb") as flac:
        assert flac.read(4) == b"fLaC"

    page.get_by_label("5 stars").check()
    page.get_by_label("Your review").fill("We all cried. Thank you, Meera.")
    page.get_by_role("button", name="Post your review").click()
    expect(page.get_by_text("Thank you for your review.")).to_be_visible()

    # --- what the journey left behind ---------------------------------------------------------
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert [v.number for v in order.versions.all()] == [1, 2]
    assert order.versions.get(number=2).feedback == "A slower start, please."
    review = Review.objects.get(order=order)
    assert (review.rating, review.musician) == (5, musician)
    fee = MarketplaceSettings.load().platform_fee(PRICE)
    assert balance(code=escrow_code("order", str(order.pk)), currency="INR") == 0
    assert balance(code=payable_code(musician.pk), currency="INR") == PRICE - fee
    assert balance(code=PLATFORM_FEES, currency="INR") == fee

    assert browser_log.errors == []
    assert_stayed_on(live_server, browser_log)
    musician_context.close()
