"""A customer finds a musician by occasion on Discover, opens their page, plays a sample in the
persistent player (real audio through the media pipeline) and opens the commission form with
that musician picked."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from catalog.services import song_create
from cms.services import artist_page_ensure, showcase_tree_ensure
from orders.models import MusicianProfile
from tests.audio import synth
from tests.e2e.test_commission_journey import log_in
from tests.e2e.test_dispute_admin_journey import outside_the_browser_loop
from tests.factories import MusicianFactory, UserFactory
from tests.orders.factories import PackageFactory

pytestmark = pytest.mark.e2e


@pytest.fixture
def musicians(page, tmp_path):
    showcase_tree_ensure()
    wedding = MusicianFactory(display_name="Wren Wedding")
    MusicianProfile.objects.create(musician=wedding, styles=["folk"], occasions=["wedding"])
    PackageFactory(musician=wedding, name="First Dance", price=1_500_000, occasions=["wedding"])
    page_of_wedding = artist_page_ensure(wedding)
    page_of_wedding.headline = "First dances, written for two"
    page_of_wedding.save_revision().publish()
    birthday = MusicianFactory(display_name="Bex Birthday")
    MusicianProfile.objects.create(musician=birthday, occasions=["birthday"])
    artist_page_ensure(birthday)
    # Published through the catalog's service, so the media pipeline runs here (Celery eager)
    # with no request timeout, however busy the machine.
    wav = synth.write_wav(tmp_path / "waltz.wav", synth.music(12.0, sr=22050, seed=7), 22050)
    song = outside_the_browser_loop(
        lambda: song_create(
            user=wedding,
            title="Our First Waltz",
            audio=SimpleUploadedFile("waltz.wav", wav.read_bytes(), content_type="audio/wav"),
        )
    )
    return {"wedding": wedding, "birthday": birthday, "song": song}


def test_find_by_occasion_open_the_page_play_a_sample_and_commission(
    page, live_server, browser_log, musicians
):
    wedding = musicians["wedding"]
    log_in(page, UserFactory(display_name="Cleo Customer"))

    page.get_by_role("banner").get_by_role("link", name="Discover musicians").click()
    expect(page).to_have_url(f"{live_server.url}/musicians/")
    cards = page.get_by_test_id("musician-card")
    expect(cards).to_have_count(2)

    page.get_by_label("Occasion").select_option("wedding")
    page.get_by_test_id("discover-apply").click()
    expect(page).to_have_url(re.compile(r"/musicians/\?.*occasion=wedding"))
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Wren Wedding")
    expect(cards.first).to_contain_text("From ₹15,000.00")

    cards.first.get_by_test_id("musician-link").click()
    expect(page).to_have_url(f"{live_server.url}{wedding.artist_page.url}")
    expect(page.get_by_role("heading", level=1, name="Wren Wedding")).to_be_visible()
    expect(page.get_by_text("First dances, written for two")).to_be_visible()
    expect(page.get_by_test_id("packages")).to_contain_text("First Dance")

    page.get_by_test_id("samples").get_by_role("button", name="Play Our First Waltz").click()
    player = page.get_by_role("region", name="Player")
    expect(player).to_be_visible()
    expect(player.get_by_role("link", name="Our First Waltz")).to_be_visible()
    page.wait_for_function(
        "() => { const a = document.getElementById('player-audio');"
        " return a && (a.currentSrc || a.src) && !a.paused && a.currentTime > 0.3; }",
        timeout=15_000,
    )

    page.get_by_test_id("commission").click()
    expect(page).to_have_url(f"{live_server.url}/orders/new/?musician={wedding.pk}")
    expect(page.get_by_test_id("commission-pick")).to_contain_text("Your song by Wren Wedding")
    assert browser_log.errors == []
