"""Every read of the catalog, scoped by who asks: private songs and albums, and those staff hid
(with the songs of a hidden album), exist only for their artist (404 to everyone else). Lists
are shaped for the API: a bounded number of queries per page, whatever its size."""

import random
from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count, Q, QuerySet, Sum
from django.shortcuts import get_object_or_404
from django.utils import timezone

from audio.models import AudioAsset
from catalog import search
from catalog.models import (
    Album,
    AlbumFavorite,
    Artist,
    ArtistFollow,
    Genre,
    PlayEvent,
    Song,
    SongFavorite,
    SongLike,
    Visibility,
)

TRENDING_RANGES = {"all": None, "week": timedelta(days=7), "month": timedelta(days=30)}
TRENDING_CACHE_SECONDS = 60
TRENDING_LIMIT = 200
# In trending a like weighs as much as this many plays.
LIKE_WEIGHT = 3
SEARCH_SIDE_LIMIT = 8
SEARCH_SIDE_CANDIDATES = 4 * SEARCH_SIDE_LIMIT
GENRE_COUNT_CACHE_SECONDS = 60


def _signed_in(user) -> bool:
    return user is not None and user.is_authenticated


def _public_or_own(user, *, artist_path: str = "artist") -> Q:
    public = Q(visibility=Visibility.PUBLIC)
    if _signed_in(user):
        return public | Q(**{f"{artist_path}__user": user})
    return public


def _playable_or_own(user) -> Q:
    """A song whose audio failed processing is listed only to its artist (who can fix it)."""
    # A NOT IN over the (few, partially indexed) failed assets, not a join to every asset row:
    # counting a page of 100,000 songs stays a scan of one table.
    failed = AudioAsset.objects.filter(status=AudioAsset.Status.FAILED).values("id")
    playable = ~Q(asset_id__in=failed)
    if _signed_in(user):
        return playable | Q(artist__user=user)
    return playable


def _unhidden(prefix: str = "") -> Q:
    """Songs staff have not hidden, on albums staff have not hidden (``prefix`` leads from the
    queried model to the song)."""
    # A NOT IN over the few hidden albums (a partial index), not a join: search ranks on the
    # song table alone.
    hidden_albums = Album.objects.filter(hidden_at__isnull=False).values("id")
    return Q(**{f"{prefix}hidden_at__isnull": True}) & ~Q(
        **{f"{prefix}album_id__in": hidden_albums}
    )


def _unhidden_or_own(user) -> Q:
    if _signed_in(user):
        return _unhidden() | Q(artist__user=user)
    return _unhidden()


def _listed(prefix: str = "") -> Q:
    """What every listener may see of anyone's songs: public, and not hidden by staff. Counts
    shown to everyone (plays, songs of a genre or artist) and trending are made of these."""
    return Q(**{f"{prefix}visibility": Visibility.PUBLIC}) & _unhidden(prefix)


def _song_gate(user) -> Q:
    return _public_or_own(user) & _playable_or_own(user) & _unhidden_or_own(user)


def songs_visible_to(user) -> QuerySet[Song]:
    """Public songs, and the caller's own private ones; others' songs whose audio failed, that
    staff hid or whose album staff hid are not listed."""
    return (
        Song.objects.filter(_song_gate(user))
        .select_related("artist", "album", "asset", "asset__analysis")
        .prefetch_related("genres")
    )


def song_get_for(user, song_id) -> Song:
    return get_object_or_404(songs_visible_to(user), pk=song_id)


def cover_of(song: Song):
    """The song's own cover, else its album's; None when neither has one."""
    if song.cover:
        return song.cover
    if song.album_id and song.album.cover:
        return song.album.cover
    return None


def avatar_of(artist: Artist):
    """The artist's catalog picture, else their account's avatar; None when neither is set."""
    if artist.avatar:
        return artist.avatar
    if artist.user.avatar:
        return artist.user.avatar
    return None


def song_owned_by(user, song_id) -> Song:
    """A song the caller may change: their own; others' public songs are 403 (the services say
    so), private ones 404."""
    return song_get_for(user, song_id)


def albums_visible_to(user) -> QuerySet[Album]:
    """Public albums and the caller's own; others' albums staff hid are not listed."""
    own = Q(artist__user=user) if _signed_in(user) else Q(pk__in=[])
    return (
        Album.objects.filter(_public_or_own(user) & (Q(hidden_at__isnull=True) | own))
        .select_related("artist")
        .prefetch_related("genres")
        .annotate(
            song_count=Count(
                "songs",
                filter=Q(songs__visibility=Visibility.PUBLIC, songs__hidden_at__isnull=True) | own,
                distinct=True,
            )
        )
    )


