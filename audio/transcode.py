"""The ffmpeg work behind each rendition, as plain functions over local paths.

The pipeline (``audio.services``) and the benchmark's baseline call the same functions, so the
benchmark measures exactly the pipeline's own overhead.
"""

import math
import os
from dataclasses import dataclass

from audio import conf
from audio.ffmpeg import ffmpeg, input_args, loudnorm_stats, probe

OUTPUT_RATE = 44100
AAC_FRAME = 1024


def _channels(source_channels: int | None) -> str:
    return str(min(max(source_channels or 2, 1), 2))


def _opts(text: str) -> list[str]:
    """Static options written as on a command line (no value here contains a space)."""
    return text.split()


def mp3_ladder(src, *, demuxer, outputs: dict[int, str], channels: int | None) -> None:
    """One decode, one MP3 per bitrate (kbps -> path), CBR at 44.1 kHz, tags and art dropped."""
    args = input_args(src, demuxer)
    for kbps, path in sorted(outputs.items()):
        args += _opts("-map 0:a:0 -map_metadata -1 -vn -c:a libmp3lame")
        args += ["-ac", _channels(channels), "-ar", str(OUTPUT_RATE), "-b:a", f"{kbps}k", path]
    ffmpeg(*args, what="make the MP3 versions")


def hls_segment_time(segment_seconds: float, sample_rate: int = OUTPUT_RATE) -> float:
    """The longest whole number of AAC frames not over ``segment_seconds``, minus a hair, so
    every segment (cut at the first frame boundary past the mark) stays within the target."""
    frames = math.floor(segment_seconds * sample_rate / AAC_FRAME)
    return frames * AAC_FRAME / sample_rate - 0.0005


def hls_ladder(
    src, *, demuxer, directory, bitrates: list[int], segment_seconds: float, channels: int | None
) -> dict:
    """An AAC-LC HLS ladder (one variant per bitrate) with a master playlist in ``directory``."""
    args = input_args(src, demuxer)
    for _ in bitrates:
        args += ["-map", "0:a:0"]
    args += _opts("-map_metadata -1 -vn -c:a aac")
    args += ["-ac", _channels(channels), "-ar", str(OUTPUT_RATE)]
    names = []
    for index, kbps in enumerate(bitrates):
        args += [f"-b:a:{index}", f"{kbps}k"]
        names.append(f"a:{index},name:{kbps}k")
    args += ["-var_stream_map", " ".join(names), "-master_pl_name", "master.m3u8"]
    args += _opts("-f hls -hls_playlist_type vod -hls_list_size 0 -hls_segment_type mpegts")
    args += _opts("-hls_flags independent_segments")
    args += ["-hls_time", f"{hls_segment_time(segment_seconds):.4f}"]
    args += ["-hls_segment_filename", os.path.join(directory, "%v", "seg_%05d.ts")]
    args += [os.path.join(directory, "%v", "index.m3u8")]
    for kbps in bitrates:
        os.makedirs(os.path.join(directory, f"{kbps}k"), exist_ok=True)
    ffmpeg(*args, what="make the streaming (HLS) versions")
    return {
        "master": "master.m3u8",
        "segment_seconds": segment_seconds,
        "variants": [
            {"bitrate": kbps * 1000, "playlist": f"{kbps}k/index.m3u8"} for kbps in bitrates
        ],
    }


def flac(src, *, demuxer, out, channels: int | None) -> None:
    args = input_args(src, demuxer) + _opts("-map 0:a:0 -map_metadata -1 -vn")
    args += ["-ac", _channels(channels), *_opts("-c:a flac -compression_level 5"), out]
    ffmpeg(*args, what="make the lossless version")


@dataclass(frozen=True)
class Watermark:
    interval: float
    offset: float
    tone_hz: float
    tone_seconds: float
    level_dbfs: float
    tag_file: str = ""  # a voice tag replaces the tone when set

    @classmethod
    def from_settings(cls) -> "Watermark":
        return cls(
            interval=float(conf.get("AUDIO_PREVIEW_WATERMARK_INTERVAL_SECONDS")),
            offset=float(conf.get("AUDIO_PREVIEW_WATERMARK_OFFSET_SECONDS")),
            tone_hz=float(conf.get("AUDIO_PREVIEW_WATERMARK_TONE_HZ")),
            tone_seconds=float(conf.get("AUDIO_PREVIEW_WATERMARK_TONE_SECONDS")),
            level_dbfs=float(conf.get("AUDIO_PREVIEW_WATERMARK_LEVEL_DBFS")),
            tag_file=str(conf.get("AUDIO_PREVIEW_WATERMARK_FILE") or ""),
        )

    def as_dict(self) -> dict:
        return {
            "interval": self.interval,
            "offset": self.offset,
            "kind": "voice_tag" if self.tag_file else "tone",
            "tone_hz": None if self.tag_file else self.tone_hz,
            "level_dbfs": None if self.tag_file else self.level_dbfs,
        }


