"""Catalog read benchmark on PostgreSQL: song lists, search and trending over 100,000 songs,
against a bare primary-key SELECT on the same table measured in the same run.

    .venv/bin/python bench/catalog.py [--songs 100000] [--requests 100] [--keep|--reuse]

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/encore_bench_catalog): a scratch
database that the script drops, creates and migrates at the start and drops at the end (unless
--keep); it refuses a database whose name does not say "bench". The catalog is bulk-created:
~2,000 artists (each a musician account), ~10,000 albums, 30 genres, the songs (titles made
from a word list, one or two genres each, plays and likes in a long-tailed spread, each on a
minimal AudioAsset row: no files), 40,000 likes and 150,000 play events over 60 days.

Requests go through Django's test Client in-process (URL routing, DRF, serializers, the ORM and
a real PostgreSQL round trip; no socket, no HTTP server), as an anonymous visitor (throttling
off). Each figure is p50 / p95 over --requests requests (and the p50 of the time spent inside
the database, from Django's query log, which tells the database from Python and the load
other processes put on the machine); the baseline is a bare
``SELECT * FROM catalog_song WHERE id = %s`` on the same connection. The cache is the
configured one (local memory unless REDIS_URL is set); "cold" deletes the trending key before
each request, "cached" leaves it. Goal printed: search p95 <= 50 ms.
"""

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/encore_bench_catalog"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ.setdefault("THROTTLE_ANON", "1000000/minute")
os.environ.setdefault("THROTTLE_USER", "1000000/minute")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SEARCH_GOAL_MS = 50.0


def _split(text: str) -> list[str]:
    return text.split()


WORDS = _split(
    "love night heart fire rain summer dream light road river ocean city star moon sun "
    "midnight golden silver blue velvet electric broken wild quiet lonely sweet bitter "
    "morning evening shadow echo thunder storm desert mountain garden window mirror "
    "letter paper train station highway harbour island winter autumn spring dance "
    "fever ghost angel devil honey sugar coffee whiskey neon paradise heaven home "
    "memory promise secret story song melody rhythm blues soul gospel lullaby anthem "
    "runaway stranger lover friend brother sister mother father child king queen "
    "diamond crystal stone glass iron wire smoke ash dust gold rose lily violet "
    "sunset sunrise horizon satellite rocket orbit galaxy comet tide wave shore "
    "bridge tower castle forest meadow valley canyon prairie monsoon tokyo bombay "
    "paris berlin lagos havana cairo delhi lisbon memphis"
)
FIRST = _split(
    "Mira Arjun Leila Tomas Ines Kofi Yuki Omar Priya Dmitri Sofia Kwame Anya Rafael Noor "
    "Elena Jonas Amara Felix Zara Ravi Lucia Hugo Nadia Ezra Maya Kenji Ada Luca Imani"
)
LAST = _split(
    "Kapoor Okafor Lindqvist Moreau Haddad Tanaka Silva Novak Mensah Rossi Ivanova "
    "Fernandes Nakamura Osei Weber Costa Sato Khan Dubois Petrov"
)
BAND = _split(
    "Owls Tides Engines Lanterns Satellites Wolves Daughters Pilots Machines Ghosts "
    "Rivers Echoes Comets Orchards Parades Harbours Sparrows Giants Cartographers"
)
GENRE_NAMES = [
    "Pop", "Rock", "Indie", "Folk", "Jazz", "Blues", "Soul", "Funk", "Hip Hop", "R&B",
    "Electronic", "House", "Techno", "Ambient", "Classical", "Country", "Reggae", "Metal",
    "Punk", "Shoegaze", "Dream Pop", "Bollywood", "Ghazal", "Qawwali", "Afrobeat",
    "Bossa Nova", "Lo-Fi", "Gospel", "Disco", "Trap",
]  # fmt: skip


def ensure_fresh_database(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"bench/catalog.py measures PostgreSQL; DATABASE_URL is {parts.scheme}://")
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to write benchmark rows into {name!r}: use a database named *bench*")
    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    drop_database(admin, name)
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin, name


