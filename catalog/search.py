"""Full-text search over the catalog: songs, albums, artists and genres.

PostgreSQL
    Each searchable table has a generated ``search_vector`` column (weighted ``tsvector`` of its
    text columns, ``simple`` configuration so names in any language match as written) with a GIN
    index, and trigram GIN indexes (``pg_trgm``) on its name columns. A row matches when all
    the query's words match (``to_tsquery``, last word as a prefix, for instant search). When
    no row matches that way the query is taken as misspelt, and rows whose names are
    word-similar to it match instead (``<%`` at the session's threshold, the setting
    SEARCH_TYPO_SIMILARITY: "sunest" still finds "Sunset"). Rank = ``ts_rank`` + the best word
    similarity, so an exact name comes first.
    Trying the words first keeps typo matching (a slow, loose trigram scan) away from queries
    that already have answers, and keeps near-misses out of their results.
    Between the two sits a spelling correction, as pg_trgm's documentation suggests: a small
    table of every word the catalog's search vectors hold (``catalog_search_word``, kept by
    triggers) gives each unknown query word its most similar known word, and the corrected
    words are searched like typed ones ("midnigth" searches "midnight"). It costs two index
    lookups where the trigram scan compares thousands of titles; the scan remains for what a
    word-by-word correction cannot fix.
SQLite
    An FTS5 table per searchable table, kept by triggers, holds the same columns; the query's
    words are matched as prefixes and ranked by ``bm25`` with the same column weights. SQLite
    has no trigram distance, so typos are a PostgreSQL feature.

Migration 0002 creates the columns, indexes, tables and triggers from :data:`SPECS`.
"""

import re
import unicodedata
import uuid
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Case, FloatField, IntegerField, QuerySet, Value, When
from django.db.models.expressions import RawSQL

# Table and column names in the SQL below come from SPECS (constants); what people type is only
# ever passed as a query parameter.

MAX_QUERY_LENGTH = 200
# The word similarity a typo needs is the session's pg_trgm.word_similarity_threshold, set when
# the connection opens (SEARCH_TYPO_SIMILARITY in config/settings.py, 0.4).
# A misspelt query matches at most this many rows by their own names, and the rows of this many
# most similar related names (the songs of the three artists nearest a misspelt artist).
TYPO_CANDIDATES = 200
TYPO_RELATED = 3
# The most rows a search answers (both databases): its best, ranked on the searched table.
MATCH_LIMIT = 300
WEIGHTS = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}


@dataclass(frozen=True)
class SearchSpec:
    table: str
    columns: tuple[tuple[str, str], ...]  # (column, weight A-D)
    trigram: tuple[str, ...]  # trigram-indexed columns; typos in them are forgiven
    # Typos in a related row's name are looked up in that row's (smaller) table and matched by
    # key: (foreign key column, kind). The columns matched here directly are then only
    # typo_columns.
    typo_via: tuple[tuple[str, str], ...] = ()
    typo_columns: tuple[str, ...] | None = None

    @property
    def fts_table(self) -> str:
        return f"{self.table}_fts"


SPECS = {
    "song": SearchSpec(
        "catalog_song",
        (("title", "A"), ("artist_name", "B"), ("album_title", "C"), ("genre_names", "D")),
        ("title", "artist_name"),
        # 100,000 songs share ~2,000 artist names: a misspelt name is found among the artists
        # and their songs by key, not by a trigram scan of every song's copy of the name.
        typo_via=(("artist_id", "artist"), ("album_id", "album")),
        typo_columns=("title",),
    ),
    "album": SearchSpec("catalog_album", (("title", "A"), ("artist_name", "B")), ("title",)),
    "artist": SearchSpec("catalog_artist", (("name", "A"), ("bio", "D")), ("name",)),
    "genre": SearchSpec("catalog_genre", (("name", "A"),), ("name",)),
}


def query_clean(text: str) -> str:
    """The query as searched: control and format characters (NUL, which PostgreSQL refuses,
    zero-width spaces ...) read as spaces, whitespace collapsed, at most MAX_QUERY_LENGTH
    characters."""
    text = "".join(
        " " if unicodedata.category(ch).startswith("C") else ch for ch in str(text or "")
    )
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text, flags=re.UNICODE)


# --- schema (used by migration 0002) ---------------------------------------------------------


