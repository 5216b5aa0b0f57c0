"""Artists: the list, a profile (songs, albums, followers, total plays and likes), follows, the
artists a listener follows, and a musician's own followers."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors, services
from catalog.api.base import ReadPublicly, songs_page, uuid_or_404
from catalog.api.serializers import (
    AlbumSerializer,
    ArtistSerializer,
    FollowAnswer,
    SongSerializer,
)
from catalog.errors import NotMusician
from catalog.models import Artist, ArtistFollow

PROFILE_SONGS = 10


class ArtistListView(ReadPublicly, generics.ListAPIView):
    serializer_class = ArtistSerializer
    filterset_fields = {"verified": ["exact"]}

    def get_queryset(self):
        return selectors.artists_listed().order_by("name", "pk")


class ArtistProfileView(ReadPublicly, APIView):
    @extend_schema(responses=ArtistSerializer)
    def get(self, request, artist_id):
        artist = selectors.artist_get(uuid_or_404(artist_id))
        context = {"request": request}
        data = ArtistSerializer(artist, context=context).data
        data.update(selectors.artist_totals(artist))
        data["following"] = selectors.artist_is_followed(request.user, artist)
        top = list(
            selectors.songs_visible_to(request.user)
            .filter(artist=artist)
            .order_by("-play_count", "-created_at")[:PROFILE_SONGS]
        )
        # The caller's likes and favourites for all the songs at once, not two queries a song.
        marks = selectors.marks_of(request.user, top)
        data["top_songs"] = SongSerializer(top, many=True, context={**context, "marks": marks}).data
        albums = selectors.albums_visible_to(request.user).filter(artist=artist)
        data["albums"] = AlbumSerializer(albums, many=True, context=context).data
        return Response(data)


class ArtistSongsView(ReadPublicly, generics.GenericAPIView):
    serializer_class = SongSerializer

    def get(self, request, artist_id):
        artist = selectors.artist_get(uuid_or_404(artist_id))
        songs = selectors.songs_visible_to(request.user).filter(artist=artist)
        return songs_page(self, songs.order_by("-release_date", "-created_at"))


class ArtistFollowView(APIView):
    permission_classes = [IsAuthenticated]

    def _answer(self, request, artist, changed):
        artist.refresh_from_db(fields=["follower_count"])
        return Response(
            {
                "changed": changed,
                "following": selectors.artist_is_followed(request.user, artist),
                "follower_count": artist.follower_count,
            }
        )

    @extend_schema(request=None, responses=FollowAnswer)
    def post(self, request, artist_id):
        artist = selectors.artist_get(uuid_or_404(artist_id))
        return self._answer(
            request, artist, services.artist_follow(user=request.user, artist=artist)
        )

    @extend_schema(request=None, responses=FollowAnswer)
    def delete(self, request, artist_id):
        artist = selectors.artist_get(uuid_or_404(artist_id))
        changed = services.artist_unfollow(user=request.user, artist=artist)
        return self._answer(request, artist, changed)


class FollowingView(generics.ListAPIView):
    serializer_class = ArtistSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is drawn without a user
            return Artist.objects.none()
        return selectors.artists_followed_by(self.request.user)


class FollowerSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="user.id")
    display_name = serializers.CharField(source="user.display_name")
    followed_at = serializers.DateTimeField(source="created_at")


class FollowersView(generics.ListAPIView):
    """The calling musician's followers (newest first)."""

    serializer_class = FollowerSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema is drawn without a user
            return ArtistFollow.objects.none()
        if not self.request.user.is_musician:
            raise NotMusician("Only musicians have followers.")
        artist = services.artist_ensure(user=self.request.user)
        return selectors.artist_followers(artist)