def preview(
    src,
    *,
    demuxer,
    out,
    duration: float | None,
    bitrate_kbps: int,
    max_seconds: float | None,
    watermark: Watermark,
) -> dict:
    """A reduced-bitrate MP3 with the watermark mixed in every ``interval`` seconds (first at
    ``offset``), optionally cut to ``max_seconds`` with a two-second fade-out."""
    rate = OUTPUT_RATE
    if watermark.tag_file:
        tag_inputs = input_args(watermark.tag_file)
        tag_length = probe(watermark.tag_file).duration or watermark.interval
        shape = ""
    else:
        amplitude = 10 ** (watermark.level_dbfs / 20)
        tag_length = watermark.tone_seconds
        tone = f"{amplitude:.6f}*sin(2*PI*{watermark.tone_hz:g}*t)"
        tag_inputs = ["-f", "lavfi", "-i", f"aevalsrc={tone}:s={rate}:d={tag_length:g}"]
        fade = min(0.02, tag_length / 4)
        shape = f"afade=t=in:d={fade:g},afade=t=out:st={tag_length - fade:g}:d={fade:g},"
    period = max(watermark.interval, tag_length)
    length = duration
    cut = bool(max_seconds and duration and max_seconds < duration)
    if cut:
        length = float(max_seconds)
    ending = f",afade=t=out:st={max(0.0, length - 2):g}:d={min(2.0, length):g}" if cut else ""
    graph = (
        f"[0:a]aresample={rate},aformat=sample_fmts=fltp:channel_layouts=stereo[music];"
        f"[1:a]aresample={rate},aformat=sample_fmts=fltp:channel_layouts=stereo,{shape}"
        f"apad=whole_dur={period:g},aloop=loop=-1:size={int(round(period * rate))},"
        f"adelay={int(round(watermark.offset * 1000))}:all=1[mark];"
        f"[music][mark]amix=inputs=2:duration=first:dropout_transition=0:normalize=0{ending}[out]"
    )
    args = [*input_args(src, demuxer), *tag_inputs, "-filter_complex", graph, "-map", "[out]"]
    if cut:
        args += ["-t", f"{length:.3f}"]
    args += _opts("-map_metadata -1 -c:a libmp3lame")
    args += ["-b:a", f"{bitrate_kbps}k", "-ar", str(rate), out]
    ffmpeg(*args, what="make the watermarked preview")
    return {"watermark": watermark.as_dict(), "truncated_at": length if cut else None}


def _clamp(value, low, high, default):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    if math.isnan(number):
        return default
    return min(high, max(low, number))


def loudnorm_targets() -> tuple[float, float]:
    target = float(conf.get("AUDIO_DELIVERY_TARGET_LUFS"))
    ceiling = float(conf.get("AUDIO_DELIVERY_TRUE_PEAK_DBTP")) - float(
        conf.get("AUDIO_DELIVERY_TRUE_PEAK_HEADROOM_DB")
    )
    return target, ceiling


def loudnorm_measure(src, *, demuxer, target: float, true_peak: float) -> dict:
    """Pass one of EBU R128 normalisation: ffmpeg's loudnorm measures the input."""
    measure = f"loudnorm=I={target:g}:TP={true_peak:g}:LRA=11:print_format=json"
    args = input_args(src, demuxer) + _opts("-map 0:a:0 -vn") + ["-af", measure, "-f", "null", "-"]
    proc = ffmpeg(*args, what="measure the loudness")
    return loudnorm_stats(proc.stderr.decode("utf-8", "replace"))


def loudnorm_apply(
    src, *, demuxer, out_wav, measured: dict, target: float, true_peak: float, channels: int | None
) -> dict:
    """Pass two: normalise linearly with the measured values (loudnorm falls back to its dynamic
    mode, a gentle limiter, when linear gain would break the true-peak ceiling), then resample to
    44.1 kHz and dither to 16-bit WAV."""
    measured_i = _clamp(measured.get("input_i"), -99, 0, -99)
    measured_tp = _clamp(measured.get("input_tp"), -99, 99, 0)
    measured_lra = _clamp(measured.get("input_lra"), 0, 99, 0)
    measured_thresh = _clamp(measured.get("input_thresh"), -99, 0, -70)
    offset = _clamp(measured.get("target_offset"), -99, 99, 0)
    lra_target = min(50.0, max(11.0, math.ceil(measured_lra + 1)))
    chain = (
        f"loudnorm=I={target:g}:TP={true_peak:g}:LRA={lra_target:g}"
        f":measured_I={measured_i:g}:measured_TP={measured_tp:g}:measured_LRA={measured_lra:g}"
        f":measured_thresh={measured_thresh:g}:offset={offset:g}:linear=true:print_format=json,"
        f"aresample=osr={OUTPUT_RATE}:osf=s16:dither_method=triangular_hp"
    )
    args = input_args(src, demuxer) + _opts("-map 0:a:0 -map_metadata -1 -vn") + ["-af", chain]
    args += ["-ac", _channels(channels), "-ar", str(OUTPUT_RATE), "-c:a", "pcm_s16le", out_wav]
    proc = ffmpeg(*args, what="normalise the loudness")
    stats = loudnorm_stats(proc.stderr.decode("utf-8", "replace"))
    stats["lra_target"] = lra_target
    return stats


def delivery_encodes(wav, *, mp3_out, flac_out) -> None:
    """MP3 320 kbps and FLAC from the normalised 16-bit master, in one run."""
    args = input_args(wav, "wav")
    args += [*_opts("-map 0:a:0 -c:a libmp3lame -b:a 320k"), mp3_out]
    args += [*_opts("-map 0:a:0 -c:a flac -compression_level 5"), flac_out]
    ffmpeg(*args, what="make the delivery files")
