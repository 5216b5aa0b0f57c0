"""A listener's evening, in a real browser against the live server: they search, play a song
(real audio, uploaded through the catalog services so the media pipeline makes its MP3s and HLS),
move between pages while it keeps playing in the same <audio> element, like it, and find it in
their library. A free listener out of skips is told so and the song plays on."""

import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.services import api_token_issue
from audio.models import AudioAsset
from catalog.models import Genre, PlayEvent, Song, SongLike
from tests.audio import synth
from tests.e2e.test_auth_journey import assert_stayed_on
from tests.e2e.test_commission_journey import log_in
from tests.factories import MusicianFactory, UserFactory

pytestmark = pytest.mark.e2e

SONG_SECONDS = 25.0
SR = 22050
PIPELINE_TIMEOUT = 120_000  # ms: the upload request runs the whole pipeline (Celery eager)


def wav_bytes(tmp_path, name: str, *, seed: int) -> bytes:
    path = synth.write_wav(tmp_path / name, synth.music(SONG_SECONDS, sr=SR, seed=seed), SR)
    return path.read_bytes()


def publish(page, token: str, tmp_path, title: str, *, seed: int, genre: str) -> Song:
    """The musician's upload through POST /api/songs, as their app would send it: the live
    server runs the whole media pipeline inside the request (Celery eager)."""
    response = page.request.post(
        "/api/songs",
        headers={"Authorization": f"Token {token}"},
        multipart={
            "title": title,
            "genres": genre,
            "audio": {
                "name": f"{seed}.wav",
                "mimeType": "audio/wav",
                "buffer": wav_bytes(tmp_path, f"{seed}.wav", seed=seed),
            },
        },
        timeout=PIPELINE_TIMEOUT,
    )
    assert response.status == 201, response.text()
    assert response.json()["genres"] == [genre]
    song = Song.objects.select_related("asset").get(pk=response.json()["id"])
    assert song.asset.status == AudioAsset.Status.READY, song.asset.status
    return song


def audio_time(page) -> float:
    return page.evaluate("document.getElementById('player-audio').currentTime")


def wait_until_playing_past(page, seconds: float):
    page.wait_for_function(
        "(t) => { const a = document.getElementById('player-audio');"
        " return a && !a.paused && a.currentTime > t; }",
        arg=seconds,
        timeout=15_000,
    )


def heard(page, song, ms: int):
    """Wait until the player has played ``ms`` of ``song`` (its listen, not the old position)."""
    page.wait_for_function(
        "([id, ms]) => { const l = window.encorePlayer.state.listen;"
        " return l && l.songId === id && l.ms > ms && !window.encorePlayer.audio.paused; }",
        arg=[str(song.pk), ms],
        timeout=15_000,
    )


@pytest.fixture
def catalog(page, tmp_path):
    musician = MusicianFactory(display_name="Mira Okafor")
    token = api_token_issue(user=musician)
    first = publish(page, token, tmp_path, "Harbour Lights", seed=1, genre="Harbour Soul")
    second = publish(page, token, tmp_path, "Harbour Tide", seed=2, genre="Harbour Soul")
    return {
        "musician": musician,
        "first": first,
        "second": second,
        "genre": Genre.objects.get(name="Harbour Soul"),
    }


