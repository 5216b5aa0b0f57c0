"""The listener's pages through Django's test client: browse, instant search, a song, an album,
an artist, a genre and the library; who may see what (private items are 404 to others), the
boosted-navigation markup of base.html and the player, and bounded query counts."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.staticfiles import finders
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import services
from catalog.models import PlayEvent, Visibility
from tests.catalog.factories import AlbumFactory, ArtistFactory, GenreFactory, SongFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

FRAGMENT = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "search-results"}
BOOSTED = {"HTTP_HX_REQUEST": "true", "HTTP_HX_BOOSTED": "true", "HTTP_HX_TARGET": "main"}


def text_of(response) -> str:
    """The page's visible words, spaces collapsed: what a person reads."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def main_of(response) -> str:
    html = response.content.decode()
    return html[html.index('<main id="main"') : html.index("</main>")]


def queued_ids(response, queue: str) -> list[str]:
    """The song ids of the list the player would queue under ``queue``, in order."""
    html = response.content.decode()
    pattern = rf'<ol class="song-list" data-queue="{re.escape(queue)}">(.*?)</ol>'
    match = re.search(pattern, html, re.S)
    assert match, f"no list queued as {queue}"
    return re.findall(r'data-song-id="([0-9a-f-]+)"', match.group(1))


@pytest.fixture
def listener():
    return UserFactory(display_name="Lou Listener")


@pytest.fixture
def artist():
    return ArtistFactory(name="Mira Okafor", bio="Harbour songs from Lagos.")


def private_song(artist, **kwargs):
    return SongFactory(artist=artist, visibility=Visibility.PRIVATE, **kwargs)


# --- browse ---------------------------------------------------------------------------------


def test_browse_shows_trending_new_releases_and_genres_to_anyone(client, artist):
    jazz = GenreFactory(name="Jazz")
    AlbumFactory(artist=artist, title="Night Ferries", release_date=timezone.localdate())
    popular = SongFactory(artist=artist, title="Harbour Lights", play_count=40, genres=[jazz])
    quiet = SongFactory(artist=artist, title="Low Tide", play_count=3)
    hidden = private_song(artist, title="Secret Demo", play_count=500)

    response = client.get("/listen/?range=all")

    assert response.status_code == 200
    text = text_of(response)
    assert "Night Ferries" in text and "Jazz" in text
    assert queued_ids(response, "trending:all") == [str(popular.pk), str(quiet.pk)]
    assert str(hidden.pk) not in response.content.decode()
    assert "Secret Demo" not in text


def test_trending_ranges_count_recent_plays_and_likes(client, artist, listener):
    old_hit = SongFactory(artist=artist, title="Old Hit", play_count=1000)
    fresh = SongFactory(artist=artist, title="Fresh One")
    PlayEvent.objects.create(
        user=listener,
        song=fresh,
        started_at=timezone.now() - timedelta(days=2),
        ms_played=60_000,
        ended_reason="completed",
        counted=True,
    )

    week = client.get("/listen/?range=week")
    everything = client.get("/listen/?range=all")
    unknown = client.get("/listen/?range=forever")

    assert queued_ids(week, "trending:week") == [str(fresh.pk)]
    assert queued_ids(everything, "trending:all")[0] == str(old_hit.pk)
    # An unknown range falls back to the week, never an error page.
    assert unknown.status_code == 200
    assert queued_ids(unknown, "trending:week") == [str(fresh.pk)]
    assert 'href="?range=month"' in week.content.decode()


def test_a_listeners_likes_and_favourites_are_marked_in_lists(client, artist, listener):
    liked = SongFactory(artist=artist, play_count=5)
    plain = SongFactory(artist=artist, play_count=4)
    services.song_like(user=listener, song=liked)
    services.song_favorite_add(user=listener, song=liked)
    client.force_login(listener)

    html = client.get("/listen/?range=all").content.decode()

    row = re.search(rf'<li class="song-row" data-song-id="{liked.pk}"[^>]*>', html, re.S).group(0)
    assert 'data-liked="true"' in row and 'data-favorite="true"' in row
    other = re.search(rf'<li class="song-row" data-song-id="{plain.pk}"[^>]*>', html, re.S).group(0)
    assert 'data-liked="false"' in other and 'data-favorite="false"' in other


# --- search ---------------------------------------------------------------------------------


