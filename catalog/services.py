"""Every write to the catalog: artists, genres, albums, songs, and what listeners do with them.

Counts (plays, likes, favourites, followers) change only through ``F()`` updates made in the same
transaction as the row that justifies them (a like, a counted play), so concurrent listeners
never lose one. The searchable copies of related names (``Song.artist_name`` ...) are kept here.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify
from wagtail.log_actions import log

from accounts.models import User
from audio.services import audio_asset_create, audio_asset_delete
from audio.validators import image_upload_validate
from billing.selectors import entitlements_for
from catalog import notices
from catalog.errors import (
    Conflict,
    Invalid,
    NotFound,
    NotMusician,
    NotOwner,
    NotStaff,
    SkipLimit,
)
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
from catalog.selectors import genre_counts_forget, trending_forget

# A listen counts as a play (counts, trending, insights) from 30 s, or when played to its end.
PLAY_COUNTS_AFTER_MS = 30_000
SKIP_WINDOW = timedelta(hours=1)
MAX_GENRES = 5
HIDDEN_REASON_MAX_CHARS = 500


def _unique_slug(model, text: str, *, exclude_pk=None) -> str:
    base = slugify(text)[:60] or model._meta.model_name
    slug, n = base, 1
    while model.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


# --- artists and genres ----------------------------------------------------------------------


def artist_ensure(*, user: User) -> Artist:
    """The musician's artist profile, made on first use from their display name."""
    if not user.is_musician:
        raise NotMusician()
    artist = Artist.objects.filter(user=user).first()
    if artist is not None:
        return artist
    name = (user.display_name or user.email.split("@")[0])[:120]
    try:
        with transaction.atomic():
            return Artist.objects.create(user=user, name=name, slug=_unique_slug(Artist, name))
    except IntegrityError:  # made by a concurrent request
        return Artist.objects.get(user=user)


def artist_update(*, artist: Artist, user: User, **fields) -> Artist:
    if artist.user_id != user.pk:
        raise NotOwner()
    genres = fields.pop("genres", None)
    avatar = fields.pop("avatar", None)
    with transaction.atomic():
        for name, value in fields.items():
            if name not in ("name", "bio"):
                raise ValueError(f"unknown artist field {name!r}")
            setattr(artist, name, value)
        if avatar is not None:
            image_upload_validate(upload=avatar)
            artist.avatar.save(avatar.name, avatar, save=False)
        artist.save()
        if genres is not None:
            artist.genres.set(genres)
        if "name" in fields:
            Song.objects.filter(artist=artist).update(artist_name=artist.name)
            Album.objects.filter(artist=artist).update(artist_name=artist.name)
    return artist


def genre_create(*, name: str) -> Genre:
    name = " ".join(str(name).split())[:60]
    if not name:
        raise Invalid("A genre needs a name.", field="name")
    existing = Genre.objects.filter(name__iexact=name).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Genre.objects.create(name=name, slug=_unique_slug(Genre, name))
    except IntegrityError:
        return Genre.objects.get(name__iexact=name)


def _genres_clean(genres) -> list[Genre]:
    genres = list(dict.fromkeys(genres or []))
    if len(genres) > MAX_GENRES:
        raise Invalid(f"At most {MAX_GENRES} genres.", field="genres")
    return genres


def _genre_names(genres) -> str:
    return ", ".join(sorted(g.name for g in genres))[:400]


# --- albums ----------------------------------------------------------------------------------


def album_create(
    *,
    user: User,
    title: str,
    release_date=None,
    genres=(),
    cover=None,
    description: str = "",
    visibility: str = Visibility.PUBLIC,
) -> Album:
    artist = artist_ensure(user=user)
    genres = _genres_clean(genres)
    if cover is not None:
        image_upload_validate(upload=cover)
    with transaction.atomic():
        album = Album(
            artist=artist,
            title=title,
            release_date=release_date,
            description=description,
            visibility=visibility,
            artist_name=artist.name,
        )
        album.save(force_insert=True)
        if cover is not None:
            album.cover.save(cover.name, cover, save=True)
        album.genres.set(genres)
    return album


