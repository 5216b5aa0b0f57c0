"""The streaming catalog: artists, albums, songs and genres, and what listeners do with them
(likes, favourites, follows, plays).

Writes go through ``catalog.services``; these classes hold data and database invariants. Play,
like, favourite and follower counts are denormalised onto their rows and changed only by
``F()`` updates in the services, so concurrent listeners never lose a count.

Searchable text (``artist_name``, ``album_title``, ``genre_names`` on songs) is copied from the
related rows by the services, so a search reads one table per kind; on PostgreSQL a generated
``tsvector`` column and trigram indexes are added by migration 0002, on SQLite FTS5 tables kept
by triggers (``catalog.search``).
"""

import random
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from audio.models import AudioAsset


def _shuffle_key() -> float:
    return random.random()  # noqa: S311 - an even spread, not a secret


def cover_upload_to(instance, filename):
    return f"covers/{instance._meta.model_name}/{instance.pk}/{filename}"


def avatar_upload_to(instance, filename):
    return f"artists/{instance.pk}/{filename}"


class Visibility(models.TextChoices):
    PUBLIC = "public", "Public"
    PRIVATE = "private", "Private"


class Genre(models.Model):
    name = models.CharField(max_length=60)
    slug = models.SlugField(max_length=70, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("name"), name="catalog_genre_name_unique_ci"
            )
        ]

    def __str__(self):
        return self.name


class Artist(models.Model):
    """A musician's public profile in the catalog (one per musician)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artist"
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    bio = models.TextField(blank=True)
    avatar = models.ImageField(upload_to=avatar_upload_to, blank=True, max_length=255)
    genres = models.ManyToManyField(Genre, blank=True, related_name="artists")
    verified = models.BooleanField(default=False)
    follower_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["name"], name="catalog_artist_name_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(follower_count__gte=0), name="catalog_artist_followers_positive"
            )
        ]

    def __str__(self):
        return self.name


class Moderated(models.Model):
    """Staff may hide a song or an album that breaks the rules (``catalog.services.song_hide``,
    ``album_hide``): who, when and why stay on the row, the reason is told to the owner, and
    ``catalog.selectors`` keeps it (and an album's songs) from everyone but its artist."""

    hidden_at = models.DateTimeField(null=True, blank=True, editable=False)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    # Nullable, like the other two, so SQLite adds the columns in place: a NOT NULL column
    # would rebuild the table and drop the search triggers of migration 0002.
    hidden_reason = models.CharField(max_length=500, null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_hidden(self) -> bool:
        return self.hidden_at is not None


class Album(Moderated):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="albums")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    cover = models.ImageField(upload_to=cover_upload_to, blank=True, max_length=255)
    release_date = models.DateField(null=True, blank=True)
    genres = models.ManyToManyField(Genre, blank=True, related_name="albums")
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    artist_name = models.CharField(max_length=120, blank=True, editable=False)
    favorite_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-release_date", "-created_at"]
        indexes = [
            models.Index(fields=["artist", "-release_date"], name="catalog_album_artist_idx"),
            models.Index(fields=["visibility", "-created_at"], name="catalog_album_recent_idx"),
            # The few hidden rows, read by every song list (catalog.selectors).
            models.Index(
                fields=["hidden_at"],
                name="catalog_album_hidden_idx",
                condition=Q(hidden_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(visibility__in=["public", "private"]),
                name="catalog_album_visibility_valid",
            ),
        ]

    def __str__(self):
        return self.title


class Song(Moderated):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="songs")
    album = models.ForeignKey(
        Album, on_delete=models.SET_NULL, null=True, blank=True, related_name="songs"
    )
    track_number = models.PositiveSmallIntegerField(null=True, blank=True)
    title = models.CharField(max_length=200)
    genres = models.ManyToManyField(Genre, blank=True, related_name="songs")
    asset = models.OneToOneField(AudioAsset, on_delete=models.PROTECT, related_name="song")
    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    release_date = models.DateField(null=True, blank=True)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    lyrics = models.TextField(blank=True)
    explicit = models.BooleanField(default=False)
    cover = models.ImageField(upload_to=cover_upload_to, blank=True, max_length=255)

    play_count = models.PositiveBigIntegerField(default=0)
    like_count = models.PositiveIntegerField(default=0)
    favorite_count = models.PositiveIntegerField(default=0)
    # A uniform random number per song: random picks seek into its index instead of sorting
    # the whole table by RANDOM().
    shuffle_key = models.FloatField(default=_shuffle_key, db_index=True, editable=False)

    # Copied from the related rows (catalog.services) so search reads one table.
    artist_name = models.CharField(max_length=120, blank=True, editable=False)
    album_title = models.CharField(max_length=200, blank=True, editable=False)
    genre_names = models.CharField(max_length=400, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["visibility", "-created_at"], name="catalog_song_recent_idx"),
            models.Index(fields=["visibility", "-play_count"], name="catalog_song_plays_idx"),
            models.Index(fields=["visibility", "-like_count"], name="catalog_song_likes_idx"),
            models.Index(fields=["visibility", "-release_date"], name="catalog_song_release_idx"),
            models.Index(fields=["artist", "-created_at"], name="catalog_song_artist_idx"),
            models.Index(fields=["album", "track_number"], name="catalog_song_album_idx"),
            models.Index(
                fields=["hidden_at"],
                name="catalog_song_hidden_idx",
                condition=Q(hidden_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(visibility__in=["public", "private"]),
                name="catalog_song_visibility_valid",
            ),
            models.CheckConstraint(
                condition=Q(duration__isnull=True) | Q(duration__gte=0),
                name="catalog_song_duration_positive",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def status(self) -> str:
        """The API's ``status`` of the song's audio: processing, ready or failed."""
        asset_status = self.asset.status
        if asset_status in (AudioAsset.Status.READY, AudioAsset.Status.FAILED):
            return asset_status
        return "processing"

    @property
    def moderation_reason(self) -> str | None:
        """Why staff keep this song from listeners (its own hiding, else its album's); None
        when they do not. Only its artist ever sees a hidden song."""
        if self.is_hidden:
            return self.hidden_reason or ""
        if self.album_id and self.album.is_hidden:
            return self.album.hidden_reason or ""
        return None


class SongLike(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="song_likes"
    )
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "song"], name="catalog_song_like_once")
        ]
        indexes = [
            models.Index(fields=["created_at", "song"], name="catalog_like_recent_idx"),
            models.Index(fields=["user", "-created_at"], name="catalog_like_user_idx"),
        ]

    def __str__(self):
        return f"{self.user_id} -> {self.song_id}"