def test_instant_search_answers_a_fragment_with_every_kind(client, artist):
    genre = GenreFactory(name="Harbour Soul")
    AlbumFactory(artist=artist, title="Harbour Nights")
    song = SongFactory(artist=artist, title="Harbour Lights", genres=[genre])
    private_song(artist, title="Harbour Secrets")

    response = client.get("/listen/search/", {"q": "harbour"}, **FRAGMENT)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'id="player"' not in html
    text = text_of(response)
    assert "Harbour Lights" in text
    assert "Harbour Nights" in text
    assert "Harbour Soul" in text
    assert "Harbour Secrets" not in text
    assert queued_ids(response, "search") == [str(song.pk)]
    assert "HX-Request" in response["Vary"]


def test_search_finds_artists_and_says_when_nothing_matches(client, artist):
    SongFactory(artist=artist, title="Low Tide")

    found = client.get("/listen/search/", {"q": "okafor"}, **FRAGMENT)
    nothing = client.get("/listen/search/", {"q": "zzqxv"}, **FRAGMENT)
    empty = client.get("/listen/search/", {"q": ""}, **FRAGMENT)

    assert "Mira Okafor" in text_of(found)
    assert f'href="/listen/artists/{artist.pk}/"' in found.content.decode()
    assert "Nothing matches “zzqxv”" in text_of(nothing)
    assert "Type to search." in text_of(empty)


def test_search_page_is_a_whole_page_for_links_and_boosted_navigation(client, artist):
    SongFactory(artist=artist, title="Harbour Lights")

    plain = client.get("/listen/search/", {"q": "harbour"})
    boosted = client.get("/listen/search/", {"q": "harbour"}, **BOOSTED)
    blank = client.get("/listen/search/")

    for response in (plain, boosted):
        assert response.status_code == 200
        html = response.content.decode()
        assert "<title>“harbour” · Search · Encore</title>" in html
        assert 'id="player"' in html
        assert "Harbour Lights" in main_of(response)
        assert 'value="harbour"' in html
    assert blank.status_code == 200
    assert 'id="listen-search"' in blank.content.decode()


# --- song, album, artist, genre --------------------------------------------------------------


def test_song_page_shows_the_song_and_its_marks(client, artist, listener):
    jazz = GenreFactory(name="Jazz")
    album = AlbumFactory(artist=artist, title="Night Ferries")
    song = SongFactory(
        artist=artist, album=album, title="Harbour Lights", duration=185, genres=[jazz]
    )
    song.lyrics = "Lights on the water"
    song.save(update_fields=["lyrics"])
    services.song_favorite_add(user=listener, song=song)

    anonymous = client.get(f"/listen/songs/{song.pk}/")
    client.force_login(listener)
    signed_in = client.get(f"/listen/songs/{song.pk}/")

    assert anonymous.status_code == 200
    text = text_of(anonymous)
    assert "Harbour Lights" in text and "Mira Okafor" in text and "Night Ferries" in text
    assert "3:05" in text and "Jazz" in text and "Lights on the water" in text
    assert "Log in to like" in text
    assert queued_ids(anonymous, f"song:{song.pk}") == [str(song.pk)]
    html = signed_in.content.decode()
    assert f'data-mark="like" data-id="{song.pk}" aria-pressed="false"' in html
    assert f'data-mark="favorite" data-id="{song.pk}" aria-pressed="true"' in html
    assert "<title>Harbour Lights · Mira Okafor · Encore</title>" in html


def test_private_songs_and_albums_are_404_to_everyone_but_their_artist(client, artist, listener):
    album = AlbumFactory(artist=artist, visibility=Visibility.PRIVATE, title="Demos")
    song = private_song(artist, album=album, title="Secret Demo")
    urls = [f"/listen/songs/{song.pk}/", f"/listen/albums/{album.pk}/"]

    for url in urls:
        assert client.get(url).status_code == 404
    client.force_login(listener)
    for url in urls:
        assert client.get(url).status_code == 404
    client.force_login(artist.user)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200
        assert "Private" in text_of(response)


def test_unknown_items_are_404(client):
    for url in (
        "/listen/songs/00000000-0000-0000-0000-000000000000/",
        "/listen/albums/00000000-0000-0000-0000-000000000000/",
        "/listen/artists/00000000-0000-0000-0000-000000000000/",
        "/listen/genres/no-such-genre/",
    ):
        assert client.get(url).status_code == 404, url


def test_album_page_lists_its_tracks_in_order_with_the_favourite(client, artist, listener):
    album = AlbumFactory(artist=artist, title="Night Ferries", release_date=timezone.localdate())
    second = SongFactory(artist=artist, album=album, track_number=2, title="Second Crossing")
    first = SongFactory(artist=artist, album=album, track_number=1, title="First Crossing")
    private_song(artist, album=album, track_number=3, title="Cut Track")
    services.album_favorite_add(user=listener, album=album)

    response = client.get(f"/listen/albums/{album.pk}/")
    client.force_login(listener)
    signed_in = client.get(f"/listen/albums/{album.pk}/")

    assert response.status_code == 200
    assert queued_ids(response, f"album:{album.pk}") == [str(first.pk), str(second.pk)]
    assert "Cut Track" not in text_of(response)
    assert "2 songs" in text_of(response)
    assert f'data-mark="album-favorite" data-id="{album.pk}" aria-pressed="true"' in (
        signed_in.content.decode()
    )