def test_search_play_move_around_like_and_find_it_in_the_library(
    page, live_server, browser_log, catalog
):
    listener = UserFactory(display_name="Lou Listener")
    log_in(page, listener)
    player = page.get_by_role("region", name="Player")

    # From the navigation to the listening pages.
    page.get_by_role("banner").get_by_role("link", name="Listen", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/listen/")
    expect(page).to_have_title("Listen · Encore")
    expect(player).to_be_hidden()

    # Instant search: results come as the listener types, without leaving the page.
    page.get_by_label("Search songs, albums, artists and genres").press_sequentially(
        "harbour", delay=40
    )
    results = page.locator("#search-results")
    rows = results.locator("ol[data-queue='search'] .song-row")
    expect(rows).to_have_count(2)
    expect(results.get_by_role("link", name="Mira Okafor").first).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/listen/")
    titles = [rows.nth(n).get_attribute("data-title") for n in range(2)]
    by_title = {catalog[key].title: catalog[key] for key in ("first", "second")}
    song, then = by_title[titles[0]], by_title[titles[1]]

    # Play the first: the real audio advances, and the player says what is playing and how well.
    results.get_by_role("button", name=f"Play {song.title}").click()
    expect(player).to_be_visible()
    expect(player.get_by_role("link", name=song.title)).to_be_visible()
    expect(player).to_contain_text("by Mira Okafor")
    # A free listener asking for Normal hears Normal (HLS: the best AAC variant within it).
    quality = player.locator("[data-player-quality]")
    expect(quality).to_have_text(re.compile(r"^Normal \d+ kbps"))
    wait_until_playing_past(page, 0.5)
    expect(player.get_by_role("button", name="Pause", exact=True)).to_be_visible()
    # Asking for High is capped by the free plan, and the player says so; the song carries on
    # from where it was.
    before_switch = audio_time(page)
    player.get_by_label("Quality").select_option("high")
    expect(quality).to_contain_text("your plan plays up to 160 kbps; High needs Premium")
    expect(quality).to_contain_text("Normal")
    wait_until_playing_past(page, before_switch + 0.3)
    page.evaluate("window.__playingAudio = document.getElementById('player-audio')")
    started = audio_time(page)

    # Another page through a boosted link: the address and title change, the music does not.
    results.get_by_role("link", name="Mira Okafor").first.click()
    expect(page).to_have_url(f"{live_server.url}/listen/artists/{song.artist_id}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mira Okafor")
    expect(page).to_have_title("Mira Okafor · Encore")
    wait_until_playing_past(page, started + 1.0)
    assert page.evaluate("window.__playingAudio === document.getElementById('player-audio')"), (
        "the player's <audio> element was replaced"
    )
    # The artist page shows the song playing in its list.
    expect(page.locator(f'.song-row.is-playing[data-song-id="{song.pk}"]')).to_be_visible()

    # Like it from the player (L would do the same).
    like = player.get_by_role("button", name="Like")
    expect(like).to_have_attribute("aria-pressed", "false")
    like.click()
    expect(like).to_have_attribute("aria-pressed", "true")
    assert SongLike.objects.filter(user=listener, song=song).exists()

    # The library, from the listening pages' own navigation: the song is among the liked.
    before_library = audio_time(page)
    listening = page.get_by_role("navigation", name="Listening")
    listening.get_by_role("link", name="Your library").click()
    expect(page).to_have_url(f"{live_server.url}/listen/library/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your library")
    liked = page.locator("ol[data-queue='library:liked']")
    expect(liked.get_by_role("link", name=song.title)).to_be_visible()
    wait_until_playing_past(page, before_library + 0.5)

    # Back restores the artist page (only #main), and the same audio plays on.
    page.go_back()
    expect(page).to_have_url(f"{live_server.url}/listen/artists/{song.artist_id}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mira Okafor")
    expect(page).to_have_title("Mira Okafor · Encore")
    assert page.evaluate("window.__playingAudio === document.getElementById('player-audio')")
    assert not page.evaluate("document.getElementById('player-audio').paused")

    # Space pauses and plays (not while typing in an input).
    page.locator("h1").click()
    page.keyboard.press("Space")
    expect(player.get_by_role("button", name="Play", exact=True)).to_be_visible()
    paused_at = audio_time(page)
    page.keyboard.press("Space")
    wait_until_playing_past(page, paused_at + 0.3)

    # Next (N) moves on through the list the song was started from; the first listen is
    # reported as a skip, with the time actually heard.
    page.keyboard.press("n")
    expect(player.get_by_role("link", name=then.title)).to_be_visible()
    heard(page, then, 500)
    skip = PlayEvent.objects.get(user=listener, song=song)
    assert skip.ended_reason == "skipped"
    assert skip.context == "search"
    assert 2_000 < skip.ms_played < SONG_SECONDS * 1000

    # A page the boost cannot swap (it loads its own script) opens with a full load.
    page.get_by_role("banner").get_by_role("link", name="My orders").click()
    expect(page).to_have_url(f"{live_server.url}/orders/")
    assert not page.evaluate("window.__playingAudio === document.getElementById('player-audio')")
    # Leaving reported the second listen as stopped; the new page's player holds the song,
    # paused where it was (a page may not start sound by itself).
    stopped = None
    for _ in range(50):
        stopped = PlayEvent.objects.filter(user=listener, song=then).first()
        if stopped:
            break
        time.sleep(0.1)
    assert stopped and stopped.ended_reason == "stopped" and stopped.ms_played > 0
    expect(player.get_by_role("link", name=then.title)).to_be_visible()
    expect(player).to_contain_text("Press play to carry on where you left off.")
    assert page.evaluate("document.getElementById('player-audio').paused")

    assert_stayed_on(live_server, browser_log)
    assert browser_log.errors == []


def test_a_free_listener_out_of_skips_is_told_and_the_song_plays_on(
    page, live_server, browser_log, catalog
):
    listener = UserFactory()
    first, second = catalog["first"], catalog["second"]
    now = timezone.now()
    for _ in range(6):  # the free plan's skips this hour, all spent
        PlayEvent.objects.create(
            user=listener, song=second, started_at=now, ms_played=1000, ended_reason="skipped"
        )
    log_in(page, listener)
    player = page.get_by_role("region", name="Player")

    page.goto(f"/listen/genres/{catalog['genre'].slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harbour Soul")
    page.locator("ol.song-list").get_by_role("button", name=re.compile(r"^Play ")).first.click()
    wait_until_playing_past(page, 0.5)
    playing = player.locator(".player-title").text_content()

    player.get_by_role("button", name="Next song").click()

    expect(player.locator("[data-player-message]")).to_contain_text(
        "You have used this hour's skips on the free plan"
    )
    expect(player.locator(".player-title")).to_have_text(playing)
    at = audio_time(page)
    wait_until_playing_past(page, at + 0.5)
    assert PlayEvent.objects.filter(user=listener).count() == 6
    assert playing in (first.title, second.title)
    assert browser_log.errors == []

    # Leaving reports the listen as stopped; wait for it here, while the test still holds the
    # database (a report arriving during teardown would find it closed).
    page.goto("about:blank")
    deadline = time.monotonic() + 10
    while not PlayEvent.objects.filter(user=listener, ended_reason="stopped").exists():
        assert time.monotonic() < deadline, "the stopped listen never arrived"
        time.sleep(0.1)