def album_update(*, album: Album, user: User, **fields) -> Album:
    if album.artist.user_id != user.pk:
        raise NotOwner()
    genres = fields.pop("genres", None)
    cover = fields.pop("cover", None)
    if cover is not None:
        image_upload_validate(upload=cover)
    with transaction.atomic():
        for name, value in fields.items():
            if name not in ("title", "release_date", "description", "visibility"):
                raise ValueError(f"unknown album field {name!r}")
            setattr(album, name, value)
        if cover is not None:
            album.cover.save(cover.name, cover, save=False)
        album.save()
        if genres is not None:
            album.genres.set(_genres_clean(genres))
        if "title" in fields:
            Song.objects.filter(album=album).update(album_title=album.title)
    return album


def album_delete(*, album: Album, user: User) -> None:
    """The album goes; its songs stay in the catalog as singles."""
    if album.artist.user_id != user.pk:
        raise NotOwner()
    with transaction.atomic():
        Song.objects.filter(album=album).update(album=None, album_title="", track_number=None)
        album.delete()


# --- songs -----------------------------------------------------------------------------------


def _album_of(artist: Artist, album: Album | None) -> Album | None:
    if album is not None and album.artist_id != artist.pk:
        raise Invalid("That album is not yours.", field="album")
    return album


def song_create(
    *,
    user: User,
    title: str,
    audio,
    album: Album | None = None,
    genres=(),
    visibility: str = Visibility.PUBLIC,
    release_date=None,
    lyrics: str = "",
    explicit: bool = False,
    track_number: int | None = None,
    cover=None,
) -> Song:
    """Publish a song: the upload enters the media pipeline and plays from the original at once;
    renditions replace it as they land."""
    artist = artist_ensure(user=user)
    album = _album_of(artist, album)
    genres = _genres_clean(genres)
    if cover is not None:
        image_upload_validate(upload=cover)
    with transaction.atomic():
        asset = audio_asset_create(owner=user, upload=audio, purpose="catalog")
        song = Song(
            artist=artist,
            album=album,
            track_number=track_number,
            title=title,
            asset=asset,
            duration=asset.duration,
            release_date=release_date or timezone.localdate(),
            visibility=visibility,
            lyrics=lyrics,
            explicit=explicit,
            artist_name=artist.name,
            album_title=album.title if album else "",
            genre_names=_genre_names(genres),
        )
        song.save(force_insert=True)
        if cover is not None:
            song.cover.save(cover.name, cover, save=True)
        song.genres.set(genres)
        _genre_counts_changed([genre.pk for genre in genres])
    return song


def _genre_counts_changed(genre_ids) -> None:
    """The genres' cached song counts are recounted once the change is committed."""
    transaction.on_commit(lambda: genre_counts_forget(genre_ids))


SONG_FIELDS = ("title", "release_date", "visibility", "lyrics", "explicit", "track_number")


def song_update(*, song: Song, user: User, **fields) -> Song:
    if song.artist.user_id != user.pk:
        raise NotOwner()
    genres = fields.pop("genres", None)
    cover = fields.pop("cover", None)
    if cover is not None:
        image_upload_validate(upload=cover)
    with transaction.atomic():
        _genre_counts_changed(list(song.genres.values_list("pk", flat=True)))
        if "album" in fields:
            song.album = _album_of(song.artist, fields.pop("album"))
            song.album_title = song.album.title if song.album else ""
        for name, value in fields.items():
            if name not in SONG_FIELDS:
                raise ValueError(f"unknown song field {name!r}")
            setattr(song, name, value)
        if cover is not None:
            song.cover.save(cover.name, cover, save=False)
        if genres is not None:
            genres = _genres_clean(genres)
            song.genre_names = _genre_names(genres)
        song.save()
        if genres is not None:
            song.genres.set(genres)
            _genre_counts_changed([genre.pk for genre in genres])
    return song


def song_delete(*, song: Song, user: User) -> None:
    """The song leaves the catalog with its audio (files are removed after the commit)."""
    if song.artist.user_id != user.pk:
        raise NotOwner()
    with transaction.atomic():
        _genre_counts_changed(list(song.genres.values_list("pk", flat=True)))
        asset = song.asset
        song.delete()
        audio_asset_delete(asset=asset)