def drop_database(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def title(rng: random.Random) -> str:
    words = rng.sample(WORDS, rng.choice((1, 2, 2, 2, 3, 3, 4)))
    text = " ".join(w.capitalize() for w in words)
    return rng.choice(("", "", "", "", "The ", "My ", "Our ")) + text


def artist_name(rng: random.Random, n: int) -> str:
    if n % 3 == 0:
        return f"The {rng.choice(WORDS).capitalize()} {rng.choice(BAND)}"
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def populate(songs_total: int, rng: random.Random) -> dict:
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from audio.models import AudioAsset
    from catalog.models import Album, Artist, Genre, PlayEvent, Song, SongLike

    batch = 5000
    artists_total = max(10, songs_total // 50)
    albums_total = max(20, songs_total // 10)
    listeners_total = 1000

    genres = Genre.objects.bulk_create(
        [Genre(name=n, slug=f"g-{i}") for i, n in enumerate(GENRE_NAMES)]
    )
    users = User.objects.bulk_create(
        [
            User(
                email=f"artist{i}@bench.example",
                display_name=f"Artist {i}",
                is_musician=True,
                password="!",
            )
            for i in range(artists_total)
        ]
        + [
            User(email=f"listener{i}@bench.example", display_name=f"L{i}", password="!")
            for i in range(listeners_total)
        ],
        batch_size=batch,
    )
    musicians, listeners = users[:artists_total], users[artists_total:]
    artists = Artist.objects.bulk_create(
        [
            Artist(user=u, name=artist_name(rng, i), slug=f"artist-{i}", verified=i % 7 == 0)
            for i, u in enumerate(musicians)
        ],
        batch_size=batch,
    )
    albums = Album.objects.bulk_create(
        [
            Album(
                artist=(artist := artists[i % artists_total]),
                title=title(rng),
                artist_name=artist.name,
                release_date=date(2015, 1, 1) + timedelta(days=rng.randrange(3650)),
            )
            for i in range(albums_total)
        ],
        batch_size=batch,
    )
    albums_of: dict = {}
    for album in albums:
        albums_of.setdefault(album.artist_id, []).append(album)

    song_rows, genre_rows = [], []
    # Zipf-like: the busiest artist has ~1% of the songs, the median one a few dozen.
    by_artist = rng.choices(
        artists, weights=[1 / (rank + 20) for rank in range(artists_total)], k=songs_total
    )
    for i, artist in enumerate(by_artist):
        album = rng.choice(albums_of[artist.pk]) if rng.random() < 0.8 else None
        picked = rng.sample(genres, rng.choice((1, 1, 2)))
        song_id = uuid.uuid4()
        song_rows.append(
            (
                AudioAsset(
                    owner_id=artist.user_id,
                    purpose=AudioAsset.Purpose.CATALOG,
                    original=f"bench/{song_id}.mp3",
                    format=AudioAsset.Format.MP3,
                    sha256=f"{i:064x}",
                    size=4_000_000,
                    status=AudioAsset.Status.READY,
                    duration=180.0,
                ),
                Song(
                    id=song_id,
                    artist=artist,
                    album=album,
                    title=title(rng),
                    duration=rng.uniform(90, 420),
                    release_date=date(2015, 1, 1) + timedelta(days=rng.randrange(3650)),
                    play_count=int(rng.paretovariate(1.1) * 10),
                    like_count=int(rng.paretovariate(1.3) * 2),
                    artist_name=artist.name,
                    album_title=album.title if album else "",
                    genre_names=", ".join(sorted(g.name for g in picked)),
                ),
            )
        )
        genre_rows.extend(Song.genres.through(song_id=song_id, genre_id=g.pk) for g in picked)
    for start in range(0, len(song_rows), batch):
        chunk = song_rows[start : start + batch]
        assets = AudioAsset.objects.bulk_create([asset for asset, _ in chunk])
        for asset, (_, song) in zip(assets, chunk, strict=True):
            song.asset = asset
        Song.objects.bulk_create([song for _, song in chunk])
    Song.genres.through.objects.bulk_create(genre_rows, batch_size=batch)
    song_ids = [song.pk for _, song in song_rows]

    now = timezone.now()
    likes = set()
    while len(likes) < min(40_000, songs_total * len(listeners) // 4):
        song_id = song_ids[int(rng.paretovariate(1.0) * 50) % len(song_ids)]
        likes.add((rng.randrange(len(listeners)), song_id))
    SongLike.objects.bulk_create(
        [SongLike(user=listeners[u], song_id=s) for u, s in likes], batch_size=batch
    )
    # created_at is auto_now_add: spread the likes over 60 days afterwards.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE catalog_songlike SET created_at = now() - random() * interval '60 days'"
        )
    events = []
    for _ in range(150_000):
        song_id = song_ids[int(rng.paretovariate(1.0) * 30) % len(song_ids)]
        skipped = rng.random() < 0.2
        events.append(
            PlayEvent(
                user=listeners[rng.randrange(len(listeners))],
                song_id=song_id,
                started_at=now - timedelta(seconds=rng.randrange(60 * 86400)),
                ms_played=5_000 if skipped else 180_000,
                ended_reason="skipped" if skipped else "completed",
                counted=not skipped,
            )
        )
    PlayEvent.objects.bulk_create(events, batch_size=batch)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"artists": artists, "song_ids": song_ids, "genres": genres}


def percentiles(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered) * 1000, p95 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--songs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="Leave the database for a look.")
    parser.add_argument("--explain", action="store_true", help="Print the search query plans.")
    parser.add_argument(
        "--reuse", action="store_true", help="Measure a database left by --keep (no reload)."
    )
    args = parser.parse_args()
    if args.reuse:
        args.keep = True
        admin, name = None, urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    else:
        admin, name = ensure_fresh_database(os.environ["DATABASE_URL"])
    try:
        run(args, name)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(admin, name)


def run(args, name: str) -> None:
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from catalog import search
    from catalog.models import Song

    rng = random.Random(2024)
    if args.reuse:
        from catalog.models import Artist, Genre

        data = {
            "artists": list(Artist.objects.all()),
            "song_ids": list(Song.objects.values_list("id", flat=True)),
            "genres": list(Genre.objects.all()),
        }
    else:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"database {name} migrated in {time.perf_counter() - started:.1f}s")
        started = time.perf_counter()
        data = populate(args.songs, rng)
        print(f"loaded in {time.perf_counter() - started:.1f}s")
    from catalog.models import Album, PlayEvent, SongLike

    print(
        f"catalog: {len(data['song_ids']):,} songs, {len(data['artists']):,} artists, "
        f"{Album.objects.count():,} albums, {len(data['genres'])} genres, "
        f"{SongLike.objects.count():,} likes, {PlayEvent.objects.count():,} play events"
    )

    client = Client()
    n = args.requests
    song_ids = data["song_ids"]
    artist = max(data["artists"], key=lambda a: a.songs.count())
    parts = artist.name.split()
    typo_artist = " ".join(p[:2] + p[3:] if len(p) > 4 else p for p in parts)  # a dropped letter
    results: dict[str, tuple[float, float, str]] = {}

    def baseline() -> list[float]:
        timings = []
        with connection.cursor() as cursor:
            for _ in range(n):
                song_id = rng.choice(song_ids)
                began = time.perf_counter()
                cursor.execute("SELECT * FROM catalog_song WHERE id = %s", [song_id])
                cursor.fetchall()
                timings.append(time.perf_counter() - began)
        return timings

    def measure(label: str, paths, *, before=None) -> None:
        timings, queries, database = [], [], []
        for i in range(n):
            path = paths(i) if callable(paths) else paths
            if before is not None:
                before()
            connection.queries_log.clear()  # a full log (9,000) would make the count 0
            with CaptureQueriesContext(connection) as captured:
                began = time.perf_counter()
                response = client.get(path)
                timings.append(time.perf_counter() - began)
            queries.append(len(captured))
            database.append(sum(float(q["time"]) for q in captured.captured_queries))
            if response.status_code != 200:
                sys.exit(f"{path}: {response.status_code} {response.content[:300]!r}")
        p50, p95 = percentiles(timings)
        example = path if not callable(paths) else paths(0)
        db_p50 = statistics.median(database) * 1000
        results[label] = (p50, p95, f"{db_p50:6.1f}   {max(queries):3d}  {example}")

    for _ in range(20):  # imports, URL resolver, connection, plan caches
        client.get("/api/songs")
        client.get("/api/songs/search?q=love")

    base = baseline()
    measure("list /api/songs?page=N", lambda i: f"/api/songs?page={1 + i % 50}")
    measure(
        "list ordering=-plays",
        lambda i: f"/api/songs?ordering=-plays&page={1 + i % 50}",
    )
    searches = {
        "search common word": "/api/songs/search?q=love",
        "search two words": "/api/songs/search?q=midnight%20rain",
        "search artist name": f"/api/songs/search?q={artist.name.replace(' ', '%20')}",
        "search prefix": "/api/songs/search?q=sunse",
        "search typo": "/api/songs/search?q=midnigth",
        "search artist typo": f"/api/songs/search?q={typo_artist.replace(' ', '%20')}",
    }
    for label, path in searches.items():
        measure(label, path)
    for time_range in ("all", "week", "month"):
        path = f"/api/songs/trending?time_range={time_range}"
        measure(
            f"trending {time_range} cold",
            path,
            before=lambda tr=time_range: cache.delete(f"catalog:trending:{tr}"),
        )
        measure(f"trending {time_range} cached", path)

    if args.explain:
        from django.contrib.auth.models import AnonymousUser

        from catalog.selectors import songs_visible_to

        for q in ("love", "midnigth"):
            queryset = search.search(songs_visible_to(AnonymousUser()), "song", q)[:20]
            print(f"\nEXPLAIN ANALYZE search {q!r}:\n{queryset.explain(analyze=True)}")

    base_p50, base_p95 = percentiles(base)
    print(
        f"\nin-process Django test Client, anonymous, {n} requests each "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(f"{'':28} {'p50 ms':>8} {'p95 ms':>8} {'p95/base':>9}  db p50  queries")
    print(f"{'baseline: SELECT by pk':28} {base_p50:8.2f} {base_p95:8.2f} {1:9.0f}")
    for label, (p50, p95, note) in results.items():
        print(f"{label:28} {p50:8.2f} {p95:8.2f} {p95 / base_p95:9.0f}   {note}")
    worst = max(p95 for label, (_, p95, _) in results.items() if label.startswith("search"))
    verdict = "OK" if worst <= SEARCH_GOAL_MS else "OVER"
    print(f"\nsearch p95 (worst query): {worst:.1f} ms (goal <= {SEARCH_GOAL_MS:.0f} ms) {verdict}")


if __name__ == "__main__":
    main()
