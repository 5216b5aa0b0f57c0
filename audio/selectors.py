"""Reads of the media pipeline, scoped by who asks."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from audio.models import AudioAnalysis, AudioAsset, QualityReport, Rendition

# accounts.AudioQuality -> the MP3 ladder, best first within what the quality allows.
QUALITY_KINDS = {
    "low": (Rendition.Kind.MP3_96,),
    "normal": (Rendition.Kind.MP3_160, Rendition.Kind.MP3_96),
    "high": (Rendition.Kind.MP3_320, Rendition.Kind.MP3_160, Rendition.Kind.MP3_96),
}


def audio_assets_visible_to(user) -> QuerySet[AudioAsset]:
    """The assets a person manages: their own (staff see every asset)."""
    if user is None or not user.is_authenticated:
        return AudioAsset.objects.none()
    assets = AudioAsset.objects.select_related("owner")
    return assets if user.is_staff else assets.filter(owner=user)


def audio_asset_get_for(*, user, asset_id) -> AudioAsset:
    """One asset the person may manage, else 404 (never 403: others' assets do not exist)."""
    return get_object_or_404(audio_assets_visible_to(user), pk=asset_id)


def renditions_of(asset: AudioAsset) -> QuerySet[Rendition]:
    return asset.renditions.order_by("kind")


def rendition_for_quality(*, asset: AudioAsset, quality: str) -> Rendition | None:
    """The best MP3 rendition allowed by ``quality`` (low, normal, high). None while none has
    landed yet: the original is then what plays (songs are playable as soon as uploaded)."""
    kinds = QUALITY_KINDS.get(quality)
    if kinds is None:
        raise ValueError(f"unknown quality {quality!r}")
    available = {r.kind: r for r in asset.renditions.filter(kind__in=kinds)}
    return next((available[kind] for kind in kinds if kind in available), None)


def stream_source(*, asset: AudioAsset, quality: str) -> Rendition | AudioAsset:
    """What to play for ``quality``: a rendition when one has landed, else the original."""
    return rendition_for_quality(asset=asset, quality=quality) or asset


def hls_rendition(*, asset: AudioAsset) -> Rendition | None:
    return asset.renditions.filter(kind=Rendition.Kind.HLS).first()


def delivery_renditions(*, asset: AudioAsset) -> QuerySet[Rendition]:
    """The delivery set, only once it has passed every check (empty otherwise)."""
    if asset.purpose != AudioAsset.Purpose.DELIVERY or asset.status != AudioAsset.Status.READY:
        return Rendition.objects.none()
    return asset.renditions.filter(kind__startswith="delivery_").order_by("kind")


def analysis_of(asset: AudioAsset) -> AudioAnalysis | None:
    return AudioAnalysis.objects.filter(asset=asset).first()


def quality_reports_of(asset: AudioAsset) -> QuerySet[QualityReport]:
    return asset.quality_reports.prefetch_related("checks").order_by("stage")