# --- likes, favourites, follows --------------------------------------------------------------


def _mark(model, counter_model, counter: str, *, user, target_field: str, target) -> bool:
    """Record one mark (like, favourite, follow) and count it; False when it already existed."""
    try:
        with transaction.atomic():
            model.objects.create(user=user, **{target_field: target})
            counter_model.objects.filter(pk=target.pk).update(**{counter: F(counter) + 1})
    except IntegrityError:
        return False
    return True


def _unmark(model, counter_model, counter: str, *, user, target_field: str, target) -> bool:
    with transaction.atomic():
        deleted, _ = model.objects.filter(user=user, **{target_field: target}).delete()
        if deleted:
            counter_model.objects.filter(pk=target.pk).update(**{counter: F(counter) - 1})
    return bool(deleted)


def song_like(*, user: User, song: Song) -> bool:
    return _mark(SongLike, Song, "like_count", user=user, target_field="song", target=song)


def song_unlike(*, user: User, song: Song) -> bool:
    return _unmark(SongLike, Song, "like_count", user=user, target_field="song", target=song)


def song_favorite_add(*, user: User, song: Song) -> bool:
    return _mark(SongFavorite, Song, "favorite_count", user=user, target_field="song", target=song)


def song_favorite_remove(*, user: User, song: Song) -> bool:
    return _unmark(
        SongFavorite, Song, "favorite_count", user=user, target_field="song", target=song
    )


def album_favorite_add(*, user: User, album: Album) -> bool:
    return _mark(
        AlbumFavorite, Album, "favorite_count", user=user, target_field="album", target=album
    )


def album_favorite_remove(*, user: User, album: Album) -> bool:
    return _unmark(
        AlbumFavorite, Album, "favorite_count", user=user, target_field="album", target=album
    )


def artist_follow(*, user: User, artist: Artist) -> bool:
    if artist.user_id == user.pk:
        raise Invalid("You cannot follow yourself.", code="own_artist")
    return _mark(
        ArtistFollow, Artist, "follower_count", user=user, target_field="artist", target=artist
    )


def artist_unfollow(*, user: User, artist: Artist) -> bool:
    return _unmark(
        ArtistFollow, Artist, "follower_count", user=user, target_field="artist", target=artist
    )


# --- plays and skips -------------------------------------------------------------------------


