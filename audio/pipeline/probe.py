"""The first step: read the stream's parameters and decode the whole file once, metering it.

Decoding everything is where damaged or cut-off files are caught, before any rendition is made;
the measurements (loudness, peaks, clipping, silence) feed the quality checks.
"""

import hashlib

from django.db import transaction

from audio import storage
from audio.errors import CorruptMedia, ProcessingFailed
from audio.ffmpeg import PcmDecoder, ProbeFailed, probe
from audio.measure import SignalMeter
from audio.models import AudioAsset
from audio.pipeline.steps import (
    PROGRESS_AFTER,
    asset_lock,
    source_kind,
    step_finish,
    step_skip_if_done,
    step_start,
)


def _fmt_seconds(value: float) -> str:
    minutes, seconds = divmod(value, 60)
    return f"{int(minutes)}:{seconds:04.1f}" if minutes else f"{seconds:.1f} s"


def measure_file(
    path,
    *,
    demuxer,
    sample_rate: int,
    channels: int,
    what: str,
    true_peak: bool = True,
    meter: bool = True,
) -> tuple[dict, list[str]]:
    """Decode the whole file once: (measurements, decoder complaints). The measurements always
    hold ``duration``, ``frames`` and ``pcm_sha256`` (a digest of the decoded samples); with
    ``meter`` also loudness, peaks, clipping and silence (``audio.measure``)."""
    channels = min(max(channels or 2, 1), 2)
    signal_meter = SignalMeter(sample_rate, channels, true_peak=true_peak) if meter else None
    digest = hashlib.sha256()
    with PcmDecoder(
        path, sample_rate=sample_rate, channels=channels, demuxer=demuxer, what=what
    ) as decoder:
        for block in decoder:
            digest.update(block.tobytes())
            if signal_meter is not None:
                signal_meter.feed(block)
    if signal_meter is not None:
        measurements = signal_meter.result().as_dict()
    else:
        measurements = {
            "sample_rate": sample_rate,
            "channels": channels,
            "frames": decoder.frames,
            "duration": decoder.frames / sample_rate,
        }
    measurements["pcm_sha256"] = digest.hexdigest()
    return measurements, decoder.errors


def audio_asset_probe(*, asset: AudioAsset) -> None:
    """Read the stream's parameters and decode the whole file once (this is where damaged or
    cut-off files are caught), metering it for the quality checks."""
    step = "probe"
    if step_skip_if_done(asset, step, PROGRESS_AFTER[step]):
        return
    step_start(asset, step, 0.0)
    kind = source_kind(asset)
    store = asset.original.storage
    with storage.local_path(store, asset.original.name) as path:
        try:
            meta = probe(path, demuxer=kind.demuxer)
        except ProbeFailed:
            raise CorruptMedia(
                "The file could not be read as audio any more; it may be damaged. Upload it again.",
                detail="probe failed",
            ) from None
        if not meta.sample_rate:
            raise CorruptMedia("The audio stream has no sample rate; the file is damaged.")
        try:
            # No true peak here: no source check uses it, and it is the costliest measurement.
            measurements, errors = measure_file(
                path,
                demuxer=kind.demuxer,
                sample_rate=meta.sample_rate,
                channels=meta.channels or 2,
                what="decode the audio",
                true_peak=False,
            )
        except ProcessingFailed as exc:
            raise CorruptMedia(
                "The audio could not be decoded: the file is damaged. "
                "Export it again and re-upload it.",
                detail=exc.detail,
            ) from None
    decoded = measurements["duration"]
    if decoded <= 0:
        raise CorruptMedia("No audio could be decoded from the file: it is damaged or empty.")
    announced = meta.duration
    if announced and decoded < announced - max(0.5, 0.02 * announced):
        raise CorruptMedia(
            "The file ends early: its header announces "
            f"{_fmt_seconds(announced)} of audio but only "
            f"{_fmt_seconds(decoded)} could be decoded. The upload was probably cut off; export it "
            f"again and upload the complete file.",
            code="truncated",
            detail=f"announced={announced} decoded={decoded}",
        )
    if len(errors) > 50:
        raise CorruptMedia(
            f"The audio is damaged: the decoder reported {len(errors)} errors. Export it again.",
            detail="\n".join(errors[-4:]),
        )
    result = {"probe": meta.as_dict(), "measurements": measurements, "decoder_errors": errors[-20:]}
    with transaction.atomic():
        locked = asset_lock(asset.pk)
        locked.duration = round(decoded, 3)
        locked.codec = (meta.codec or locked.codec)[:32]
        locked.sample_rate = meta.sample_rate
        locked.channels = meta.channels
        locked.bitrate = meta.bit_rate or locked.bitrate
        locked.save(
            update_fields=["duration", "codec", "sample_rate", "channels", "bitrate", "updated_at"]
        )
        step_finish(locked, step, progress=PROGRESS_AFTER[step], result=result)
    asset.duration = locked.duration
