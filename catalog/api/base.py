"""What every catalog endpoint shares: reading public lists without signing in, pages of songs
with the caller's own marks, and ids that are not UUIDs answering 404."""

import uuid

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated

from catalog import selectors
from catalog.api.serializers import SongSerializer


class ReadPublicly:
    """GET and HEAD are open to anyone (public catalog); writes need a signed-in person."""

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [AllowAny()]
        return [IsAuthenticated()]


def uuid_or_404(value) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise exceptions.NotFound() from None


def songs_page(view, songs):
    """A paginated response of ``songs`` (a queryset or a list) with ``liked``/``favorite``."""
    return paged_songs_response(view, view.paginate_queryset(songs))


def paged_songs_response(view, page):
    """The paginated response of ``page``: songs read for the page the view's paginator picked
    (lists paged as ids first, so a page reads only its own songs)."""
    marks = selectors.marks_of(view.request.user, page)
    data = SongSerializer(page, many=True, context={"request": view.request, "marks": marks}).data
    return view.get_paginated_response(data)


def song_data(request, song) -> dict:
    marks = selectors.marks_of(request.user, [song])
    return SongSerializer(song, context={"request": request, "marks": marks}).data