def postgres_statements(spec: SearchSpec) -> list[str]:
    document = " || ".join(
        f"setweight(to_tsvector('simple'::regconfig, coalesce({column}, '')), '{weight}')"
        for column, weight in spec.columns
    )
    statements = [
        f"ALTER TABLE {spec.table} ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({document}) STORED",
        f"CREATE INDEX {spec.table}_search_idx ON {spec.table} USING gin (search_vector)",
    ]
    statements += [
        f"CREATE INDEX {spec.table}_{column}_trgm_idx ON {spec.table} "
        f"USING gin ({column} gin_trgm_ops)"
        for column in spec.trigram
    ]
    return statements


LEXICON_TABLE = "catalog_search_word"


def postgres_lexicon_statements() -> list[str]:
    """The known-words table, its trigram index, the triggers that add each row's words, and
    the words already there. Words are never removed: a word whose songs are gone corrects to
    nothing found, and the search moves on to the trigram scan."""
    statements = [
        f"CREATE TABLE {LEXICON_TABLE} (word text PRIMARY KEY)",
        f"CREATE INDEX {LEXICON_TABLE}_trgm_idx ON {LEXICON_TABLE} USING gin (word gin_trgm_ops)",
        "CREATE FUNCTION catalog_search_words_remember() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN INSERT INTO {LEXICON_TABLE} (word) SELECT lexeme FROM unnest(NEW.search_vector) "
        "ON CONFLICT DO NOTHING; RETURN NULL; END $$",
    ]
    for spec in SPECS.values():
        columns = ", ".join(column for column, _ in spec.columns)
        statements += [
            f"CREATE TRIGGER {spec.table}_search_words AFTER INSERT OR UPDATE OF {columns} "
            f"ON {spec.table} FOR EACH ROW EXECUTE FUNCTION catalog_search_words_remember()",
            f"INSERT INTO {LEXICON_TABLE} (word) SELECT DISTINCT lexeme "
            f"FROM {spec.table}, unnest(search_vector) ON CONFLICT DO NOTHING",
        ]
    return statements


def postgres_lexicon_drop_statements() -> list[str]:
    return [
        *(
            f"DROP TRIGGER IF EXISTS {spec.table}_search_words ON {spec.table}"
            for spec in SPECS.values()
        ),
        "DROP FUNCTION IF EXISTS catalog_search_words_remember()",
        f"DROP TABLE IF EXISTS {LEXICON_TABLE}",
    ]


def sqlite_statements(spec: SearchSpec) -> list[str]:
    names = [column for column, _ in spec.columns]
    listed = ", ".join(names)
    new_values = ", ".join(f"new.{c}" for c in names)
    return [
        f"CREATE VIRTUAL TABLE {spec.fts_table} USING fts5(object_id UNINDEXED, {listed}, "
        "tokenize = 'unicode61 remove_diacritics 2')",
        f"INSERT INTO {spec.fts_table} (rowid, object_id, {listed}) "
        f"SELECT rowid, id, {listed} FROM {spec.table}",
        f"CREATE TRIGGER {spec.table}_fts_insert AFTER INSERT ON {spec.table} BEGIN "
        f"INSERT INTO {spec.fts_table} (rowid, object_id, {listed}) "
        f"VALUES (new.rowid, new.id, {new_values}); END",
        f"CREATE TRIGGER {spec.table}_fts_delete AFTER DELETE ON {spec.table} BEGIN "
        f"DELETE FROM {spec.fts_table} WHERE rowid = old.rowid; END",
        f"CREATE TRIGGER {spec.table}_fts_update AFTER UPDATE ON {spec.table} BEGIN "
        f"DELETE FROM {spec.fts_table} WHERE rowid = old.rowid; "
        f"INSERT INTO {spec.fts_table} (rowid, object_id, {listed}) "
        f"VALUES (new.rowid, new.id, {new_values}); END",
    ]


# --- queries ---------------------------------------------------------------------------------


def search(queryset: QuerySet, kind: str, text: str, *, memo: dict | None = None) -> QuerySet:
    """``queryset`` (of the kind's model) narrowed to rows matching ``text``, best first, with a
    ``search_rank`` annotation. An empty query matches nothing.

    Searches of several kinds for one query can share a ``memo`` (a dict): a misspelt query
    then looks up each table's similar names once (the songs' search and the artists' list
    both ask for the artists nearest the typo)."""
    spec = SPECS[kind]
    words = _words(query_clean(text))
    if not words:
        return queryset.none()
    if connection.vendor == "postgresql":
        found = _found_postgres(spec, words, {} if memo is None else memo)
        return _by_key(queryset, spec.table, found.sources) if found else queryset.none()
    if connection.vendor == "sqlite":
        return _in_order(queryset, _found_sqlite(queryset.model, spec, words))
    raise NotImplementedError(f"no catalog search on {connection.vendor}")