def album_get_for(user, album_id) -> Album:
    return get_object_or_404(albums_visible_to(user), pk=album_id)


def album_songs(user, album: Album) -> QuerySet[Song]:
    return songs_visible_to(user).filter(album=album).order_by("track_number", "created_at")


def artists_listed() -> QuerySet[Artist]:
    return (
        Artist.objects.select_related("user")
        .prefetch_related("genres")
        .annotate(
            song_count=Count(
                "songs",
                filter=Q(
                    songs__visibility=Visibility.PUBLIC,
                    songs__hidden_at__isnull=True,
                    songs__album__hidden_at__isnull=True,
                ),
                distinct=True,
            )
        )
    )


def artist_get(artist_id) -> Artist:
    return get_object_or_404(artists_listed(), pk=artist_id)


def artist_of(user) -> Artist | None:
    if not _signed_in(user):
        return None
    return Artist.objects.filter(user=user).first()


def artist_totals(artist: Artist) -> dict:
    """Plays and likes of the artist's listed songs, and their followers."""
    totals = Song.objects.filter(_listed(), artist=artist).aggregate(
        plays=Sum("play_count"), likes=Sum("like_count"), songs=Count("id")
    )
    return {
        "total_plays": totals["plays"] or 0,
        "total_likes": totals["likes"] or 0,
        "song_count": totals["songs"],
        "follower_count": artist.follower_count,
    }


def artist_followers(artist: Artist) -> QuerySet[ArtistFollow]:
    return (
        ArtistFollow.objects.filter(artist=artist)
        .select_related("user")
        .order_by("-created_at", "pk")
    )


def artists_followed_by(user) -> QuerySet[Artist]:
    return artists_listed().filter(follows__user=user).order_by("-follows__created_at", "pk")


def genres_listed() -> QuerySet[Genre]:
    """Genres by name; their song counts come from :func:`genre_counts_attach`."""
    return Genre.objects.order_by("name")


def _genre_count_key(genre_id) -> str:
    return f"catalog:genre-songs:{genre_id}"


def genre_counts_attach(genres) -> list[Genre]:
    """``genres`` as a list, each with ``song_count``: its public songs. A count is kept in the
    cache for GENRE_COUNT_CACHE_SECONDS (a broad genre holds thousands of songs, and counting
    them cost more than the search that shows the genre), and forgotten when a song joins or
    leaves the genre (:func:`genre_counts_forget`)."""
    genres = list(genres)
    keys = {genre.pk: _genre_count_key(genre.pk) for genre in genres}
    cached = cache.get_many(list(keys.values()))
    counts = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [pk for pk in keys if pk not in counts]
    if missing:
        fresh = dict.fromkeys(missing, 0)
        fresh.update(
            Song.genres.through.objects.filter(_listed("song__"), genre_id__in=missing)
            .values("genre_id")
            .annotate(n=Count("song_id"))
            .values_list("genre_id", "n")
        )
        cache.set_many({keys[pk]: n for pk, n in fresh.items()}, timeout=GENRE_COUNT_CACHE_SECONDS)
        counts.update(fresh)
    for genre in genres:
        genre.song_count = counts[genre.pk]
    return genres


def genre_counts_forget(genre_ids) -> None:
    cache.delete_many([_genre_count_key(pk) for pk in genre_ids])


# --- a listener's own marks ------------------------------------------------------------------


def marks_of(user, songs) -> dict[str, set]:
    """Which of ``songs`` the caller likes and keeps as favourites (two queries for a page)."""
    ids = [song.pk for song in songs]
    if not _signed_in(user) or not ids:
        return {"liked": set(), "favorite": set()}
    return {
        "liked": set(
            SongLike.objects.filter(user=user, song_id__in=ids).values_list("song_id", flat=True)
        ),
        "favorite": set(
            SongFavorite.objects.filter(user=user, song_id__in=ids).values_list(
                "song_id", flat=True
            )
        ),
    }


def favorite_songs(user) -> QuerySet[Song]:
    return (
        songs_visible_to(user).filter(favorites__user=user).order_by("-favorites__created_at", "pk")
    )


