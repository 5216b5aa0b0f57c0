"""The listener's pages: browse, search, a song, an album, an artist, a genre and the library.

Thin: every read is a selector scoped by who asks, so another artist's private song or album
is a 404 here as in the API. The pages render whole documents whether or not htmx asked
(boosted navigation picks ``#main`` out of them, and a history miss reloads them the same way);
only search answers a fragment, to the search box typing into it.
"""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe

from catalog import selectors
from catalog.selectors import TRENDING_RANGES

TRENDING_SHOWN = 20
SEARCH_SONGS_SHOWN = 20
TOP_SONGS_SHOWN = 10
GENRE_PAGE_SIZE = 50
LIBRARY_SHOWN = 100
RECENT_SHOWN = 20
TRENDING_LABELS = {"week": "This week", "month": "This month", "all": "All time"}


def _duration_label(seconds) -> str:
    if seconds is None:
        return ""
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def songs_context(user, songs, *, marks=None) -> dict:
    """Songs for a list the player can queue, with the caller's likes and favourites (``marks``
    when the caller already asked for them)."""
    songs = list(songs)
    for song in songs:
        song.duration_label = _duration_label(song.duration)
    if marks is None:
        marks = selectors.marks_of(user, songs)
    return {"songs": songs, "marks": marks}


def browse(request):
    time_range = request.GET.get("range", "week")
    if time_range not in TRENDING_RANGES:
        time_range = "week"
    trending = selectors.songs_in_order(
        request.user, selectors.trending_ids(time_range)[:TRENDING_SHOWN]
    )
    return render(
        request,
        "catalog/browse.html",
        {
            "genres": selectors.genre_counts_attach(selectors.genres_listed()),
            "new_releases": list(selectors.new_releases(request.user)),
            "trending": songs_context(request.user, trending),
            "time_range": time_range,
            "ranges": [(key, TRENDING_LABELS[key]) for key in ("week", "month", "all")],
            "listen_section": "browse",
        },
    )


def search(request):
    text = request.GET.get("q", "").strip()[:200]
    found = None
    if text:
        found = selectors.search_all(request.user, text)
        shown = found.pop("song_ids")[:SEARCH_SONGS_SHOWN]
        found["songs"] = songs_context(request.user, selectors.songs_in_order(request.user, shown))
    # The search box asks for the results alone; boosted links, history restores and plain
    # requests get the whole page.
    fragment = bool(request.htmx) and request.htmx.target == "search-results"
    template = "catalog/_search_results.html" if fragment else "catalog/search.html"
    response = render(request, template, {"q": text, "found": found, "listen_section": "search"})
    # One URL answers a fragment and a page: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def song_detail(request, song_id):
    song = selectors.song_get_for(request.user, song_id)
    track = songs_context(request.user, [song])
    return render(
        request,
        "catalog/song.html",
        {
            "song": song,
            "track": track,
            "queue": f"song:{song.pk}",
            "liked": song.pk in track["marks"]["liked"],
            "favorite": song.pk in track["marks"]["favorite"],
        },
    )


def album_detail(request, album_id):
    album = selectors.album_get_for(request.user, album_id)
    return render(
        request,
        "catalog/album.html",
        {
            "album": album,
            "queue": f"album:{album.pk}",
            "tracks": songs_context(request.user, selectors.album_songs(request.user, album)),
            "is_favorite": selectors.album_is_favorite(request.user, album),
        },
    )


def artist_detail(request, artist_id):
    artist = selectors.artist_get(artist_id)
    top_songs = (
        selectors.songs_visible_to(request.user)
        .filter(artist=artist)
        .order_by("-play_count", "-like_count", "-created_at")[:TOP_SONGS_SHOWN]
    )
    albums = (
        selectors.albums_visible_to(request.user)
        .filter(artist=artist)
        .order_by("-release_date", "-created_at")
    )
    return render(
        request,
        "catalog/artist.html",
        {
            "artist": artist,
            "queue": f"artist:{artist.pk}",
            "totals": selectors.artist_totals(artist),
            "top_songs": songs_context(request.user, top_songs),
            "albums": list(albums),
            "is_followed": selectors.artist_is_followed(request.user, artist),
            "is_self": request.user.is_authenticated and artist.user_id == request.user.pk,
        },
    )


def genre_detail(request, slug):
    genre = get_object_or_404(selectors.genres_listed(), slug=slug)
    selectors.genre_counts_attach([genre])
    songs = (
        selectors.songs_visible_to(request.user)
        .filter(genres=genre)
        .order_by("-play_count", "-like_count", "-created_at")
    )
    page = Paginator(songs, GENRE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/genre.html",
        {
            "genre": genre,
            "page": page,
            "songs": songs_context(request.user, page.object_list),
            "queue": f"genre:{genre.slug}"[:80],
        },
    )


def _liked_songs(user):
    # The songs the listener likes that they may still see (a song made private drops out).
    return (
        selectors.songs_visible_to(user)
        .filter(likes__user=user)
        .order_by("-likes__created_at", "pk")
    )


@login_required
def library(request):
    user = request.user
    favorites = list(selectors.favorite_songs(user)[:LIBRARY_SHOWN])
    liked = list(_liked_songs(user)[:LIBRARY_SHOWN])
    recent = selectors.recently_played(user, limit=RECENT_SHOWN)
    # One look-up of the listener's marks for the three lists.
    marks = selectors.marks_of(user, favorites + liked + recent)
    return render(
        request,
        "catalog/library.html",
        {
            "favorites": songs_context(user, favorites, marks=marks),
            "liked": songs_context(user, liked, marks=marks),
            "albums": list(selectors.favorite_albums(user)[:LIBRARY_SHOWN]),
            "artists": list(selectors.artists_followed_by(user)[:LIBRARY_SHOWN]),
            "recent": songs_context(user, recent, marks=marks),
            "listen_section": "library",
        },
    )


def _image_response(field, *, public: bool):
    """The image's bytes (local storage) or a redirect to the storage's own URL (S3)."""
    storage = field.storage
    if not hasattr(storage, "path"):
        response = HttpResponseRedirect(storage.url(field.name))
    else:
        try:
            response = FileResponse(storage.open(field.name, "rb"))
        except FileNotFoundError:
            raise Http404("No cover.") from None
    # Private items' covers stay out of shared caches.
    patch_cache_control(response, public=public, private=not public, max_age=3600)
    return response


@require_safe
def album_cover(request, album_id):
    album = selectors.album_get_for(request.user, album_id)
    if not album.cover:
        raise Http404("No cover.")
    return _image_response(album.cover, public=album.visibility == "public")


@require_safe
def song_cover(request, song_id):
    """The song's own cover, else its album's."""
    song = selectors.song_get_for(request.user, song_id)
    cover = selectors.cover_of(song)
    if cover is None:
        raise Http404("No cover.")
    return _image_response(cover, public=song.visibility == "public")


@require_safe
def artist_avatar(request, artist_id):
    """The artist's picture: their catalog avatar, else their account's."""
    artist = selectors.artist_get(artist_id)
    picture = selectors.avatar_of(artist)
    if picture is None:
        raise Http404("No picture.")
    return _image_response(picture, public=True)
