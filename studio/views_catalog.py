"""The musician's catalog: upload songs (alone or into an album), make albums, edit and remove
them.

Every write goes through ``catalog.services``, which check ownership (403 ``not_owner``) and
publishing rights; the studio finds songs and albums through ``studio.selectors``, so another
musician's id is a 404 before any service is asked. Uploads are htmx posts: the browser shows the
bytes going up, then the media pipeline's steps arrive over ws/events/ (``audio.progress``) and
js/studio.js moves each song's bar until it is ready. Errors answer 400 (413/415 for a file the
pipeline refuses) with the form and what was typed, never a 500.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audio.errors import MediaRejected
from catalog import services as catalog_services
from catalog.errors import CatalogError
from studio import selectors
from studio.access import musician_required
from studio.forms import AlbumForm, SongForm, SongUploadForm

FRAGMENT_HEADER = "X-Studio-Fragment"  # js/studio.js swaps these in on 4xx answers too
SONGS_PAGE_SIZE = 50


def _genres(names) -> list:
    """Genres by name; a new name becomes a genre (as the API does)."""
    return [catalog_services.genre_create(name=name) for name in names]


def _region_render(request, context: dict, *, status: int, page_template: str):
    """htmx posts get the songs region alone (the upload form and the list); others the page."""
    if request.htmx:
        # The region shows the messages itself: the page's message area is not swapped.
        context["show_messages"] = True
        response = render(request, "studio/_songs_region.html", context, status=status)
        response[FRAGMENT_HEADER] = "1"
        return response
    return render(request, page_template, context, status=status)


# --- the catalog page -----------------------------------------------------------------------


def _catalog_context(request, *, upload_form=None, album_form=None) -> dict:
    user = request.user
    albums = selectors.albums_of(user)
    page = Paginator(selectors.songs_of(user), SONGS_PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "studio_section": "catalog",
        "album": None,
        "albums": list(albums),
        "page": page,
        "songs": list(page.object_list),
        "upload_form": upload_form or SongUploadForm(albums=albums, auto_id="song-%s"),
        "upload_url": reverse("studio:song_upload"),
        "album_form": album_form or AlbumForm(auto_id="album-%s"),
    }


@musician_required
@require_GET
def catalog_page(request):
    return render(request, "studio/catalog.html", _catalog_context(request))


def _upload(request, *, album=None):
    """Publish one song from the upload form (into `album` when given, else the album picked)."""
    user = request.user
    albums = selectors.albums_of(user)
    form = SongUploadForm(
        request.POST, request.FILES, albums=albums, album=album, auto_id="song-%s"
    )
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                song = catalog_services.song_create(
                    user=user,
                    title=data["title"],
                    audio=data["audio"],
                    album=album or data.get("album"),
                    genres=_genres(data["genres"]),
                    visibility=data["visibility"],
                    lyrics=data["lyrics"],
                    explicit=data["explicit"],
                    track_number=data["track_number"],
                )
        except MediaRejected as error:
            form.add_error("audio", error.detail)
            status = error.http_status
        except CatalogError as error:
            form.service_error(error)
            status = error.status
        else:
            messages.success(
                request,
                f"“{song.title}” is uploaded. It plays now; the other qualities follow.",
            )
            if not request.htmx:
                return redirect(_page_of(album))
            form, status = None, 201
    if album is None:
        context = _catalog_context(request, upload_form=form)
        return _region_render(request, context, status=status, page_template="studio/catalog.html")
    context = _album_context(request, album, upload_form=form)
    return _region_render(request, context, status=status, page_template="studio/album.html")


def _page_of(album) -> str:
    if album is None:
        return reverse("studio:catalog")
    return reverse("studio:album", kwargs={"album_id": album.pk})


@musician_required
@require_POST
def song_upload(request):
    return _upload(request)


@musician_required
@require_POST
def album_song_upload(request, album_id):
    return _upload(request, album=selectors.album_of(request.user, album_id))


# --- one song -------------------------------------------------------------------------------


def _save(form, item, update) -> int | None:
    """Save a song's or an album's form through catalog's service: None when saved, else the
    status to answer with the form showing why (400 for the form, the service's own)."""
    if not form.is_valid():
        return 400
    data = dict(form.cleaned_data)
    try:
        with transaction.atomic():
            data["genres"] = _genres(data["genres"])
            update(**data)
    except CatalogError as error:
        item.refresh_from_db()  # the service may have set fields before refusing
        form.service_error(error)
        return error.status
    return None


@musician_required
@require_http_methods(["GET", "POST"])
def song_edit(request, song_id):
    user = request.user
    song = selectors.song_of(user, song_id)
    albums = selectors.albums_of(user)
    status = 200
    if request.method == "POST":
        form = SongForm(request.POST, albums=albums)
        status = _save(
            form, song, lambda **data: catalog_services.song_update(song=song, user=user, **data)
        )
        if status is None:
            messages.success(request, f"“{form.cleaned_data['title']}” is saved.")
            return redirect("studio:song", song_id=song.pk)
    else:
        form = SongForm(initial=SongForm.initial_of(song), albums=albums)
    return render(
        request,
        "studio/song.html",
        {
            "studio_section": "catalog",
            "song": song,
            "form": form,
            "reports": list(song.asset.quality_reports.prefetch_related("checks")),
        },
        status=status,
    )


@musician_required
@require_POST
def song_delete(request, song_id):
    song = selectors.song_of(request.user, song_id)
    album = song.album
    try:
        catalog_services.song_delete(song=song, user=request.user)
    except CatalogError as error:
        messages.error(request, error.message)
        return redirect("studio:song", song_id=song.pk)
    messages.success(request, f"“{song.title}” is removed from the catalog.")
    return redirect(_page_of(album) if request.POST.get("back") == "album" else _page_of(None))


# --- albums ---------------------------------------------------------------------------------


@musician_required
@require_POST
def album_create(request):
    form = AlbumForm(request.POST, auto_id="album-%s")
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                album = catalog_services.album_create(
                    user=request.user,
                    title=data["title"],
                    description=data["description"],
                    release_date=data["release_date"],
                    genres=_genres(data["genres"]),
                    visibility=data["visibility"],
                )
        except CatalogError as error:
            form.service_error(error)
            status = error.status
        else:
            messages.success(request, f"The album “{album.title}” is made: upload its songs here.")
            return redirect("studio:album", album_id=album.pk)
    return render(
        request, "studio/catalog.html", _catalog_context(request, album_form=form), status=status
    )


def _album_context(request, album, *, upload_form=None, album_form=None) -> dict:
    user = request.user
    return {
        "studio_section": "catalog",
        "album": album,
        "songs": list(selectors.songs_of(user, album=album)),
        "upload_form": upload_form
        or SongUploadForm(albums=selectors.albums_of(user), album=album, auto_id="song-%s"),
        "upload_url": reverse("studio:album_song_upload", kwargs={"album_id": album.pk}),
        "album_form": album_form or AlbumForm(initial=AlbumForm.initial_of(album)),
    }


@musician_required
@require_http_methods(["GET", "POST"])
def album_edit(request, album_id):
    user = request.user
    album = selectors.album_of(user, album_id)
    if request.method == "GET":
        return render(request, "studio/album.html", _album_context(request, album))
    form = AlbumForm(request.POST)
    status = _save(
        form, album, lambda **data: catalog_services.album_update(album=album, user=user, **data)
    )
    if status is None:
        messages.success(request, f"The album “{form.cleaned_data['title']}” is saved.")
        return redirect("studio:album", album_id=album.pk)
    return render(
        request, "studio/album.html", _album_context(request, album, album_form=form), status=status
    )


@musician_required
@require_POST
def album_delete(request, album_id):
    album = selectors.album_of(request.user, album_id)
    try:
        catalog_services.album_delete(album=album, user=request.user)
    except CatalogError as error:
        messages.error(request, error.message)
        return redirect("studio:album", album_id=album.pk)
    messages.success(
        request, f"The album “{album.title}” is removed; its songs stay in the catalog as singles."
    )
    return redirect("studio:catalog")