def favorite_albums(user) -> QuerySet[Album]:
    return (
        albums_visible_to(user)
        .filter(favorites__user=user)
        .order_by("-favorites__created_at", "pk")
    )


def album_is_favorite(user, album: Album) -> bool:
    return _signed_in(user) and AlbumFavorite.objects.filter(user=user, album=album).exists()


def artist_is_followed(user, artist: Artist) -> bool:
    return _signed_in(user) and ArtistFollow.objects.filter(user=user, artist=artist).exists()


def recently_played(user, *, limit: int = 50) -> list[Song]:
    """The caller's last played songs, most recent first, each once."""
    events = (
        PlayEvent.objects.filter(user=user)
        .order_by("-started_at")
        .values_list("song_id", flat=True)[: limit * 4]
    )
    ordered = list(dict.fromkeys(events))[:limit]
    songs = songs_visible_to(user).in_bulk(ordered)
    return [songs[song_id] for song_id in ordered if song_id in songs]


# --- discovery -------------------------------------------------------------------------------


def _trending_key(time_range: str) -> str:
    return f"catalog:trending:{time_range}"


def trending_ids(time_range: str) -> list:
    """Song ids, best first: plays plus likes (a like counts LIKE_WEIGHT plays) in the range."""
    key = _trending_key(time_range)
    cached = cache.get(key)
    if cached is not None:
        return cached
    window = TRENDING_RANGES[time_range]
    # Hidden songs are left out here and, as the ids are cached for a minute, again when a page
    # reads them (songs_in_order); hiding also forgets the cache (trending_forget).
    public = Song.objects.filter(_listed())
    if window is None:
        ids = list(
            public.order_by("-play_count", "-like_count", "-created_at").values_list(
                "id", flat=True
            )[:TRENDING_LIMIT]
        )
    else:
        since = timezone.now() - window
        scores: dict = {}
        plays = (
            PlayEvent.objects.filter(counted=True, started_at__gte=since)
            .values("song_id")
            .annotate(n=Count("id"))
            .order_by("-n")[: TRENDING_LIMIT * 5]
        )
        for row in plays:
            scores[row["song_id"]] = scores.get(row["song_id"], 0) + row["n"]
        likes = (
            SongLike.objects.filter(created_at__gte=since)
            .values("song_id")
            .annotate(n=Count("id"))
            .order_by("-n")[: TRENDING_LIMIT * 5]
        )
        for row in likes:
            scores[row["song_id"]] = scores.get(row["song_id"], 0) + LIKE_WEIGHT * row["n"]
        visible = set(public.filter(pk__in=list(scores)).values_list("id", flat=True))
        ids = sorted(
            (song_id for song_id in scores if song_id in visible),
            key=lambda song_id: (-scores[song_id], str(song_id)),
        )[:TRENDING_LIMIT]
    cache.set(key, ids, TRENDING_CACHE_SECONDS)
    return ids


def trending_forget() -> None:
    cache.delete_many([_trending_key(time_range) for time_range in TRENDING_RANGES])


def songs_in_order(user, ids) -> list[Song]:
    """The songs of ``ids`` the caller may see, in the order given."""
    songs = songs_visible_to(user).in_bulk(ids)
    return [songs[song_id] for song_id in ids if song_id in songs]


def random_songs(user, *, count: int = 20) -> list[Song]:
    """``count`` random public songs: a seek into the ``shuffle_key`` index from a random point
    (wrapping around), never a sort of the whole table."""
    start = random.random()  # noqa: S311 - a shuffle, not a secret
    base = songs_visible_to(user).filter(visibility=Visibility.PUBLIC)
    picked = list(base.filter(shuffle_key__gte=start).order_by("shuffle_key")[:count])
    if len(picked) < count:
        picked += list(
            base.filter(shuffle_key__lt=start).order_by("shuffle_key")[: count - len(picked)]
        )
    random.shuffle(picked)
    return picked


