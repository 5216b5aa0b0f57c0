import factory
from factory.django import DjangoModelFactory

from audio.models import AudioAnalysis
from catalog.models import Album, Artist, Genre, Song
from tests.audio.factories import AudioAssetFactory
from tests.factories import MusicianFactory


class GenreFactory(DjangoModelFactory):
    class Meta:
        model = Genre
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Genre {n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))


class ArtistFactory(DjangoModelFactory):
    class Meta:
        model = Artist

    user = factory.SubFactory(MusicianFactory)
    name = factory.LazyAttribute(lambda o: o.user.display_name)
    slug = factory.Sequence(lambda n: f"artist-{n}")


class AlbumFactory(DjangoModelFactory):
    class Meta:
        model = Album

    artist = factory.SubFactory(ArtistFactory)
    title = factory.Sequence(lambda n: f"Album {n}")
    artist_name = factory.LazyAttribute(lambda o: o.artist.name)


class SongFactory(DjangoModelFactory):
    """A song on a small stored asset (not a real recording: for API and access tests)."""

    class Meta:
        model = Song
        skip_postgeneration_save = True

    artist = factory.SubFactory(ArtistFactory)
    album = None
    title = factory.Sequence(lambda n: f"Song {n}")
    asset = factory.SubFactory(AudioAssetFactory, owner=factory.SelfAttribute("..artist.user"))
    duration = 180.0
    artist_name = factory.LazyAttribute(lambda o: o.artist.name)
    album_title = factory.LazyAttribute(lambda o: o.album.title if o.album else "")

    @factory.post_generation
    def genres(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.genres.set(extracted)
            obj.genre_names = ", ".join(sorted(g.name for g in extracted))
            obj.save(update_fields=["genre_names"])


def analysis_of(asset, **values) -> AudioAnalysis:
    """An unsaved analysis of ``asset`` (for bulk_create); ``values`` override the defaults."""
    defaults = dict(
        sha256=asset.sha256,
        analyser_version=1,
        tempo_bpm=120.0,
        tempo_alt_bpm=60.0,
        key="A",
        mode="minor",
        key_confidence=0.8,
        energy=0.5,
        danceability=0.5,
        acousticness=0.5,
        valence=0.5,
        mood="calm",
        analysed_seconds=30.0,
    )
    defaults.update(values)
    return AudioAnalysis(asset=asset, **defaults)


def analysis_for(song, **values) -> AudioAnalysis:
    analysis = analysis_of(song.asset, **values)
    analysis.save()
    return analysis
