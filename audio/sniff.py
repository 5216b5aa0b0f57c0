"""Recognising audio containers from their first bytes (never from the file name).

Each recognised format maps to the ffmpeg demuxer that must read it: probing and decoding then
force that demuxer (``-f``), so a file cannot smuggle a playlist, a concat list or a video in
through ffmpeg's own guessing.
"""

from dataclasses import dataclass

# MPEG-1/2/2.5 Layer III bitrates (kbps) by version family and index.
_MP3_BITRATES = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_MP3_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_ADTS_SAMPLE_RATES = (
    96000,
    88200,
    64000,
    48000,
    44100,
    32000,
    24000,
    22050,
    16000,
    12000,
    11025,
    8000,
    7350,
)
_MP4_BRANDS_AUDIO = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}

SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class MediaKind:
    format: str  # our name: mp3, wav, m4a, aac, flac, ogg
    demuxer: str  # ffmpeg's -f
    extension: str
    content_type: str
    # ffprobe/ffmpeg format names that are consistent with this kind
    container_names: tuple[str, ...]


KINDS = {
    "mp3": MediaKind("mp3", "mp3", "mp3", "audio/mpeg", ("mp3",)),
    "wav": MediaKind("wav", "wav", "wav", "audio/wav", ("wav",)),
    "flac": MediaKind("flac", "flac", "flac", "audio/flac", ("flac",)),
    "ogg": MediaKind("ogg", "ogg", "ogg", "audio/ogg", ("ogg",)),
    "m4a": MediaKind("m4a", "mov", "m4a", "audio/mp4", ("mov", "mp4", "m4a", "3gp", "3g2", "mj2")),
    "aac": MediaKind("aac", "aac", "aac", "audio/aac", ("aac",)),
}


def kind_for_format(fmt: str) -> MediaKind:
    """The kind stored on an asset (its ``format``) back to how ffmpeg must read it."""
    return KINDS[fmt]


def _id3v2_size(head: bytes) -> int:
    """Bytes taken by a leading ID3v2 tag (header, body, optional footer), or 0."""
    if len(head) < 10 or head[:3] != b"ID3" or head[3] == 0xFF or head[4] == 0xFF:
        return 0
    size_bytes = head[6:10]
    if any(b & 0x80 for b in size_bytes):
        return 0
    size = (size_bytes[0] << 21) | (size_bytes[1] << 14) | (size_bytes[2] << 7) | size_bytes[3]
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def _mp3_frame_length(header: bytes) -> int | None:
    """Length of the MPEG Layer III frame starting with ``header``, or None if it is not one."""
    if len(header) < 4 or header[0] != 0xFF or (header[1] & 0xE0) != 0xE0:
        return None
    version_bits = (header[1] >> 3) & 0x03  # 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
    layer_bits = (header[1] >> 1) & 0x03  # 1: Layer III
    if version_bits == 1 or layer_bits != 1:
        return None
    bitrate_index = header[2] >> 4
    rate_index = (header[2] >> 2) & 0x03
    if bitrate_index in (0, 15) or rate_index == 3:  # free format is not accepted
        return None
    padding = (header[2] >> 1) & 0x01
    family = 1 if version_bits == 3 else 2
    bitrate = _MP3_BITRATES[family][bitrate_index] * 1000
    sample_rate = _MP3_SAMPLE_RATES[version_bits][rate_index]
    samples = 1152 if version_bits == 3 else 576
    return samples // 8 * bitrate // sample_rate + padding


def _adts_frame_length(header: bytes) -> int | None:
    if len(header) < 7 or header[0] != 0xFF or (header[1] & 0xF6) != 0xF0:
        return None
    if ((header[2] >> 2) & 0x0F) >= len(_ADTS_SAMPLE_RATES):
        return None
    length = ((header[3] & 0x03) << 11) | (header[4] << 3) | (header[5] >> 5)
    return length if length >= 7 else None


def _frames_chain(data: bytes, start: int, frame_length, needed: int = 3) -> bool:
    """True when ``needed`` consecutive valid frames start at ``start`` (or the data ends first)."""
    position, found = start, 0
    while found < needed:
        if position >= len(data) - 8:
            return found >= 1  # a very short file: one whole frame is enough
        length = frame_length(data[position : position + 8])
        if not length:
            return False
        found += 1
        position += length
    return True


def sniff(read_at) -> MediaKind | None:
    """Recognise the container. ``read_at(offset, size) -> bytes`` reads from the upload."""
    head = read_at(0, SNIFF_BYTES)
    if len(head) < 12:
        return None
    if head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE":
        return KINDS["wav"]
    if head[:4] == b"OggS" and head[4] == 0:
        return KINDS["ogg"]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        compatible = head[16 : int.from_bytes(head[:4], "big")]
        generic = (b"mp42", b"mp41", b"isom", b"iso2", b"dash")  # audio or video: ffprobe decides
        if (
            brand in _MP4_BRANDS_AUDIO
            or brand in generic
            or any(compatible[i : i + 4] in _MP4_BRANDS_AUDIO for i in range(0, len(compatible), 4))
        ):
            return KINDS["m4a"]
        return None
    if head[:4] == b"fLaC":
        return KINDS["flac"]

    # MP3 and raw AAC may start with an ID3v2 tag (cover art can make it megabytes long).
    offset = _id3v2_size(head)
    body = head[offset:] if offset < len(head) else read_at(offset, SNIFF_BYTES)
    if body[:4] == b"fLaC":
        return KINDS["flac"]
    # Skip zero padding some taggers leave after the tag.
    skip = 0
    while skip < min(len(body), 4096) and body[skip] == 0:
        skip += 1
    body = body[skip:]
    if _mp3_frame_length(body[:4]) and _frames_chain(body, 0, _mp3_frame_length):
        return KINDS["mp3"]
    if _adts_frame_length(body[:7]) and _frames_chain(body, 0, _adts_frame_length):
        return KINDS["aac"]
    return None


def sniff_path(path) -> MediaKind | None:
    with open(path, "rb") as handle:

        def read_at(offset, size):
            handle.seek(offset)
            return handle.read(size)

        return sniff(read_at)
