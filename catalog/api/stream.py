"""``GET /api/songs/{id}/stream?quality=low|normal|high[&format=hls]``.

The answer is a 302 to a short-lived signed link issued to the caller (a bearer link: media
players follow it without credentials), at the best rung their plan allows; headers say what
was chosen (``X-Stream-Quality``, ``X-Stream-Bitrate``, ``X-Stream-Format``). Asked with
``Accept: application/json`` (or ``?redirect=false``) it answers the same as JSON instead, for
players that show the quality. The signed link serves Range requests (206, suffix ranges, 416).
"""

from django.http import HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from catalog import selectors
from catalog.api.base import ReadPublicly, uuid_or_404
from catalog.streaming import QUALITIES, stream_for


class _SettingsWithoutFormatOverride:
    URL_FORMAT_OVERRIDE = None

    def __getattr__(self, name):
        return getattr(api_settings, name)


class StreamNegotiation(DefaultContentNegotiation):
    """``?format=`` names the stream's format here (mp3, hls), not a renderer: DRF's URL format
    override would answer ``?format=hls`` with 404 before the view could read it."""

    settings = _SettingsWithoutFormatOverride()


class SongStreamView(ReadPublicly, APIView):
    content_negotiation_class = StreamNegotiation

    @extend_schema(
        parameters=[
            OpenApiParameter("quality", OpenApiTypes.STR, enum=list(QUALITIES)),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["mp3", "hls"]),
            OpenApiParameter("redirect", OpenApiTypes.BOOL),
        ],
        responses={302: None, 200: OpenApiTypes.OBJECT},
    )
    def get(self, request, song_id):
        song = selectors.song_get_for(request.user, uuid_or_404(song_id))
        asked = request.query_params.get("quality", "normal")
        if asked not in QUALITIES:
            raise exceptions.ValidationError(
                {"quality": [f"Choose one of: {', '.join(QUALITIES)}."]}
            )
        wanted_format = request.query_params.get("format", "mp3")
        if wanted_format not in ("mp3", "hls"):
            raise exceptions.ValidationError({"format": ["Choose mp3 or hls."]})
        stream = stream_for(user=request.user, song=song, asked=asked, hls=wanted_format == "hls")
        as_json = request.query_params.get("redirect") in ("false", "0") or (
            "application/json" in request.headers.get("Accept", "")
        )
        response = Response(stream.as_dict()) if as_json else HttpResponseRedirect(stream.url)
        response["X-Stream-Quality"] = stream.quality
        response["X-Stream-Format"] = stream.format
        if stream.bitrate_kbps:
            response["X-Stream-Bitrate"] = str(stream.bitrate_kbps)
        response["Cache-Control"] = "private, no-store"
        return response