def test_artist_page_shows_bio_top_songs_albums_followers_and_plays(client, artist, listener):
    AlbumFactory(artist=artist, title="Night Ferries")
    AlbumFactory(artist=artist, title="Hidden Album", visibility=Visibility.PRIVATE)
    top = SongFactory(artist=artist, title="Harbour Lights", play_count=90)
    second = SongFactory(artist=artist, title="Low Tide", play_count=10)
    private_song(artist, title="Secret Demo", play_count=1000)
    services.artist_follow(user=listener, artist=artist)

    response = client.get(f"/listen/artists/{artist.pk}/")
    client.force_login(listener)
    signed_in = client.get(f"/listen/artists/{artist.pk}/")
    client.force_login(artist.user)
    own = client.get(f"/listen/artists/{artist.pk}/")

    assert response.status_code == 200
    text = text_of(response)
    assert "Harbour songs from Lagos." in text
    assert "Night Ferries" in text and "Hidden Album" not in text and "Secret Demo" not in text
    assert re.search(r"Followers\s*</dt>\s*<dd[^>]*>1</dd>", response.content.decode())
    assert re.search(r"Total plays\s*</dt>\s*<dd>100</dd>", response.content.decode())
    assert queued_ids(response, f"artist:{artist.pk}") == [str(top.pk), str(second.pk)]
    assert "Log in to follow" in text
    assert f'data-mark="follow" data-id="{artist.pk}" aria-pressed="true"' in (
        signed_in.content.decode()
    )
    # The artist sees their own private work, and no button to follow themselves.
    assert "Secret Demo" in text_of(own) and "Hidden Album" in text_of(own)
    assert 'data-mark="follow"' not in own.content.decode()


def test_genre_page_lists_the_genres_songs(client, artist):
    jazz = GenreFactory(name="Jazz")
    folk = GenreFactory(name="Folk")
    in_jazz = SongFactory(artist=artist, title="Blue Harbour", genres=[jazz], play_count=2)
    also = SongFactory(artist=artist, title="Night Swing", genres=[jazz, folk], play_count=9)
    SongFactory(artist=artist, title="Field Song", genres=[folk])
    private_song(artist, title="Secret Jazz", genres=[jazz])

    response = client.get(f"/listen/genres/{jazz.slug}/")

    assert response.status_code == 200
    assert queued_ids(response, f"genre:{jazz.slug}") == [str(also.pk), str(in_jazz.pk)]
    text = text_of(response)
    assert "Field Song" not in text and "Secret Jazz" not in text
    assert "2 songs" in text


# --- library --------------------------------------------------------------------------------


