"""Catalog search through GET /api/songs/search, on whichever database the run uses (SQLite FTS5
by default, PostgreSQL full-text + trigrams when DATABASE_URL is set).

Typo tolerance is a PostgreSQL feature (trigram word similarity); on SQLite the same tests
assert what SQLite promises instead (prefix matching), so neither run skips them.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import search, services
from catalog.models import Visibility
from tests.catalog.conftest import client_for
from tests.catalog.factories import AlbumFactory, ArtistFactory, GenreFactory, SongFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/songs/search"


def found(client, q, **params):
    response = client.get(URL, {"q": q, **params})
    assert response.status_code == 200, response.content[:500]
    return response.json()


def titles(data) -> list[str]:
    return [song["title"] for song in data["results"]]


@pytest.fixture
def catalog():
    """A small catalog whose words live in one field each."""
    lunar = ArtistFactory(name="Lunar Tides")
    ember = ArtistFactory(name="Ember Quartet")
    monsoon = AlbumFactory(artist=ember, title="Monsoon Letters")
    shoegaze = GenreFactory(name="Shoegaze", slug="shoegaze")
    folk = GenreFactory(name="Folk", slug="folk")
    songs = {
        "sunset": SongFactory(artist=lunar, title="Sunset Boulevard", genres=[folk]),
        "harbour": SongFactory(artist=lunar, title="Harbour Lights"),
        "letters": SongFactory(artist=ember, album=monsoon, title="Paper Boats"),
        "fuzz": SongFactory(artist=ember, title="Velvet Static", genres=[shoegaze]),
        "unrelated": SongFactory(title="Quiet Morning"),
    }
    return {"songs": songs, "lunar": lunar, "ember": ember, "album": monsoon, "genre": shoegaze}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("Harbour", {"Harbour Lights"}),  # title
        ("lunar", {"Sunset Boulevard", "Harbour Lights"}),  # artist
        ("monsoon letters", {"Paper Boats"}),  # album
        ("shoegaze", {"Velvet Static"}),  # genre
        ("ember velvet", {"Velvet Static"}),  # artist and title words together
    ],
)
def test_words_are_found_in_title_artist_album_and_genre(anonymous, catalog, q, expected):
    assert set(titles(found(anonymous, q))) == expected


def test_every_word_must_match(anonymous, catalog):
    # "lunar" alone finds two songs; with "harbour" only the one that has both words.
    assert titles(found(anonymous, "lunar harbour")) == ["Harbour Lights"]


def test_matching_ignores_case_and_extra_whitespace(anonymous, catalog):
    assert titles(found(anonymous, "   hARBOUR    LIGHTS  ")) == ["Harbour Lights"]


def test_a_title_match_ranks_above_a_genre_only_match(anonymous):
    blues = GenreFactory(name="Blues", slug="blues")
    genre_only = SongFactory(title="Crossroads", genres=[blues])
    in_title = SongFactory(title="Midnight Blues")
    data = found(anonymous, "blues")
    assert titles(data) == [in_title.title, genre_only.title]


def test_a_title_match_ranks_above_an_album_only_match(anonymous):
    artist = ArtistFactory(name="Nobody Special")
    album = AlbumFactory(artist=artist, title="Ocean Tapes")
    on_album = SongFactory(artist=artist, album=album, title="First Light")
    in_title = SongFactory(title="Ocean Drive")
    assert titles(found(anonymous, "ocean")) == [in_title.title, on_album.title]


@pytest.mark.parametrize("q", ["s", "su", "suns", "sunse", "SUNS", "lunar sun", "boulev"])
def test_instant_search_finds_a_word_from_its_first_letters(anonymous, catalog, q):
    assert "Sunset Boulevard" in titles(found(anonymous, q))


def test_a_prefix_only_completes_the_last_word(anonymous, catalog):
    # Earlier words are whole words: "sun" does not complete "Sunset" when it is not last.
    # (PostgreSQL may still find it by word similarity, which ranks it; SQLite must not.)
    data = found(anonymous, "lunar harbour")
    assert titles(data) == ["Harbour Lights"]


@pytest.mark.parametrize("q", ["sunest", "Sunsett", "sunset bolevard", "Harbor Lights"])
def test_a_typo_still_finds_the_song_on_postgresql(anonymous, catalog, q):
    data = found(anonymous, q)
    expected = "Harbour Lights" if q.startswith("Harbor") else "Sunset Boulevard"
    if connection.vendor == "postgresql":
        assert titles(data)[0] == expected
    else:
        # SQLite has no trigram distance: a misspelt word finds nothing, a prefix does.
        assert titles(data) == []
        assert expected in titles(found(anonymous, q[:3]))


def test_a_typo_in_an_artist_name_finds_their_songs_on_postgresql(anonymous, catalog):
    data = found(anonymous, "Lunr Tides")
    if connection.vendor == "postgresql":
        assert set(titles(data)[:2]) == {"Sunset Boulevard", "Harbour Lights"}
    else:
        assert titles(data) == []


def test_an_exact_match_ranks_above_a_similar_word(anonymous):
    SongFactory(title="Sunsets Over Tokyo")
    SongFactory(title="Sunset")
    assert titles(found(anonymous, "sunset"))[0] == "Sunset"


def test_private_songs_are_found_only_by_their_owner(anonymous, catalog):
    owner = catalog["lunar"]
    SongFactory(artist=owner, title="Sunset Demo", visibility=Visibility.PRIVATE)
    stranger = client_for(UserFactory())
    mine = client_for(owner.user)

    assert "Sunset Demo" in titles(found(mine, "sunset"))
    assert "Sunset Demo" not in titles(found(stranger, "sunset"))
    assert "Sunset Demo" not in titles(found(anonymous, "sunset"))
    # A word only a private song holds is, to everyone else, a word the catalog does not have:
    # they may get near misses, never the song (nor a sign that it exists).
    assert "Sunset Demo" not in titles(found(anonymous, "demo"))


def test_private_albums_are_found_only_by_their_owner(anonymous, catalog):
    AlbumFactory(artist=catalog["lunar"], title="Sunset Sessions", visibility=Visibility.PRIVATE)
    album_titles = [a["title"] for a in found(anonymous, "sessions")["albums"]]
    own_titles = [
        a["title"] for a in found(client_for(catalog["lunar"].user), "sessions")["albums"]
    ]
    assert album_titles == []
    assert own_titles == ["Sunset Sessions"]


@pytest.mark.parametrize("q", ["", "   ", "\t\n"])
def test_an_empty_query_is_400_with_detail_and_code(anonymous, q):
    response = anonymous.get(URL, {"q": q})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] and body["detail"]
    assert "q" in body["errors"]


def test_a_missing_query_is_400(anonymous):
    response = anonymous.get(URL)
    assert response.status_code == 400
    assert set(response.json()) >= {"detail", "code"}


def test_a_very_long_query_is_cut_not_refused(anonymous, catalog):
    data = found(anonymous, "sunset " * 3000)
    assert len(search.query_clean("sunset " * 3000)) <= search.MAX_QUERY_LENGTH
    assert data["results"][0]["title"] == "Sunset Boulevard"
    # One enormous word (no spaces) neither crashes the engine nor matches anything.
    assert found(anonymous, "x" * 20000)["count"] == 0


HOSTILE = [
    '"',
    '""',
    '"sunset',
    "sunset\"'",
    "'",
    "*",
    "sun*",
    "**",
    "NEAR(",
    "NEAR(sunset harbour, 2)",
    "sunset NEAR/3 harbour",
    "-",
    "-sunset",
    "sunset -harbour",
    ":",
    "title:sunset",
    "{title}: sunset",
    "^",
    "^sunset",
    "(",
    ")",
    "((sunset)",
    "sunset AND",
    "OR",
    "NOT sunset",
    "AND OR NOT",
    "sunset & | ! <-> :*",
    "a:* & !b",
    "'sunset':*",
    "\\",
    "%",
    "_",
    "__",
    "sun_set",
    "'; DROP TABLE catalog_song; --",
    "1' OR '1'='1",
    "sunset' UNION SELECT password FROM accounts_user --",
    "\x00",
    "sun\x00set",
    "ñandú",
    "Ünïcödé",
    "東京の夜",
    "ليلة",
    "🎵🔥",
    "sunset 🎵",
    "\u200b",
    "\ufeffsunset",
    "𝔰𝔲𝔫𝔰𝔢𝔱",
    "²",
    "0",
    "12345678901234567890",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_input_never_breaks_the_search(anonymous, catalog, q):
    response = anonymous.get(URL, {"q": q})
    assert response.status_code in (200, 400), response.content[:500]
    body = response.json()
    if response.status_code == 400:
        assert body["code"] and body["detail"]
    else:
        assert isinstance(body["results"], list)
        for key in ("albums", "artists", "genres"):
            assert isinstance(body[key], list)


@pytest.mark.parametrize("q", ['"sunset', "sunset*", "(sunset)", "sunset:", "^sunset", "-sunset"])
def test_syntax_characters_around_a_word_are_ignored(anonymous, catalog, q):
    assert titles(found(anonymous, q))[0] == "Sunset Boulevard"


def test_the_catalog_survives_a_sql_fragment(anonymous, catalog):
    found(anonymous, "'; DROP TABLE catalog_song; --")
    assert titles(found(anonymous, "harbour")) == ["Harbour Lights"]


@pytest.mark.parametrize("q", ["ñandú", "Ünïcödé", "東京"])
def test_non_latin_titles_are_found(anonymous, q):
    SongFactory(title="Ñandú Ünïcödé")
    SongFactory(title="東京 の 夜")
    assert len(found(anonymous, q)["results"]) == 1


def test_albums_artists_and_genres_are_in_the_answer(anonymous, catalog):
    data = found(anonymous, "monsoon")
    assert [a["title"] for a in data["albums"]] == ["Monsoon Letters"]
    assert data["albums"][0]["artist"]["name"] == "Ember Quartet"
    assert titles(data) == ["Paper Boats"]

    data = found(anonymous, "ember")
    assert [a["name"] for a in data["artists"]] == ["Ember Quartet"]
    assert {a["title"] for a in data["albums"]} == {"Monsoon Letters"}  # by its artist's name

    data = found(anonymous, "shoeg")
    assert [g["name"] for g in data["genres"]] == ["Shoegaze"]
    assert data["genres"][0]["song_count"] == 1
    assert data["query"] == "shoeg"


def test_side_lists_are_bounded(anonymous):
    for n in range(12):
        AlbumFactory(title=f"Rainfall {n}")
    data = found(anonymous, "rainfall")
    assert len(data["albums"]) == 8


def test_songs_are_paginated(anonymous):
    for n in range(7):
        SongFactory(title=f"Raindrop {n}")
    first = found(anonymous, "raindrop", page_size=5)
    second = found(anonymous, "raindrop", page_size=5, page=2)
    assert first["count"] == 7
    assert len(first["results"]) == 5 and len(second["results"]) == 2
    assert not set(titles(first)) & set(titles(second))


# --- the index keeps up with changes ---------------------------------------------------------


def test_an_artist_rename_is_searchable_by_the_new_name(anonymous, catalog):
    lunar = catalog["lunar"]
    AlbumFactory(artist=lunar, title="Night Drive")
    services.artist_update(artist=lunar, user=lunar.user, name="Solar Flares")

    data = found(anonymous, "solar flares")
    assert set(titles(data)) == {"Sunset Boulevard", "Harbour Lights"}
    assert data["results"][0]["artist"]["name"] == "Solar Flares"
    assert [a["name"] for a in data["artists"]] == ["Solar Flares"]
    assert [a["title"] for a in data["albums"]] == ["Night Drive"]
    assert found(anonymous, "lunar")["count"] == 0
    assert found(anonymous, "lunar")["artists"] == []


def test_an_album_rename_is_searchable_by_the_new_title(anonymous, catalog):
    album, ember = catalog["album"], catalog["ember"]
    services.album_update(album=album, user=ember.user, title="Dry Season")
    assert titles(found(anonymous, "dry season")) == ["Paper Boats"]
    assert found(anonymous, "monsoon")["count"] == 0


def test_a_song_retitled_is_found_by_its_new_title_only(anonymous, catalog):
    song = catalog["songs"]["harbour"]
    services.song_update(song=song, user=song.artist.user, title="Lighthouse Keeper")
    assert titles(found(anonymous, "lighthouse")) == ["Lighthouse Keeper"]
    assert found(anonymous, "harbour")["count"] == 0


def test_genres_changed_on_a_song_are_searchable(anonymous, catalog):
    song = catalog["songs"]["harbour"]
    dream = GenreFactory(name="Dream Pop", slug="dream-pop")
    services.song_update(song=song, user=song.artist.user, genres=[dream])
    assert titles(found(anonymous, "dream pop")) == ["Harbour Lights"]


def test_a_song_made_private_leaves_the_public_search(anonymous, catalog):
    song = catalog["songs"]["harbour"]
    services.song_update(song=song, user=song.artist.user, visibility=Visibility.PRIVATE)
    assert found(anonymous, "harbour")["count"] == 0
    assert titles(found(client_for(song.artist.user), "harbour")) == ["Harbour Lights"]


def test_a_deleted_song_is_no_longer_found(anonymous, catalog):
    song = catalog["songs"]["harbour"]
    song_id = song.pk
    services.song_delete(song=song, user=song.artist.user)
    assert found(anonymous, "harbour")["count"] == 0
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM catalog_song_fts WHERE object_id = %s", [song_id.hex]
            )
            assert cursor.fetchone()[0] == 0


def test_sqlite_fts_rows_follow_updates_one_for_one(catalog):
    if connection.vendor != "sqlite":
        # PostgreSQL's search_vector is a generated column: it cannot drift from its row.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT attgenerated FROM pg_attribute "
                "WHERE attrelid = 'catalog_song'::regclass AND attname = 'search_vector'"
            )
            assert cursor.fetchone()[0] == "s"
        return
    song = catalog["songs"]["sunset"]
    for title in ("One", "Two", "Three"):
        services.song_update(song=song, user=song.artist.user, title=title)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT title, artist_name FROM catalog_song_fts WHERE object_id = %s", [song.pk.hex]
        )
        assert cursor.fetchall() == [("Three", "Lunar Tides")]
        cursor.execute("SELECT count(*) FROM catalog_song_fts")
        rows = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM catalog_song")
        assert rows == cursor.fetchone()[0]


# --- the search module directly --------------------------------------------------------------


def test_a_query_without_words_matches_nothing(catalog):
    from catalog.models import Song

    for q in ("", "!!!", "🎵", '"*"', "()"):
        assert list(search.search(Song.objects.all(), "song", q)) == []


def test_search_ranks_are_annotated_best_first(catalog):
    from catalog.models import Song

    results = list(search.search(Song.objects.all(), "song", "lunar"))
    ranks = [song.search_rank for song in results]
    assert ranks == sorted(ranks, reverse=True)
    assert len(results) == 2


def test_a_misspelt_word_is_corrected_from_the_catalogs_own_words(anonymous, catalog):
    """On PostgreSQL a word the catalog does not know is replaced by its nearest known word
    (kept by triggers as songs arrive), without comparing every title by trigrams."""
    SongFactory(title="Midnight Train")
    with CaptureQueriesContext(connection) as queries:
        data = found(anonymous, "midnigth train")
    if connection.vendor != "postgresql":
        assert titles(data) == []
        return
    assert titles(data) == ["Midnight Train"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT word FROM catalog_search_word WHERE word IN ('midnight', 'train')")
        assert {row[0] for row in cursor.fetchall()} == {"midnight", "train"}
    song_scans = [q["sql"] for q in queries if "FROM catalog_song WHERE" in q["sql"]]
    assert not [sql for sql in song_scans if "word_similarity" in sql]


def test_near_misses_stay_out_of_the_side_lists_when_the_words_have_answers(anonymous):
    GenreFactory(name="Glove", slug="glove")
    AlbumFactory(title="Gloves Off")
    SongFactory(title="Love Letters")
    data = found(anonymous, "love")
    assert titles(data) == ["Love Letters"]
    assert data["genres"] == [] and data["albums"] == []
