"""File handling through Django's storage API only, so the same code runs on local files and S3.

Names are chosen by the pipeline (``audio/<asset id>/...``, :func:`asset_folder`) and must be
kept exactly, because HLS playlists refer to their segments by relative name: :func:`put_file`
replaces an existing file instead of letting the storage pick another name.
"""

import contextlib
import os
import posixpath
import shutil
import tempfile
from contextlib import contextmanager

from django.core.files import File
from storages.backends.s3 import S3Storage

from audio.errors import TransientMediaError

CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".ogg": "audio/ogg",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "audio/mp4",
}


def content_type_for(name: str) -> str:
    """The type a stored file is served as, by its extension (the pipeline names every file)."""
    return CONTENT_TYPES.get(posixpath.splitext(name)[1].lower(), "application/octet-stream")


def asset_folder(asset) -> str:
    """Where every file of an asset lives: deleting the asset deletes this folder."""
    return f"audio/{asset.pk}"


def is_local(storage) -> bool:
    """Whether files have a path on this machine (FileSystemStorage and friends)."""
    try:
        storage.path("probe")
    except NotImplementedError:
        return False
    return True


def is_s3(storage) -> bool:
    return isinstance(storage, S3Storage)


@contextmanager
def local_path(storage, name: str, *, suffix: str = ""):
    """A path on this machine holding the file ``name``: the file itself when the storage is
    local, else a temporary download removed on exit."""
    if is_local(storage):
        path = storage.path(name)
        if not os.path.exists(path):
            raise FileNotFoundError(name)
        yield path
        return
    handle, path = tempfile.mkstemp(
        suffix=suffix or os.path.splitext(name)[1], prefix="encore-audio-"
    )
    try:
        with os.fdopen(handle, "wb") as target, storage.open(name, "rb") as source:
            shutil.copyfileobj(source, target, 1 << 20)
        yield path
    finally:
        os.unlink(path)


def put_file(storage, name: str, path) -> int:
    """Store the local file ``path`` at exactly ``name`` (replacing what is there); its size."""
    if storage.exists(name):
        storage.delete(name)
    with open(path, "rb") as handle:
        saved = storage.save(name, File(handle, name=posixpath.basename(name)))
    if saved != name:
        # Someone else wrote the same name in between: let the step run again.
        storage.delete(saved)
        raise TransientMediaError(f"storage stored {name!r} as {saved!r}")
    return os.path.getsize(path)


def put_tree(storage, folder: str, directory) -> tuple[list[str], int]:
    """Store every file below the local ``directory`` under ``folder``; (names, total bytes)."""
    names, total = [], 0
    for root, _dirs, files in os.walk(directory):
        for filename in sorted(files):
            path = os.path.join(root, filename)
            relative = os.path.relpath(path, directory).replace(os.sep, "/")
            name = f"{folder}/{relative}"
            total += put_file(storage, name, path)
            names.append(name)
    return names, total


def delete_tree(storage, folder: str) -> None:
    """Delete every file below ``folder`` (missing folders are fine)."""
    try:
        directories, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for filename in files:
        storage.delete(f"{folder}/{filename}")
    for directory in directories:
        delete_tree(storage, f"{folder}/{directory}")
    if is_local(storage):
        with contextlib.suppress(OSError):
            os.rmdir(storage.path(folder))


def delete_quietly(storage, name: str) -> None:
    with contextlib.suppress(OSError):
        storage.delete(name)
