"""How the catalog looks in the API. A song carries ``analysis`` (null until the pipeline has run)
and ``status`` (processing, ready, failed); ``liked`` and ``favorite`` are the caller's own, read
for a whole page at once (``catalog.selectors.marks_of``). ``is_hidden`` and ``hidden_reason``
tell an artist that staff keep their song or album from listeners, and why (a song is hidden
with its album); nobody else is ever shown a hidden one."""

from django.urls import reverse
from rest_framework import serializers

from catalog.models import Album, Artist, Genre, PlayEvent, Song, Visibility
from catalog.selectors import avatar_of, cover_of


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else url


class GenreSerializer(serializers.ModelSerializer):
    song_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Genre
        fields = ["id", "name", "slug", "song_count"]
        read_only_fields = ["id", "slug", "song_count"]


class ArtistBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Artist
        fields = ["id", "name", "slug", "verified"]


class ArtistSerializer(serializers.ModelSerializer):
    genres = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    avatar_url = serializers.SerializerMethodField()
    song_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Artist
        fields = [
            "id",
            "name",
            "slug",
            "bio",
            "avatar_url",
            "genres",
            "verified",
            "follower_count",
            "song_count",
            "created_at",
        ]

    def get_avatar_url(self, artist) -> str | None:
        if avatar_of(artist) is None:
            return None
        return _absolute(
            self.context.get("request"), reverse("catalog:artist-avatar", args=[artist.pk])
        )


class AlbumBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Album
        fields = ["id", "title"]


class AlbumSerializer(serializers.ModelSerializer):
    artist = ArtistBriefSerializer(read_only=True)
    genres = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    cover_url = serializers.SerializerMethodField()
    song_count = serializers.IntegerField(read_only=True, default=0)
    is_hidden = serializers.BooleanField(read_only=True)
    hidden_reason = serializers.SerializerMethodField()

    class Meta:
        model = Album
        fields = [
            "id",
            "title",
            "artist",
            "description",
            "cover_url",
            "release_date",
            "genres",
            "visibility",
            "song_count",
            "favorite_count",
            "is_hidden",
            "hidden_reason",
            "created_at",
        ]

    def get_hidden_reason(self, album) -> str | None:
        return (album.hidden_reason or "") if album.is_hidden else None

    def get_cover_url(self, album) -> str | None:
        if not album.cover:
            return None
        return _absolute(
            self.context.get("request"), reverse("catalog:album-cover", args=[album.pk])
        )


class SongSerializer(serializers.ModelSerializer):
    artist = ArtistBriefSerializer(read_only=True)
    album = AlbumBriefSerializer(read_only=True, allow_null=True)
    genres = serializers.SerializerMethodField()
    status = serializers.CharField(read_only=True)
    analysis = serializers.SerializerMethodField()
    cover_url = serializers.SerializerMethodField()
    stream_url = serializers.SerializerMethodField()
    liked = serializers.SerializerMethodField()
    favorite = serializers.SerializerMethodField()
    is_hidden = serializers.SerializerMethodField()
    hidden_reason = serializers.SerializerMethodField()

    class Meta:
        model = Song
        fields = [
            "id",
            "title",
            "artist",
            "album",
            "track_number",
            "genres",
            "duration",
            "release_date",
            "visibility",
            "explicit",
            "lyrics",
            "cover_url",
            "play_count",
            "like_count",
            "liked",
            "favorite",
            "status",
            "analysis",
            "stream_url",
            "is_hidden",
            "hidden_reason",
            "created_at",
        ]

    def get_genres(self, song) -> list[str]:
        return [genre.name for genre in song.genres.all()]

    def get_analysis(self, song) -> dict | None:
        analysis = getattr(song.asset, "analysis", None)
        return analysis.as_api_dict() if analysis is not None else None

    def get_cover_url(self, song) -> str | None:
        if cover_of(song) is None:
            return None
        return _absolute(self.context.get("request"), reverse("catalog:song-cover", args=[song.pk]))

    def get_stream_url(self, song) -> str:
        return reverse("api:songs-stream", kwargs={"song_id": song.pk})

    def get_liked(self, song) -> bool:
        return song.pk in self.context.get("marks", {}).get("liked", ())

    def get_favorite(self, song) -> bool:
        return song.pk in self.context.get("marks", {}).get("favorite", ())

    def get_is_hidden(self, song) -> bool:
        return song.moderation_reason is not None

    def get_hidden_reason(self, song) -> str | None:
        return song.moderation_reason


class GenreNamesField(serializers.ListField):
    child = serializers.CharField(max_length=60)


class GenreListInput:
    """Multipart forms send a list as repeated fields, or as one comma-separated value."""

    def to_internal_value(self, data):
        if hasattr(data, "getlist") and "genres" in data:
            values = [v for item in data.getlist("genres") for v in str(item).split(",")]
            # A plain dict, not QueryDict.copy(): that deep-copies uploads, and an upload
            # spooled to disk cannot be copied.
            data = {key: data[key] for key in data if key != "genres"}
            data["genres"] = [v.strip() for v in values if v.strip()]
        return super().to_internal_value(data)


class SongWriteSerializer(GenreListInput, serializers.Serializer):
    """Multipart ``POST /api/songs`` (``audio`` required) and ``PUT/PATCH /api/songs/{id}``."""

    title = serializers.CharField(max_length=200)
    audio = serializers.FileField(required=False)
    album = serializers.UUIDField(required=False, allow_null=True)
    genres = GenreNamesField(required=False, max_length=5)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    release_date = serializers.DateField(required=False, allow_null=True)
    lyrics = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    explicit = serializers.BooleanField(required=False)
    track_number = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    cover = serializers.ImageField(required=False)


class AlbumWriteSerializer(GenreListInput, serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    release_date = serializers.DateField(required=False, allow_null=True)
    genres = GenreNamesField(required=False, max_length=5)
    visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)
    cover = serializers.ImageField(required=False)


class PlaySerializer(serializers.Serializer):
    ms_played = serializers.IntegerField(min_value=0, max_value=24 * 3600 * 1000)
    ended_reason = serializers.ChoiceField(choices=PlayEvent.EndedReason.choices)
    context = serializers.CharField(required=False, allow_blank=True, max_length=80)
    device = serializers.CharField(required=False, allow_blank=True, max_length=80)
    started_at = serializers.DateTimeField(required=False)


class PlayEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = PlayEvent
        fields = ["id", "song", "started_at", "ms_played", "ended_reason", "context", "counted"]


class SongMarkAnswer(serializers.Serializer):
    changed = serializers.BooleanField(help_text="False when it was already so.")
    liked = serializers.BooleanField()
    favorite = serializers.BooleanField()
    like_count = serializers.IntegerField()


class AlbumFavoriteAnswer(serializers.Serializer):
    changed = serializers.BooleanField()
    favorite = serializers.BooleanField()
    favorite_count = serializers.IntegerField()


class FollowAnswer(serializers.Serializer):
    changed = serializers.BooleanField()
    following = serializers.BooleanField()
    follower_count = serializers.IntegerField()
