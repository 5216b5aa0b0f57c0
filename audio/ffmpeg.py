"""Finding and running ffmpeg, probing media (with ffprobe, or ffmpeg alone) and decoding to numpy.

The binary is ``FFMPEG_BINARY`` (setting or environment), else ``ffmpeg`` on PATH, else the one
shipped in the imageio-ffmpeg wheel. That wheel has no ffprobe, so :func:`probe` falls back to
reading ``ffmpeg -i``'s description of the input when no ffprobe is found.
"""

import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import asdict, dataclass

import imageio_ffmpeg
import numpy as np

from audio import conf
from audio.errors import CorruptMedia, ProcessingFailed, ToolMissing, TransientMediaError

logger = logging.getLogger(__name__)

# ffmpeg messages meaning "the machine had a problem", not "the file is bad": worth a retry.
_TRANSIENT_MARKERS = (
    "No space left on device",
    "Cannot allocate memory",
    "Resource temporarily unavailable",
    "Too many open files",
    "Input/output error",
)


def ffmpeg_binary() -> str:
    configured = conf.ffmpeg_binary_setting()
    if configured:
        return configured
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:  # the wheel has no binary for this platform
        raise ToolMissing("The audio tools (ffmpeg) are not installed on the server.") from None


def ffprobe_binary() -> str | None:
    """``FFPROBE_BINARY``, else an ffprobe next to the ffmpeg in use, else on PATH, else None."""
    configured = conf.ffprobe_binary_setting()
    if configured:
        return configured
    ffmpeg = ffmpeg_binary()
    directory, name = os.path.split(ffmpeg)
    if directory and name.startswith("ffmpeg"):
        sibling = os.path.join(directory, "ffprobe" + name[len("ffmpeg") :])
        if os.path.isfile(sibling) and os.access(sibling, os.X_OK):
            return sibling
    return shutil.which("ffprobe")


def input_args(path, demuxer: str | None = None) -> list[str]:
    """Read ``path`` from local files only, with the demuxer the content was sniffed as."""
    args = ["-protocol_whitelist", "file,pipe"]
    if demuxer:
        args += ["-f", demuxer]
    return [*args, "-i", str(path)]


def _timeout(timeout: float | None) -> float:
    return float(timeout or conf.get("AUDIO_FFMPEG_TIMEOUT_SECONDS"))


def _last_lines(text: str, count: int = 4) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-count:])


def failure_for(returncode: int, stderr: str, *, what: str) -> Exception:
    """Classify a failed ffmpeg run: transient (retry) or a processing failure (give up)."""
    detail = _last_lines(stderr)
    if returncode < 0 or any(marker in stderr for marker in _TRANSIENT_MARKERS):
        return TransientMediaError(f"{what}: ffmpeg exited with {returncode}: {detail}")
    return ProcessingFailed(f"We could not {what}.", detail=detail)


