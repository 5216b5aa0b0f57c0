import factory
from django.core.files.base import ContentFile
from factory.django import DjangoModelFactory

from audio.models import AudioAsset, Rendition
from tests.factories import UserFactory


class AudioAssetFactory(DjangoModelFactory):
    """An asset row with a small stored file (not a valid recording: for access tests)."""

    class Meta:
        model = AudioAsset

    owner = factory.SubFactory(UserFactory)
    purpose = AudioAsset.Purpose.CATALOG
    format = AudioAsset.Format.MP3
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    size = 4096
    status = AudioAsset.Status.READY
    duration = 3.0
    original_name = "song.mp3"
    original = factory.LazyFunction(
        lambda: ContentFile(bytes(range(256)) * 16, name="original.mp3")
    )


class RenditionFactory(DjangoModelFactory):
    class Meta:
        model = Rendition

    asset = factory.SubFactory(AudioAssetFactory)
    kind = Rendition.Kind.MP3_160
    content_type = "audio/mpeg"
    size = 4096
    bitrate = 160_000
    file = factory.LazyFunction(lambda: ContentFile(bytes(range(256)) * 16, name="mp3_160.mp3"))