def recommendations(user, *, count: int = 20) -> list[Song]:
    """Public songs in the genres and by the artists the listener likes, favours, follows and
    plays, which they have not played lately; trending fills in for a new listener."""
    if not _signed_in(user):
        return songs_in_order(user, trending_ids("all")[:count])
    since = timezone.now() - timedelta(days=90)
    genre_weight: dict[int, float] = {}
    artist_weight: dict = {}

    def add(song_ids, weight):
        rows = Song.genres.through.objects.filter(song_id__in=song_ids).values_list(
            "genre_id", flat=True
        )
        for genre_id in rows:
            genre_weight[genre_id] = genre_weight.get(genre_id, 0) + weight
        for artist_id in Song.objects.filter(pk__in=song_ids).values_list("artist_id", flat=True):
            artist_weight[artist_id] = artist_weight.get(artist_id, 0) + weight

    played = list(
        PlayEvent.objects.filter(user=user, counted=True, started_at__gte=since).values_list(
            "song_id", flat=True
        )[:500]
    )
    add(played, 1)
    add(list(SongLike.objects.filter(user=user).values_list("song_id", flat=True)[:500]), 3)
    add(list(SongFavorite.objects.filter(user=user).values_list("song_id", flat=True)[:500]), 3)
    for artist_id in ArtistFollow.objects.filter(user=user).values_list("artist_id", flat=True):
        artist_weight[artist_id] = artist_weight.get(artist_id, 0) + 5
    if not genre_weight and not artist_weight:
        return songs_in_order(user, trending_ids("all")[:count])

    top_genres = sorted(genre_weight, key=genre_weight.get, reverse=True)[:5]
    top_artists = sorted(artist_weight, key=artist_weight.get, reverse=True)[:10]
    # What they played this week, liked or keep already is not news to them.
    recent = set(
        PlayEvent.objects.filter(
            user=user, started_at__gte=timezone.now() - timedelta(days=7)
        ).values_list("song_id", flat=True)[:1000]
    )
    recent |= set(SongLike.objects.filter(user=user).values_list("song_id", flat=True)[:1000])
    recent |= set(SongFavorite.objects.filter(user=user).values_list("song_id", flat=True)[:1000])
    candidates = list(
        songs_visible_to(user)
        .filter(visibility=Visibility.PUBLIC)
        .filter(Q(genres__in=top_genres) | Q(artist_id__in=top_artists))
        .exclude(artist__user=user)
        .exclude(pk__in=recent)
        .distinct()
        .order_by("-play_count", "-like_count")[: count * 5]
    )

    def score(song):
        affinity = artist_weight.get(song.artist_id, 0) + sum(
            genre_weight.get(genre.pk, 0) for genre in song.genres.all()
        )
        return (affinity, song.play_count + LIKE_WEIGHT * song.like_count)

    candidates.sort(key=score, reverse=True)
    picked = candidates[:count]
    if len(picked) < count:
        chosen = {song.pk for song in picked} | recent
        fill = [song_id for song_id in trending_ids("all") if song_id not in chosen]
        picked += songs_in_order(user, fill[: count - len(picked)])
    return picked


def _best(kind: str, model, listed: QuerySet, text: str, memo: dict) -> list:
    """The best SEARCH_SIDE_LIMIT matches the caller may see: ranked on the kind's own table,
    then the first few read with the list's counts (counting songs for every album a common
    word matches cost more than the whole song search). Among the first
    SEARCH_SIDE_CANDIDATES a stranger's private rows are left out."""
    ids = search.ranked_ids(model.objects.all(), kind, text, memo=memo)[:SEARCH_SIDE_CANDIDATES]
    rows = listed.in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows][:SEARCH_SIDE_LIMIT]


def song_ids_found(user, text: str, *, memo: dict | None = None) -> list:
    """Ids of the songs matching ``text`` that the caller may see, best first (at most
    ``search.MATCH_LIMIT``). Ranked on the song table alone: the page then reads its own
    songs with their artist, album and analysis (``songs_in_order``), so a common word's
    hundreds of matches are never joined or counted."""
    visible = Song.objects.filter(_song_gate(user))
    return search.ranked_ids(visible, "song", text, memo=memo)


def search_all(user, text: str) -> dict:
    """Song ids (to page through), and the best albums, artists and genres."""
    memo: dict = {}
    return {
        "song_ids": song_ids_found(user, text, memo=memo),
        "albums": _best("album", Album, albums_visible_to(user), text, memo),
        "artists": _best("artist", Artist, artists_listed(), text, memo),
        "genres": genre_counts_attach(_best("genre", Genre, genres_listed(), text, memo)),
    }


def new_releases(user, *, limit: int = 12) -> QuerySet[Album]:
    return (
        albums_visible_to(user)
        .filter(visibility=Visibility.PUBLIC)
        .order_by("-release_date", "-created_at")[:limit]
    )
