"""Which rendition a person hears, by their plan (``billing.selectors.entitlements_for``): the one
rule the stream API, the pages' player and listening rooms all ask.

Qualities are rungs of the MP3 ladder: low 96, normal 160, high 320 kbps. Asking above the plan
gets the best rung the plan allows, and the answer says which. Until the renditions have landed
the original plays (songs play as soon as they are uploaded): the answer says ``original``.
HLS is limited to the HLS ladder's variants at or under the chosen rung's bitrate (the lowest
variant when none is), in the master playlist and in what the signed link will serve
(``audio.access.hls_variants_within``); the answer's bitrate is the best variant admitted. An
HLS rendition that cannot be limited (its variants were not recorded) is not handed out: the
MP3 ladder answers instead.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from audio import conf as audio_conf
from audio.access import hls_variants, hls_variants_within
from audio.models import AudioAsset
from audio.selectors import hls_rendition, stream_source
from audio.signing import audio_url_sign
from billing.selectors import entitlements_for
from catalog.models import Song

QUALITY_KBPS = {"low": 96, "normal": 160, "high": 320}
QUALITIES = tuple(QUALITY_KBPS)


@dataclass(frozen=True)
class Stream:
    url: str
    format: str  # "mp3", "hls" or the original's container
    quality: str  # the rung served: low, normal, high, or "original" while renditions are made
    asked: str
    bitrate_kbps: int | None
    max_kbps: int  # the plan's ceiling
    expires_at: datetime

    def as_dict(self) -> dict:
        return {
            "url": self.url,
            "format": self.format,
            "quality": self.quality,
            "asked": self.asked,
            "bitrate_kbps": self.bitrate_kbps,
            "max_kbps": self.max_kbps,
            "expires_at": self.expires_at.isoformat(),
        }


def quality_allowed(user, asked: str) -> str:
    """The best rung at or under ``asked`` that the person's plan allows."""
    ceiling = entitlements_for(user).max_bitrate_kbps
    allowed = [q for q in QUALITIES if QUALITY_KBPS[q] <= ceiling]
    within = [q for q in allowed if QUALITY_KBPS[q] <= QUALITY_KBPS[asked]]
    return (within or allowed or ["low"])[-1]


def _expiry(asset: AudioAsset) -> datetime:
    seconds = min(
        int(audio_conf.get("AUDIO_SIGNED_URL_TTL_SECONDS")) + int(asset.duration or 0),
        int(audio_conf.get("AUDIO_SIGNED_URL_MAX_TTL_SECONDS")),
    )
    return datetime.now(UTC) + timedelta(seconds=seconds)


def stream_for(*, user, song: Song, asked: str = "normal", hls: bool = False) -> Stream:
    """A short-lived signed link to ``song`` at the rung the person may hear. The caller has
    checked that they may see the song."""
    if asked not in QUALITY_KBPS:
        raise ValueError(f"unknown quality {asked!r}")
    ceiling = entitlements_for(user).max_bitrate_kbps
    quality = quality_allowed(user, asked)
    asset = song.asset
    if hls:
        rendition = hls_rendition(asset=asset)
        limit = QUALITY_KBPS[quality]
        # No recorded variants, no limit to enforce: the MP3 ladder answers instead.
        admitted = hls_variants_within(hls_variants(rendition.details), limit) if rendition else []
        if admitted:
            return Stream(
                url=audio_url_sign(user=user, obj=rendition, hls_max_kbps=limit),
                format="hls",
                quality=quality,
                asked=asked,
                bitrate_kbps=round(admitted[-1].bitrate / 1000),
                max_kbps=ceiling,
                expires_at=_expiry(asset),
            )
    source = stream_source(asset=asset, quality=quality)
    if source is asset:
        return Stream(
            url=audio_url_sign(user=user, obj=asset),
            format=asset.format,
            quality="original",
            asked=asked,
            bitrate_kbps=round(asset.bitrate / 1000) if asset.bitrate else None,
            max_kbps=ceiling,
            expires_at=_expiry(asset),
        )
    kbps = round(source.bitrate / 1000) if source.bitrate else None
    served = next((q for q, k in QUALITY_KBPS.items() if k == kbps), quality)
    return Stream(
        url=audio_url_sign(user=user, obj=source),
        format="mp3",
        quality=served,
        asked=asked,
        bitrate_kbps=kbps,
        max_kbps=ceiling,
        expires_at=_expiry(asset),
    )