def test_library_needs_sign_in(client):
    response = client.get("/listen/library/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "next=/listen/library/" in response["Location"]


def test_library_holds_the_listeners_own_songs_albums_artists_and_plays(client, artist, listener):
    album = AlbumFactory(artist=artist, title="Night Ferries")
    favourite = SongFactory(artist=artist, title="Kept Song")
    liked = SongFactory(artist=artist, title="Liked Song")
    played = SongFactory(artist=artist, title="Played Song")
    someone_elses = SongFactory(artist=artist, title="Not Yours")
    services.song_favorite_add(user=listener, song=favourite)
    services.song_like(user=listener, song=liked)
    services.album_favorite_add(user=listener, album=album)
    services.artist_follow(user=listener, artist=artist)
    services.play_record(user=listener, song=played, ms_played=40_000, ended_reason="completed")
    other = UserFactory()
    services.song_favorite_add(user=other, song=someone_elses)
    services.play_record(user=other, song=someone_elses, ms_played=1000, ended_reason="stopped")
    client.force_login(listener)

    response = client.get("/listen/library/")

    assert response.status_code == 200
    assert queued_ids(response, "library:favorites") == [str(favourite.pk)]
    assert queued_ids(response, "library:liked") == [str(liked.pk)]
    assert queued_ids(response, "library:recent") == [str(played.pk)]
    text = text_of(response)
    assert "Night Ferries" in text and "Mira Okafor" in text
    assert "Not Yours" not in text


def test_a_song_made_private_leaves_other_listeners_libraries(client, artist, listener):
    song = SongFactory(artist=artist, title="Was Public")
    services.song_favorite_add(user=listener, song=song)
    services.song_like(user=listener, song=song)
    services.song_update(song=song, user=artist.user, visibility=Visibility.PRIVATE)
    client.force_login(listener)

    assert "Was Public" not in text_of(client.get("/listen/library/"))


# --- navigation, the player and boosted pages ------------------------------------------------


def test_listen_is_in_the_navigation_and_marked_on_listening_pages(client):
    html = client.get("/listen/").content.decode()
    nav = html[html.index('<ul id="nav-links"') : html.index("</ul>", html.index("nav-links"))]

    assert re.search(r'href="/listen/"\s+aria-current="page">Listen<', nav)
    assert 'hx-boost="true"' in nav and 'hx-target="#main"' in nav


def test_the_home_pages_listen_button_opens_listen(client):
    for who in (None, UserFactory()):
        if who:
            client.force_login(who)
        html = client.get("/").content.decode()
        cta = r'<a class="button button-secondary" href="/listen/">Start listening</a>'
        assert re.search(cta, html)


def test_every_page_carries_the_player_outside_main(client, listener):
    client.force_login(listener)
    for url in ("/", "/listen/", "/accounts/profile/"):
        html = client.get(url).content.decode()
        main_end = html.index("</main>")
        assert html.index('<section id="player"') > main_end, url
        assert '<main id="main" class="main" tabindex="-1" hx-history-elt>' in html
        assert 'data-signed-in="true"' in html
        assert "/static/vendor/hls/hls.light.min.js" in html
        assert "/static/js/player.js" in html and "/static/js/boost.js" in html
        assert 'aria-label="Play"' in html and 'aria-label="Next song"' in html


def test_hls_js_is_vendored_from_node_modules():
    found = finders.find("vendor/hls/hls.light.min.js")

    assert found and "node_modules/hls.js/dist" in found


# --- bounded queries ------------------------------------------------------------------------


def _catalog(artist, listener, *, songs: int):
    genre = GenreFactory(name="Jazz")
    album = AlbumFactory(artist=artist, title="Night Ferries", release_date=timezone.localdate())
    made = []
    for n in range(songs):
        song = SongFactory(
            artist=artist,
            album=album if n % 2 else None,
            track_number=n,
            title=f"Harbour {n}",
            genres=[genre],
            play_count=n,
        )
        services.song_like(user=listener, song=song)
        services.song_favorite_add(user=listener, song=song)
        services.play_record(user=listener, song=song, ms_played=40_000, ended_reason="completed")
        made.append(song)
    services.album_favorite_add(user=listener, album=album)
    services.artist_follow(user=listener, artist=artist)
    return genre, album, made


def _pages(genre, album, song, artist):
    return [
        "/listen/?range=all",
        "/listen/?range=week",
        "/listen/search/?q=harbour",
        f"/listen/songs/{song.pk}/",
        f"/listen/albums/{album.pk}/",
        f"/listen/artists/{artist.pk}/",
        f"/listen/genres/{genre.slug}/",
        "/listen/library/",
    ]


def _counts(client, urls) -> dict[str, int]:
    counts = {}
    for url in urls:
        cache.clear()  # trending is cached for a minute: count the queries that fill it
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts[url] = len(queries)
    return counts


def test_query_counts_do_not_grow_with_the_catalog(client, artist, listener):
    genre, album, songs = _catalog(artist, listener, songs=3)
    client.force_login(listener)
    urls = _pages(genre, album, songs[0], artist)
    few = _counts(client, urls)
    for n in range(3, 12):
        song = SongFactory(
            artist=artist, album=album, title=f"Harbour {n}", genres=[genre], play_count=n
        )
        services.song_like(user=listener, song=song)
        services.song_favorite_add(user=listener, song=song)
        services.play_record(user=listener, song=song, ms_played=40_000, ended_reason="completed")

    many = _counts(client, urls)

    assert many == few


@pytest.mark.parametrize("signed_in", [False, True])
def test_pages_stay_within_their_query_budget(
    client, artist, listener, signed_in, django_assert_max_num_queries
):
    genre, album, songs = _catalog(artist, listener, songs=8)
    urls = _pages(genre, album, songs[0], artist)
    if signed_in:
        client.force_login(listener)
    else:
        urls.remove("/listen/library/")
    for url in urls:
        with django_assert_max_num_queries(16):
            assert client.get(url).status_code == 200, url


def test_a_very_long_search_is_shown_back_shortened(client):
    answer = client.get("/listen/search/", {"q": "x" * 3000})
    assert answer.status_code == 200
    html = answer.content.decode()
    assert "x" * 201 not in html  # the box keeps what was searched: the first 200 characters
    assert "Nothing matches “" + "x" * 79 + "…”" in html