def ranked_ids(queryset: QuerySet, kind: str, text: str, *, memo: dict | None = None) -> list:
    """Ids of ``queryset``'s rows (of the kind's model) matching ``text``, best first, at most
    MATCH_LIMIT. On PostgreSQL the words are matched and ranked inside the queryset's own
    query, so its filters (who may see what) cost no second pass over the candidates."""
    spec = SPECS[kind]
    words = _words(query_clean(text))
    if not words:
        return []
    if connection.vendor == "postgresql":
        found = _found_postgres(spec, words, {} if memo is None else memo, within=queryset)
        if not found:
            return []
        if found.within:
            return [row[0] for row in found.sources[0][1]]
        ranked = _by_key(queryset, spec.table, found.sources)
        return list(ranked.values_list("pk", flat=True)[:MATCH_LIMIT])
    if connection.vendor == "sqlite":
        ids = _found_sqlite(queryset.model, spec, words)
        return list(_in_order(queryset, ids).values_list("pk", flat=True))
    raise NotImplementedError(f"no catalog search on {connection.vendor}")


def _tsquery(words: list[str]) -> str:
    # Every word must appear; the last one may be unfinished (instant search types into it).
    quoted = [w.replace("'", "") for w in words]
    return " & ".join([*quoted[:-1], f"{quoted[-1]}:*"])


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _similar_names(source: str, columns: tuple[str, ...], phrase: str, memo: dict) -> list:
    """Up to TYPO_CANDIDATES (id, similarity) of ``source`` rows whose names are word-similar
    to ``phrase``, most similar first."""
    key = (source, columns, phrase)
    if key not in memo:
        similar = " OR ".join(f"%s <%% {column}" for column in columns)
        similarity = ", ".join(f"word_similarity(%s, {column})" for column in columns)
        memo[key] = _rows(
            f"SELECT id, greatest({similarity}) AS similarity FROM {source} "
            f"WHERE {similar} ORDER BY similarity DESC, id LIMIT {int(TYPO_CANDIDATES)}",
            [phrase] * (2 * len(columns)),
        )
    return memo[key]


def _corrected(words: list[str], memo: dict) -> list[str] | None:
    """``words`` with each word the catalog does not know replaced by its most similar known
    word; None when a word (other than the last, which may be unfinished) has no such word or
    nothing needed correcting."""
    key = ("lexicon", tuple(words))
    if key not in memo:
        rows = _rows(
            f"SELECT q.word, EXISTS (SELECT 1 FROM {LEXICON_TABLE} k WHERE k.word = q.word), "
            f"(SELECT k.word FROM {LEXICON_TABLE} k WHERE q.word <%% k.word "
            "ORDER BY similarity(q.word, k.word) DESC, k.word LIMIT 1) "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS q(word, n) ORDER BY q.n",
            [[word.lower() for word in words]],
        )
        corrected, changed = [], False
        for index, (word, known, nearest) in enumerate(rows):
            if known or (nearest is None and index == len(rows) - 1):
                corrected.append(word)
            elif nearest is None:
                corrected = None
                break
            else:
                corrected.append(nearest)
                changed = changed or nearest != word
        memo[key] = corrected if corrected and changed else None
    return memo[key]


def _ranked(spec: SearchSpec, words: list[str], within: QuerySet | None) -> list[tuple]:
    """Up to MATCH_LIMIT (id, rank) of the rows holding every word (the last as a prefix), of
    the table or of ``within`` (a queryset of its model)."""
    table = spec.table
    phrase = " ".join(words).lower()
    tsquery = _tsquery(words)
    # ts_rank, plus a bonus for a name that is the query or starts with it ("Sunset" before
    # "Sunsets Over Tokyo"): plain string tests, cheap on every row a common word matches.
    exact = ", ".join(
        f"CASE WHEN lower({table}.{c}) = %s THEN 1.0 "
        f"WHEN starts_with(lower({table}.{c}), %s) THEN 0.5 ELSE 0 END"
        for c in spec.trigram
    )
    weights = f"'{{{WEIGHTS['D']}, {WEIGHTS['C']}, {WEIGHTS['B']}, {WEIGHTS['A']}}}'"
    rank = (
        f"ts_rank({weights}, {table}.search_vector, to_tsquery('simple', %s)) + greatest({exact})"
    )
    rank_params = [tsquery, *([phrase, phrase] * len(spec.trigram))]
    match = f"{table}.search_vector @@ to_tsquery('simple', %s)"
    if within is None:
        return _rows(
            f"SELECT id, {rank} AS rank FROM {table} WHERE {match} "
            f"ORDER BY rank DESC, id LIMIT {int(MATCH_LIMIT)}",
            [*rank_params, tsquery],
        )
    ranked = (
        within.filter(RawSQL(match, [tsquery], output_field=BooleanField()))
        .annotate(search_rank=RawSQL(rank, rank_params, output_field=FloatField()))
        .order_by("-search_rank", "pk")
        .values_list("pk", "search_rank")
    )
    return list(ranked[:MATCH_LIMIT])


