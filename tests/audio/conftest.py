from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audio import analysis
from audio.pipeline import steps
from tests.audio import synth


@pytest.fixture(scope="session", autouse=True)
def _librosa_warm():
    """Compile (or load from NUMBA_CACHE_DIR) librosa's numba kernels once per test session."""
    analysis.warm_up()


class Sources:
    """Synthesised recordings, made once per session and shared read-only by the tests."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._made = {}

    def _make(self, name, build):
        if name not in self._made:
            path = self.folder / name
            build(path)
            self._made[name] = path
        return self._made[name]

    @property
    def music_wav(self):
        return self._make("music.wav", lambda p: synth.write_wav(p, synth.music(6.0), 44100))

    @property
    def music_mp3(self):
        return self._make(
            "music.mp3",
            lambda p: synth.ffmpeg_encode(self.music_wav, p, "-c:a", "libmp3lame", "-b:a", "192k"),
        )

    @property
    def music_flac(self):
        return self._make(
            "music.flac", lambda p: synth.ffmpeg_encode(self.music_wav, p, "-c:a", "flac")
        )

    @property
    def music_m4a(self):
        return self._make(
            "music.m4a",
            lambda p: synth.ffmpeg_encode(self.music_wav, p, "-c:a", "aac", "-b:a", "128k"),
        )

    @property
    def music_ogg(self):
        return self._make(
            "music.ogg", lambda p: synth.ffmpeg_encode(self.music_wav, p, "-c:a", "libvorbis")
        )

    @property
    def long_mp3(self):
        """20 s, long enough for several HLS segments and cut-off tests."""

        def build(path):
            wav = self.folder / "long.wav"
            synth.write_wav(wav, synth.music(20.0, seed=3), 44100)
            synth.ffmpeg_encode(wav, path, "-c:a", "libmp3lame", "-b:a", "192k")

        return self._make("long.mp3", build)


@pytest.fixture(scope="session")
def sources(tmp_path_factory):
    return Sources(tmp_path_factory.mktemp("audio-sources"))


def upload_of(path, name=None, content_type="application/octet-stream"):
    path = Path(path)
    return SimpleUploadedFile(name or path.name, path.read_bytes(), content_type=content_type)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run on-commit callbacks (the Celery chain, progress pushes) as the block exits."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def progress_events(monkeypatch):
    """Every audio.progress event pushed, in order."""
    events = []
    monkeypatch.setattr(
        steps, "user_event_push", lambda *, user_id, event: events.append((user_id, event))
    )
    return events


def media_files(settings):
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