class SongFavorite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="song_favorites"
    )
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="favorites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "song"], name="catalog_song_favorite_once")
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="catalog_fav_song_user_idx")]

    def __str__(self):
        return f"{self.user_id} -> {self.song_id}"


class AlbumFavorite(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="album_favorites"
    )
    album = models.ForeignKey(Album, on_delete=models.CASCADE, related_name="favorites")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "album"], name="catalog_album_favorite_once")
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="catalog_fav_album_user_idx")]

    def __str__(self):
        return f"{self.user_id} -> {self.album_id}"


class ArtistFollow(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artist_follows"
    )
    artist = models.ForeignKey(Artist, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "artist"], name="catalog_artist_follow_once")
        ]
        indexes = [
            models.Index(fields=["artist", "-created_at"], name="catalog_follow_artist_idx"),
            models.Index(fields=["user", "-created_at"], name="catalog_follow_user_idx"),
        ]

    def __str__(self):
        return f"{self.user_id} -> {self.artist_id}"


class PlayEvent(models.Model):
    """One listen: what was played, for how long, how it ended and from where."""

    class EndedReason(models.TextChoices):
        COMPLETED = "completed", "Completed"
        SKIPPED = "skipped", "Skipped"
        STOPPED = "stopped", "Stopped"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="play_events"
    )
    song = models.ForeignKey(Song, on_delete=models.CASCADE, related_name="play_events")
    started_at = models.DateTimeField()
    ms_played = models.PositiveIntegerField(default=0)
    ended_reason = models.CharField(max_length=10, choices=EndedReason.choices)
    context = models.CharField(
        max_length=80, blank=True, help_text="Where it was played from: album:<id>, search, ..."
    )
    device = models.CharField(max_length=80, blank=True)
    # Whether it counted as a play (long enough, or played to the end): trending reads this.
    counted = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [
            models.Index(fields=["user", "-started_at"], name="catalog_play_user_idx"),
            models.Index(
                fields=["started_at", "song"],
                name="catalog_play_counted_idx",
                condition=Q(counted=True),
            ),
            models.Index(
                fields=["user", "created_at"],
                name="catalog_play_skips_idx",
                condition=Q(ended_reason="skipped"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_reason__in=["completed", "skipped", "stopped"]),
                name="catalog_play_ended_reason_valid",
            )
        ]

    def __str__(self):
        return f"{self.user_id} played {self.song_id}"