@dataclass(frozen=True)
class Found:
    """Candidates as (key column, [(key, rank)]) per source; ``within``: already narrowed to
    the caller's queryset (the words matched), else still to be read by key (typos)."""

    sources: list[tuple[str, list]]
    within: bool

    def __bool__(self) -> bool:
        return bool(self.sources)


def _found_postgres(spec, words, memo, within: QuerySet | None = None) -> Found:
    """Candidates, found and ranked in small queries on the searched table alone (its GIN
    indexes, no joins, at most MATCH_LIMIT rows); the caller's queryset then reads them by key,
    so its visibility filters, joins, count and page touch at most MATCH_LIMIT rows, not the
    thousands a common word matches."""
    table = spec.table
    matched = _ranked(spec, words, within)
    if matched:
        memo["words_found"] = True
        return Found([("id", matched)], within is not None)
    if memo.get("words_found"):
        # Another kind searched with this memo holds these very words: the query is not
        # misspelt, and a near miss here would be noise beside real answers.
        return Found([], False)
    corrected = _corrected(words, memo)
    if corrected:
        matched = _ranked(spec, corrected, within)
        if matched:
            return Found([("id", matched)], within is not None)
    phrase = " ".join(words).lower()

    # No row has the words: the query is taken as misspelt. Candidates: this table's rows with
    # a similar name, and the rows of the most similar related names (a misspelt artist: that
    # artist's songs). A row's rank is its source's similarity, so thousands of an artist's
    # songs are not compared one by one.
    direct = spec.trigram if spec.typo_columns is None else spec.typo_columns
    sources = [("id", table, direct, TYPO_CANDIDATES)]
    sources += [
        (key, SPECS[kind].table, SPECS[kind].trigram, TYPO_RELATED) for key, kind in spec.typo_via
    ]
    found = []
    for key, source, columns, limit in sources:
        rows = _similar_names(source, columns, phrase, memo)[:limit]
        if rows:
            found.append((key, rows))
    return Found(found, False)


def _by_key(queryset, table, found):
    """``queryset`` narrowed to the rows whose ``key`` is among each source's ranked ids, with
    ``search_rank`` = the best score of a source that found the row."""
    alternatives, ranks, match_params, rank_params = [], [], [], []
    for key, rows in found:
        ids = [row[0] for row in rows]
        alternatives.append(f"{table}.{key} = ANY(%s)")
        match_params.append(ids)
        ranks.append(f"coalesce((%s::float8[])[array_position(%s, {table}.{key})], 0)")
        rank_params += [[float(row[1]) for row in rows], ids]
    matches = RawSQL(f"({' OR '.join(alternatives)})", match_params, output_field=BooleanField())
    rank = RawSQL(f"greatest({', '.join(ranks)}, 0)", rank_params, output_field=FloatField())
    return queryset.filter(matches).annotate(search_rank=rank).order_by("-search_rank", "pk")


def _fts5_query(words: list[str]) -> str:
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


def _found_sqlite(model, spec, words) -> list:
    """Up to MATCH_LIMIT ids, best first (bm25 with the column weights)."""
    weights = ", ".join(["0", *[str(WEIGHTS[weight] * 10) for _, weight in spec.columns]])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT object_id, bm25({spec.fts_table}, {weights}) AS score "
            f"FROM {spec.fts_table} WHERE {spec.fts_table} MATCH %s ORDER BY score LIMIT %s",
            [_fts5_query(words), MATCH_LIMIT],
        )
        rows = cursor.fetchall()
    # Django keeps UUID keys as 32 hex characters in SQLite; the trigger copied them as stored.
    as_key = uuid.UUID if model._meta.pk.get_internal_type() == "UUIDField" else int
    return [as_key(str(object_id)) for object_id, _score in rows]


def _in_order(queryset, found: list) -> QuerySet:
    if not found:
        return queryset.none()
    position = Case(
        *[When(pk=object_id, then=Value(index)) for index, object_id in enumerate(found)],
        output_field=IntegerField(),
    )
    return (
        queryset.filter(pk__in=found)
        .annotate(search_position=position)
        .annotate(search_rank=Value(0.0, output_field=FloatField()) - position)
        .order_by("search_position", "pk")
    )
