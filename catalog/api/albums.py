"""Albums: list and create, one album (owner edits and deletes), its songs, favourites."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors, services
from catalog.api.base import ReadPublicly, songs_page, uuid_or_404
from catalog.api.serializers import (
    AlbumFavoriteAnswer,
    AlbumSerializer,
    AlbumWriteSerializer,
    SongSerializer,
)
from catalog.models import Album


def _arguments(data: dict) -> dict:
    arguments = {k: v for k, v in data.items() if k != "genres"}
    if "genres" in data:
        arguments["genres"] = [services.genre_create(name=name) for name in data["genres"]]
    return arguments


def _album_data(request, album_id) -> dict:
    album = selectors.album_get_for(request.user, album_id)
    data = AlbumSerializer(album, context={"request": request}).data
    data["favorite"] = selectors.album_is_favorite(request.user, album)
    return data


class AlbumListView(ReadPublicly, generics.ListAPIView):
    serializer_class = AlbumSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filterset_fields = {"artist": ["exact"], "release_date": ["gte", "lte"]}

    def get_queryset(self):
        return selectors.albums_visible_to(self.request.user).order_by(
            "-release_date", "-created_at"
        )

    @extend_schema(request=AlbumWriteSerializer, responses={201: AlbumSerializer})
    def post(self, request):
        serializer = AlbumWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        album = services.album_create(user=request.user, **_arguments(serializer.validated_data))
        return Response(_album_data(request, album.pk), status=status.HTTP_201_CREATED)


class AlbumDetailView(ReadPublicly, APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(responses=AlbumSerializer)
    def get(self, request, album_id):
        return Response(_album_data(request, uuid_or_404(album_id)))

    def _update(self, request, album_id, *, partial):
        album = selectors.album_get_for(request.user, uuid_or_404(album_id))
        serializer = AlbumWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        services.album_update(
            album=album, user=request.user, **_arguments(serializer.validated_data)
        )
        return Response(_album_data(request, album.pk))

    @extend_schema(request=AlbumWriteSerializer, responses=AlbumSerializer)
    def put(self, request, album_id):
        return self._update(request, album_id, partial=False)

    @extend_schema(request=AlbumWriteSerializer, responses=AlbumSerializer)
    def patch(self, request, album_id):
        return self._update(request, album_id, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request, album_id):
        album = selectors.album_get_for(request.user, uuid_or_404(album_id))
        services.album_delete(album=album, user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AlbumSongsView(ReadPublicly, generics.GenericAPIView):
    serializer_class = SongSerializer

    def get(self, request, album_id):
        album = selectors.album_get_for(request.user, uuid_or_404(album_id))
        return songs_page(self, selectors.album_songs(request.user, album))


class AlbumFavoriteView(APIView):
    permission_classes = [IsAuthenticated]

    def _answer(self, request, album, changed):
        album.refresh_from_db(fields=["favorite_count"])
        return Response(
            {
                "changed": changed,
                "favorite": selectors.album_is_favorite(request.user, album),
                "favorite_count": album.favorite_count,
            }
        )

    @extend_schema(request=None, responses=AlbumFavoriteAnswer)
    def post(self, request, album_id):
        album = selectors.album_get_for(request.user, uuid_or_404(album_id))
        return self._answer(
            request, album, services.album_favorite_add(user=request.user, album=album)
        )

    @extend_schema(request=None, responses=AlbumFavoriteAnswer)
    def delete(self, request, album_id):
        album = selectors.album_get_for(request.user, uuid_or_404(album_id))
        changed = services.album_favorite_remove(user=request.user, album=album)
        return self._answer(request, album, changed)


class AlbumFavoritesView(generics.ListAPIView):
    serializer_class = AlbumSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is drawn without a user
            return Album.objects.none()
        return selectors.favorite_albums(self.request.user)
