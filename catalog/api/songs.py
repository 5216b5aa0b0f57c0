"""Songs: the list (filters, ordering), upload, one song, likes, favourites, plays, and the
listener's lists (trending, search, favourites, recently played, random, recommendations)."""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors, services
from catalog.api.base import (
    ReadPublicly,
    paged_songs_response,
    song_data,
    songs_page,
    uuid_or_404,
)
from catalog.api.filters import SongFilter
from catalog.api.serializers import (
    AlbumSerializer,
    ArtistSerializer,
    GenreSerializer,
    PlayEventSerializer,
    PlaySerializer,
    SongMarkAnswer,
    SongSerializer,
    SongWriteSerializer,
)
from catalog.errors import Invalid
from catalog.selectors import TRENDING_RANGES


def _write_arguments(request, data: dict) -> dict:
    """The service's arguments from validated input: the album the caller can see, genres by
    name (new names become genres)."""
    arguments = {k: v for k, v in data.items() if k not in ("album", "genres", "audio")}
    if "album" in data:
        album_id = data["album"]
        arguments["album"] = (
            selectors.album_get_for(request.user, album_id) if album_id is not None else None
        )
    if "genres" in data:
        arguments["genres"] = [services.genre_create(name=name) for name in data["genres"]]
    return arguments


class SongListView(ReadPublicly, generics.ListAPIView):
    """GET: public songs (and your own private ones), filterable and ordered.
    POST (multipart): a musician publishes a song; it plays at once from the original."""

    serializer_class = SongSerializer
    filterset_class = SongFilter
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        return selectors.songs_visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        return songs_page(self, self.filter_queryset(self.get_queryset()))

    @extend_schema(request=SongWriteSerializer, responses={201: SongSerializer})
    def post(self, request):
        serializer = SongWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if "audio" not in serializer.validated_data:
            raise exceptions.ValidationError({"audio": ["Attach the song's audio file."]})
        with transaction.atomic():
            song = services.song_create(
                user=request.user,
                audio=serializer.validated_data["audio"],
                **_write_arguments(request, serializer.validated_data),
            )
        song = selectors.song_get_for(request.user, song.pk)
        return Response(song_data(request, song), status=status.HTTP_201_CREATED)