def skips_retry_after(*, user: User, now=None) -> int | None:
    """Seconds until a free listener may skip again; None when they may skip now."""
    limit = entitlements_for(user).skips_per_hour
    if limit is None:
        return None
    now = now or timezone.now()
    recent = list(
        PlayEvent.objects.filter(
            user=user,
            ended_reason=PlayEvent.EndedReason.SKIPPED,
            created_at__gt=now - SKIP_WINDOW,
        )
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return None
    # The window frees a skip when the oldest of the last `limit` skips leaves it.
    return max(1, int((recent[-1] + SKIP_WINDOW - now).total_seconds()) + 1)


def play_record(
    *,
    user: User,
    song: Song,
    ms_played: int,
    ended_reason: str,
    context: str = "",
    device: str = "",
    started_at=None,
) -> PlayEvent:
    """Record one listen. A skip past the plan's hourly limit is refused (SkipLimit, 429) and
    nothing is stored; a listen of 30 s or more, or played to the end, counts as a play."""
    now = timezone.now()
    started_at = min(started_at or now, now)
    duration_ms = int((song.duration or 0) * 1000)
    if duration_ms:
        ms_played = min(int(ms_played), duration_ms)
    counted = ended_reason == PlayEvent.EndedReason.COMPLETED or ms_played >= PLAY_COUNTS_AFTER_MS
    with transaction.atomic():
        if ended_reason == PlayEvent.EndedReason.SKIPPED:
            # One listener's skips are counted one at a time, so two at once cannot both pass.
            User.objects.select_for_update().filter(pk=user.pk).first()
            retry_after = skips_retry_after(user=user, now=now)
            if retry_after is not None:
                raise SkipLimit(
                    retry_after=retry_after,
                    limit=entitlements_for(user).skips_per_hour,
                )
        event = PlayEvent.objects.create(
            user=user,
            song=song,
            started_at=started_at,
            ms_played=max(0, int(ms_played)),
            ended_reason=ended_reason,
            context=context[:80],
            device=device[:80],
            counted=counted,
        )
        if counted:
            Song.objects.filter(pk=song.pk).update(play_count=F("play_count") + 1)
    return event


# --- moderation ------------------------------------------------------------------------------
# Staff hide a song or an album that breaks the rules. The row keeps who, when and why, Wagtail's
# log keeps the act, and the owner is told the reason. ``catalog.selectors`` then keeps it (and an
# album's songs) from everyone but its artist, who sees it marked with the reason.


def _moderator_check(actor: User) -> None:
    if not getattr(actor, "is_staff", False):
        raise NotStaff()


def _reason_clean(reason: str) -> str:
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise Invalid("Say which rule it breaks: the owner is told.", field="reason")
    if len(reason) > HIDDEN_REASON_MAX_CHARS:
        raise Invalid(
            f"At most {HIDDEN_REASON_MAX_CHARS} characters.", field="reason", code="too_long"
        )
    return reason


def _listing_changed(song_ids) -> None:
    """Counts and trending shown to everyone are recounted once the change is committed."""
    genre_ids = list(
        Song.genres.through.objects.filter(song_id__in=song_ids)
        .values_list("genre_id", flat=True)
        .distinct()
    )
    _genre_counts_changed(genre_ids)
    transaction.on_commit(trending_forget)


def _locked(model, item_id, *, kind: str):
    item = model.objects.select_for_update().filter(pk=item_id).first()
    if item is None:
        raise NotFound(f"No such {kind}.")
    return item


def _hide(model, item_id, *, actor: User, reason: str, kind: str):
    _moderator_check(actor)
    reason = _reason_clean(reason)
    with transaction.atomic():
        item = _locked(model, item_id, kind=kind)
        if item.is_hidden:
            raise Conflict(f"This {kind} is already hidden.", code="already_hidden")
        item.hidden_at = timezone.now()
        item.hidden_by = actor
        item.hidden_reason = reason
        item.save(update_fields=["hidden_at", "hidden_by", "hidden_reason", "updated_at"])
        log(item, f"catalog.{kind}_hide", user=actor, data={"reason": reason})
        notices.hidden(item, kind=kind)
        _listing_changed(_song_ids_of(item, kind))
    return item


def _unhide(model, item_id, *, actor: User, kind: str):
    _moderator_check(actor)
    with transaction.atomic():
        item = _locked(model, item_id, kind=kind)
        if not item.is_hidden:
            raise Conflict(f"This {kind} is not hidden.", code="not_hidden")
        reason = item.hidden_reason
        item.hidden_at = item.hidden_by = item.hidden_reason = None
        item.save(update_fields=["hidden_at", "hidden_by", "hidden_reason", "updated_at"])
        log(item, f"catalog.{kind}_unhide", user=actor, data={"reason": reason})
        notices.restored(item, kind=kind)
        _listing_changed(_song_ids_of(item, kind))
    return item


def _song_ids_of(item, kind: str) -> list:
    if kind == "song":
        return [item.pk]
    return list(Song.objects.filter(album=item).values_list("pk", flat=True))


def song_hide(*, song_id, actor: User, reason: str) -> Song:
    """Staff: keep a song from everyone but its artist, who is told ``reason``. NotFound for
    an unknown id; Conflict when it is already hidden."""
    return _hide(Song, song_id, actor=actor, reason=reason, kind="song")


def song_unhide(*, song_id, actor: User) -> Song:
    """Staff: list a hidden song again; its artist is told."""
    return _unhide(Song, song_id, actor=actor, kind="song")


def album_hide(*, album_id, actor: User, reason: str) -> Album:
    """Staff: keep an album and all its songs from everyone but its artist, who is told
    ``reason``. Its songs keep their own state: unhiding the album lists them again unless
    they were hidden on their own."""
    return _hide(Album, album_id, actor=actor, reason=reason, kind="album")


def album_unhide(*, album_id, actor: User) -> Album:
    return _unhide(Album, album_id, actor=actor, kind="album")