def run(args: list[str], *, what: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run a tool; raise on a non-zero exit (see :func:`failure_for`). TimeoutExpired propagates."""
    try:
        proc = subprocess.run(  # noqa: S603 - argument list, no shell
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=_timeout(timeout),
            check=False,
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise ToolMissing(
            "The audio tools (ffmpeg) are not available on the server.", detail=str(exc)
        ) from None
    if proc.returncode != 0:
        raise failure_for(proc.returncode, proc.stderr.decode("utf-8", "replace"), what=what)
    return proc


def ffmpeg(*args: str, what: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    return run(
        [ffmpeg_binary(), "-nostdin", "-hide_banner", "-nostats", "-y", *args],
        what=what,
        timeout=timeout,
    )


# --- probing --------------------------------------------------------------------------------


class ProbeFailed(CorruptMedia):
    """ffprobe/ffmpeg could not read the file, or it holds no audio stream."""

    def __init__(self, reason: str, *, no_audio: bool = False, detail: str = ""):
        super().__init__(reason, detail=detail)
        self.no_audio = no_audio


@dataclass
class ProbeResult:
    container: str  # ffmpeg's format name, e.g. "mp3" or "mov,mp4,m4a,3gp,3g2,mj2"
    codec: str
    sample_rate: int | None
    channels: int | None
    bit_rate: int | None  # bits per second
    duration: float | None  # seconds, as the header announces it
    has_video: bool  # a real video stream (cover art does not count)
    tool: str  # "ffprobe" or "ffmpeg"

    def as_dict(self) -> dict:
        return asdict(self)


def _int(value) -> int | None:
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) and number >= 0 else None


def _probe_with_ffprobe(binary: str, path, demuxer: str | None, timeout) -> ProbeResult:
    args = [binary, "-v", "error", "-protocol_whitelist", "file,pipe"]
    if demuxer:
        args += ["-f", demuxer]
    args += ["-show_format", "-show_streams", "-of", "json", str(path)]
    try:
        proc = run(args, what="read the audio file", timeout=timeout)
    except ProcessingFailed as exc:
        raise ProbeFailed("The file could not be read as audio.", detail=exc.detail) from None
    try:
        data = json.loads(proc.stdout.decode("utf-8", "replace") or "{}")
    except ValueError:
        raise ProbeFailed("The file could not be read as audio.") from None
    streams = data.get("streams") or []
    fmt = data.get("format") or {}
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    has_video = any(
        s.get("codec_type") == "video" and not (s.get("disposition") or {}).get("attached_pic")
        for s in streams
    )
    if audio is None:
        raise ProbeFailed("The file holds no audio.", no_audio=True)
    return ProbeResult(
        container=fmt.get("format_name", ""),
        codec=audio.get("codec_name", ""),
        sample_rate=_int(audio.get("sample_rate")),
        channels=_int(audio.get("channels")),
        bit_rate=_int(audio.get("bit_rate")) or _int(fmt.get("bit_rate")),
        duration=_float(audio.get("duration")) or _float(fmt.get("duration")),
        has_video=has_video,
        tool="ffprobe",
    )


_INPUT_RE = re.compile(r"^Input #0, (?P<container>[^ ]+?), from ", re.M)
_DURATION_RE = re.compile(
    r"Duration: (?:(?P<h>\d+):(?P<m>\d{2}):(?P<s>\d{2}(?:\.\d+)?)|N/A)"
    r"(?:, start: [-\d.]+)?(?:, bitrate: (?:(?P<kbps>\d+) kb/s|N/A))?"
)
_STREAM_RE = re.compile(
    r"^\s*Stream #0:\d+(?:\[0x[0-9a-fA-F]+\])?(?:\([^)]*\))?: "
    r"(?P<type>Audio|Video|Subtitle|Data|Attachment): "
    r"(?P<desc>.*)$",
    re.M,
)
_LAYOUT_CHANNELS = {
    "mono": 1,
    "stereo": 2,
    "2.1": 3,
    "3.0": 3,
    "3.1": 4,
    "4.0": 4,
    "quad": 4,
    "4.1": 5,
    "5.0": 5,
    "5.1": 6,
    "6.0": 6,
    "6.1": 7,
    "7.0": 7,
    "7.1": 8,
    "hexagonal": 6,
    "octagonal": 8,
}


def parse_ffmpeg_description(stderr: str) -> ProbeResult:
    """Read container, duration and the first audio stream from ``ffmpeg -i``'s stderr."""
    container = _INPUT_RE.search(stderr)
    if not container:
        raise ProbeFailed("The file could not be read as audio.", detail=_last_lines(stderr))
    duration = None
    total_kbps = None
    match = _DURATION_RE.search(stderr)
    if match:
        if match.group("h") is not None:
            duration = (
                int(match.group("h")) * 3600 + int(match.group("m")) * 60 + float(match.group("s"))
            )
        if match.group("kbps"):
            total_kbps = int(match.group("kbps"))
    audio_desc = None
    has_video = False
    for stream in _STREAM_RE.finditer(stderr):
        if stream.group("type") == "Audio" and audio_desc is None:
            audio_desc = stream.group("desc")
        elif stream.group("type") == "Video" and "(attached pic)" not in stream.group("desc"):
            has_video = True
    if audio_desc is None:
        raise ProbeFailed("The file holds no audio.", no_audio=True)
    codec = re.match(r"[\w-]+", audio_desc)
    rate = re.search(r"(\d+) Hz", audio_desc)
    channels = None
    after_rate = audio_desc.split(" Hz, ", 1)[1] if " Hz, " in audio_desc else ""
    layout = after_rate.split(",", 1)[0].strip()
    if layout:
        count = re.match(r"(\d+) channels", layout)
        channels = int(count.group(1)) if count else _LAYOUT_CHANNELS.get(layout.split("(")[0])
    kbps = re.search(r"(\d+) kb/s", audio_desc)
    bit_rate = int(kbps.group(1)) * 1000 if kbps else (total_kbps * 1000 if total_kbps else None)
    return ProbeResult(
        container=container.group("container"),
        codec=codec.group(0) if codec else "",
        sample_rate=int(rate.group(1)) if rate else None,
        channels=channels,
        bit_rate=bit_rate,
        duration=duration,
        has_video=has_video,
        tool="ffmpeg",
    )


def _probe_with_ffmpeg(path, demuxer: str | None, timeout) -> ProbeResult:
    args = [ffmpeg_binary(), "-nostdin", "-hide_banner", *input_args(path, demuxer)]
    try:
        proc = subprocess.run(  # noqa: S603
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=_timeout(timeout),
            check=False,
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise ToolMissing(
            "The audio tools (ffmpeg) are not available on the server.", detail=str(exc)
        ) from None
    # Without an output ffmpeg always exits with 1; the description is what we want.
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode < 0 or any(marker in stderr for marker in _TRANSIENT_MARKERS):
        raise TransientMediaError(f"ffmpeg probe exited with {proc.returncode}")
    return parse_ffmpeg_description(stderr)


def probe(path, *, demuxer: str | None = None, timeout: float | None = None) -> ProbeResult:
    """Describe the media at ``path``; raises :class:`ProbeFailed` when it is not readable audio."""
    binary = ffprobe_binary()
    if binary:
        return _probe_with_ffprobe(binary, path, demuxer, timeout)
    return _probe_with_ffmpeg(path, demuxer, timeout)


# --- decoding -------------------------------------------------------------------------------


class PcmDecoder:
    """Decode the first audio stream to float32 frames, streamed in chunks of ``(n, channels)``.

    ``with PcmDecoder(...) as decoder: for block in decoder: ...``; afterwards ``decoder.errors``
    holds the decoder's complaints (ffmpeg ``-loglevel error`` lines). A failing ffmpeg raises at
    the end of the iteration (:func:`failure_for`); a run past ``timeout`` raises TimeoutExpired.
    """

    def __init__(
        self,
        path,
        *,
        sample_rate: int,
        channels: int,
        demuxer: str | None = None,
        start: float | None = None,
        duration: float | None = None,
        chunk_frames: int = 1 << 16,
        timeout: float | None = None,
        what: str = "decode the audio",
    ):
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.chunk_frames = chunk_frames
        self.timeout = _timeout(timeout)
        self.what = what
        self.errors: list[str] = []
        self.frames = 0
        args = [ffmpeg_binary(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error"]
        if start:
            args += ["-ss", f"{start:.3f}"]
        args += input_args(path, demuxer)
        if duration:
            args += ["-t", f"{duration:.3f}"]
        args += ["-map", "0:a:0", "-vn", "-sn", "-dn"]
        args += ["-ac", str(self.channels), "-ar", str(self.sample_rate)]
        args += ["-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]
        self._args = args
        self._proc = None
        self._stderr = None
        self._timer = None
        self._timed_out = False

    def __enter__(self):
        self._stderr = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(  # noqa: S603
                self._args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr
            )
        except (FileNotFoundError, PermissionError) as exc:
            self._stderr.close()
            raise ToolMissing(
                "The audio tools (ffmpeg) are not available on the server.", detail=str(exc)
            ) from None
        self._timer = threading.Timer(self.timeout, self._kill_for_timeout)
        self._timer.daemon = True
        self._timer.start()
        return self

    def _kill_for_timeout(self):
        self._timed_out = True
        if self._proc and self._proc.poll() is None:
            self._proc.kill()

    def __iter__(self):
        frame_bytes = 4 * self.channels
        want = self.chunk_frames * frame_bytes
        leftover = b""
        stdout = self._proc.stdout
        while True:
            data = stdout.read(want)
            if not data:
                break
            data = leftover + data
            usable = len(data) - len(data) % frame_bytes
            leftover = data[usable:]
            if usable:
                block = np.frombuffer(data[:usable], dtype="<f4").reshape(-1, self.channels)
                self.frames += len(block)
                yield block
        returncode = self._proc.wait()
        self._timer.cancel()
        self._stderr.seek(0)
        stderr = self._stderr.read().decode("utf-8", "replace")
        self.errors = [line for line in stderr.splitlines() if line.strip()]
        if self._timed_out:
            raise subprocess.TimeoutExpired(self._args, self.timeout)
        if returncode != 0:
            raise failure_for(returncode, stderr, what=self.what)

    def __exit__(self, *exc_info):
        if self._timer:
            self._timer.cancel()
        if self._proc:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.stdout.close()
            self._proc.wait()
        if self._stderr:
            self._stderr.close()
        return False


def decode_array(path, *, sample_rate: int, channels: int = 1, **kwargs) -> np.ndarray:
    """The whole (or a window of the) decoded signal as one float32 array ``(n, channels)``."""
    with PcmDecoder(path, sample_rate=sample_rate, channels=channels, **kwargs) as decoder:
        blocks = list(decoder)
    if not blocks:
        return np.zeros((0, channels), dtype=np.float32)
    return np.concatenate(blocks)


def loudnorm_stats(stderr: str) -> dict:
    """The JSON block ffmpeg's loudnorm filter prints with ``print_format=json``."""
    start = stderr.rfind("{")
    end = stderr.rfind("}")
    if start < 0 or end < start:
        raise ProcessingFailed("We could not measure the loudness.", detail=_last_lines(stderr))
    try:
        raw = json.loads(stderr[start : end + 1])
    except ValueError:
        raise ProcessingFailed(
            "We could not measure the loudness.", detail=_last_lines(stderr)
        ) from None
    stats = {}
    for key, value in raw.items():
        try:
            stats[key] = float(value)
        except (TypeError, ValueError):
            stats[key] = value  # "-inf" parses as float; normalization_type stays a string
    return stats