class SongDetailView(ReadPublicly, APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(responses=SongSerializer)
    def get(self, request, song_id):
        return Response(
            song_data(request, selectors.song_get_for(request.user, uuid_or_404(song_id)))
        )

    def _update(self, request, song_id, *, partial: bool):
        song = selectors.song_get_for(request.user, uuid_or_404(song_id))
        serializer = SongWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        if "audio" in serializer.validated_data:
            raise Invalid(
                "A song's audio cannot be replaced; publish a new song.", code="audio_immutable"
            )
        services.song_update(
            song=song, user=request.user, **_write_arguments(request, serializer.validated_data)
        )
        return Response(song_data(request, selectors.song_get_for(request.user, song.pk)))

    @extend_schema(request=SongWriteSerializer, responses=SongSerializer)
    def put(self, request, song_id):
        return self._update(request, song_id, partial=False)

    @extend_schema(request=SongWriteSerializer, responses=SongSerializer)
    def patch(self, request, song_id):
        return self._update(request, song_id, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request, song_id):
        song = selectors.song_get_for(request.user, uuid_or_404(song_id))
        services.song_delete(song=song, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _SongMarkView(APIView):
    """POST (and DELETE for favourites) on one song the caller can see; answers the new state."""

    permission_classes = [IsAuthenticated]
    add = remove = None

    def _answer(self, request, song, changed: bool):
        song.refresh_from_db(fields=["like_count", "favorite_count"])
        data = song_data(request, song)
        return Response(
            {
                "changed": changed,
                "liked": data["liked"],
                "favorite": data["favorite"],
                "like_count": song.like_count,
            }
        )

    @extend_schema(request=None, responses=SongMarkAnswer)
    def post(self, request, song_id):
        song = selectors.song_get_for(request.user, uuid_or_404(song_id))
        return self._answer(request, song, type(self).add(user=request.user, song=song))


class SongLikeView(_SongMarkView):
    add = staticmethod(services.song_like)


class SongUnlikeView(_SongMarkView):
    add = staticmethod(services.song_unlike)


class SongFavoriteView(_SongMarkView):
    add = staticmethod(services.song_favorite_add)

    @extend_schema(request=None, responses=SongMarkAnswer)
    def delete(self, request, song_id):
        song = selectors.song_get_for(request.user, uuid_or_404(song_id))
        return self._answer(
            request, song, services.song_favorite_remove(user=request.user, song=song)
        )


class SongPlayView(APIView):
    """Record a listen. A free listener's skip past the plan's hourly skips is 429
    ``skip_limit`` with ``retry_after`` (seconds), and is not recorded."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=PlaySerializer, responses={201: PlayEventSerializer})
    def post(self, request, song_id):
        song = selectors.song_get_for(request.user, uuid_or_404(song_id))
        serializer = PlaySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.play_record(user=request.user, song=song, **serializer.validated_data)
        return Response(PlayEventSerializer(event).data, status=status.HTTP_201_CREATED)


class TrendingView(ReadPublicly, generics.GenericAPIView):
    serializer_class = SongSerializer

    @extend_schema(
        parameters=[OpenApiParameter("time_range", OpenApiTypes.STR, enum=list(TRENDING_RANGES))]
    )
    def get(self, request):
        time_range = request.query_params.get("time_range", "all")
        if time_range not in TRENDING_RANGES:
            raise exceptions.ValidationError(
                {"time_range": [f"Choose one of: {', '.join(TRENDING_RANGES)}."]}
            )
        # Page the cached ids first, so a page reads only its own songs.
        ids = self.paginate_queryset(selectors.trending_ids(time_range))
        return paged_songs_response(self, selectors.songs_in_order(request.user, ids))


class SearchView(ReadPublicly, generics.GenericAPIView):
    """Songs (paginated), with the best albums, artists and genres, for ``q``. Typos are
    forgiven on PostgreSQL (trigram similarity)."""

    serializer_class = SongSerializer

    @extend_schema(parameters=[OpenApiParameter("q", OpenApiTypes.STR, required=True)])
    def get(self, request):
        text = request.query_params.get("q", "")
        if not text.strip():
            raise exceptions.ValidationError({"q": ["Type something to search for."]})
        found = selectors.search_all(request.user, text)
        ids = self.paginate_queryset(found["song_ids"])
        response = paged_songs_response(self, selectors.songs_in_order(request.user, ids))
        context = {"request": request}
        response.data["query"] = text.strip()
        response.data["albums"] = AlbumSerializer(found["albums"], many=True, context=context).data
        response.data["artists"] = ArtistSerializer(
            found["artists"], many=True, context=context
        ).data
        response.data["genres"] = GenreSerializer(found["genres"], many=True).data
        return response


class FavoritesView(generics.GenericAPIView):
    serializer_class = SongSerializer
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return songs_page(self, selectors.favorite_songs(request.user))


class RecentlyPlayedView(generics.GenericAPIView):
    serializer_class = SongSerializer
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return songs_page(self, selectors.recently_played(request.user))


class RandomView(ReadPublicly, generics.GenericAPIView):
    serializer_class = SongSerializer

    @extend_schema(parameters=[OpenApiParameter("count", OpenApiTypes.INT)])
    def get(self, request):
        try:
            count = min(max(int(request.query_params.get("count", 20)), 1), 100)
        except ValueError:
            raise exceptions.ValidationError({"count": ["A number from 1 to 100."]}) from None
        return songs_page(self, selectors.random_songs(request.user, count=count))


class RecommendationsView(generics.GenericAPIView):
    serializer_class = SongSerializer
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return songs_page(self, selectors.recommendations(request.user))
