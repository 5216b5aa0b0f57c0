"""Streaming benchmark: ranged GETs of one MP3 through three paths, in one run.

    .venv/bin/python bench/stream.py [--requests 40] [--seconds 600]

- django: our stream path served by Django. ``GET /api/songs/{id}/stream`` on a daphne server
  (as ``make serve`` runs it) answers 302 to a signed link, and Django streams the ranged bytes
  (``audio.views.media_serve``);
- x-accel: the same two requests through nginx, which proxies to a second daphne with
  ``MEDIA_ACCEL_REDIRECT=true``: Django checks the signed link and answers ``X-Accel-Redirect``;
  nginx sends the bytes from an internal location over MEDIA_ROOT (as deploy/nginx.conf does);
- static: nginx serving the same file as a plain static file (the baseline).

Each request asks an open-ended range ``bytes=N-`` from a random offset in the file's first
quarter (a player seeking), over one keep-alive connection per path; the paths take turns, so
background load falls on all three alike. Printed per path: the stream API's redirect
(p50/p95), time to first byte of the ranged GET (p50/p95), and throughput (median MB/s) two
ways: transfer (bytes after the first one, over the time after it: how fast the server sends)
and whole request (TTFB included, so Django's check of the signed link counts); then the ratios
to static nginx. Goal: x-accel transfer throughput >= 0.9x static nginx (the bytes go the same
way as static files; what Django adds is the TTFB, shown separately).

Everything is temporary: a SQLite database (tables made from the models), a media folder with
one song (artist, asset, 160 kbps rendition) written through the ORM, ENCORE_VAR_DIR, the nginx
configuration, its logs and its temp folders; both servers and nginx run as child processes on
free ports and are stopped at the end. nginx is installed with apt-get when missing (through
sudo when not root).
"""

import argparse
import hashlib
import http.client
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
VENV_BIN = Path(sys.executable).parent

WORK = Path(tempfile.mkdtemp(prefix="encore-bench-stream-"))
MEDIA = WORK / "media"
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "ENCORE_VAR_DIR": str(WORK / "var"),
    "MEDIA_ROOT": str(MEDIA),
    "DATABASE_URL": f"sqlite:///{WORK / 'bench.sqlite3'}",
    "MEDIA_ACCEL_PREFIX": "/protected-media/",
    "LOG_LEVEL": "WARNING",
    "DEBUG": "false",
}
for _name in ("REDIS_URL", "AWS_STORAGE_BUCKET_NAME", "MEDIA_ACCEL_REDIRECT"):
    os.environ.pop(_name, None)
os.environ.update(SERVER_ENV)

CHUNK = 1024 * 1024
# Between requests, so the servers' work after one answer (Django freeing a 12 MB body, say)
# does not land on the next path's measurement; shuffled order per round does the rest.
PAUSE = 0.03
CHILDREN: list[subprocess.Popen] = []


# --- setup ------------------------------------------------------------------------------------


def nginx_binary() -> str:
    """nginx on PATH (or in /usr/sbin), installed with apt-get when missing."""
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    if not shutil.which("apt-get"):
        sys.exit("bench/stream.py needs nginx: install it with your package manager")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    print("installing nginx with apt-get")
    subprocess.run([*sudo, "apt-get", "update", "-q"], check=True, env=env)
    for package in ("nginx-light", "nginx"):
        done = subprocess.run([*sudo, "apt-get", "install", "-y", "-q", package], env=env)
        if done.returncode == 0:
            break
    else:
        sys.exit("could not install nginx with apt-get")
    _stop_packaged_nginx(sudo)
    return shutil.which("nginx") or "/usr/sbin/nginx"


def _stop_packaged_nginx(sudo: list[str]) -> None:
    """The package's post-install may start the system nginx on port 80; the benchmark runs its
    own, so the one the install just started is stopped again (by its pid)."""
    pid_file = Path("/run/nginx.pid")
    pid = pid_file.read_text().strip() if pid_file.exists() else ""
    if pid.isdigit():
        subprocess.run([*sudo, "kill", "-QUIT", pid], check=False, capture_output=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_mp3(path: Path, seconds: float) -> Path:
    """A stereo MP3 at 160 kbps (the rung a free listener gets), a few MB."""
    from audio.ffmpeg import ffmpeg_binary

    source = (
        f"sine=frequency=220:duration={seconds}:sample_rate=44100,"
        f"volume=0.4,aformat=channel_layouts=stereo"
    )
    subprocess.run(
        [ffmpeg_binary(), "-v", "error", "-y", "-f", "lavfi", "-i", source]
        + ["-c:a", "libmp3lame", "-b:a", "160k", str(path)],
        check=True,
    )
    return path


class _NoMigrations(dict):
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


def prepare(seconds: float) -> tuple[str, str, int]:
    """Tables, and one public song whose 160 kbps rendition is the file under test.
    Returns (song id, the rendition's storage name, its size)."""
    import django

    django.setup()
    from django.conf import settings
    from django.core.files import File
    from django.core.management import call_command

    from accounts.models import User
    from audio.models import AudioAsset, Rendition
    from catalog.models import Song
    from catalog.services import artist_ensure

    settings.MIGRATION_MODULES = _NoMigrations()  # tables straight from the models: fast
    call_command("migrate", run_syncdb=True, verbosity=0, interactive=False)
    mp3 = make_mp3(WORK / "track.mp3", seconds)
    digest = hashlib.sha256(mp3.read_bytes()).hexdigest()
    user = User.objects.create_user(
        email="bench@example.com", password=None, is_musician=True, display_name="Bench"
    )
    artist = artist_ensure(user=user)
    with mp3.open("rb") as handle:
        asset = AudioAsset.objects.create(
            owner=user,
            purpose=AudioAsset.Purpose.CATALOG,
            original=File(handle, name="original.mp3"),
            original_name="track.mp3",
            format=AudioAsset.Format.MP3,
            sha256=digest,
            size=mp3.stat().st_size,
            status=AudioAsset.Status.READY,
            duration=seconds,
            bitrate=160_000,
        )
        handle.seek(0)
        rendition = Rendition.objects.create(
            asset=asset,
            kind=Rendition.Kind.MP3_160,
            file=File(handle, name="mp3_160.mp3"),
            content_type="audio/mpeg",
            bitrate=160_000,
            size=mp3.stat().st_size,
            duration=seconds,
        )
    song = Song.objects.create(
        artist=artist, title="Bench track", asset=asset, duration=seconds, artist_name=artist.name
    )
    return str(song.pk), rendition.file.name, rendition.size


def start_daphne(port: int, *, accel: bool) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV, "MEDIA_ACCEL_REDIRECT": "true" if accel else "false"}
    process = subprocess.Popen(
        [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(WORK / f"daphne-{port}.log", "wb"),  # noqa: SIM115  (closed with the process)
    )
    CHILDREN.append(process)
    return process


NGINX_CONF = """
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    client_body_temp_path {work}/nginx-tmp/body;
    proxy_temp_path {work}/nginx-tmp/proxy;
    fastcgi_temp_path {work}/nginx-tmp/fastcgi;
    uwsgi_temp_path {work}/nginx-tmp/uwsgi;
    scgi_temp_path {work}/nginx-tmp/scgi;
    types {{ audio/mpeg mp3; application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
    default_type application/octet-stream;
    upstream django {{ server 127.0.0.1:{django_port}; keepalive 8; }}

    server {{   # (b) Django decides, nginx sends the bytes (deploy/nginx.conf's arrangement)
        listen 127.0.0.1:{accel_port};
        location /protected-media/ {{
            internal;
            alias {media}/;
        }}
        location / {{
            proxy_pass http://django;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
        }}
    }}

    server {{   # (c) the same file as a plain static file: the baseline
        listen 127.0.0.1:{static_port};
        location /static-media/ {{
            alias {media}/;
        }}
    }}
}}
"""


def start_nginx(binary: str, *, django_port: int, accel_port: int, static_port: int):
    (WORK / "nginx-tmp").mkdir()
    conf = WORK / "nginx.conf"
    conf.write_text(
        NGINX_CONF.format(
            work=WORK,
            media=MEDIA,
            django_port=django_port,
            accel_port=accel_port,
            static_port=static_port,
        )
    )
    # nginx's workers drop to an unprivileged user when started as root: let them read.
    for folder in [WORK, *MEDIA.rglob("*")]:
        folder.chmod(folder.stat().st_mode | 0o755 if folder.is_dir() else 0o644)
    command = [binary, "-p", str(WORK), "-c", str(conf), "-e", str(WORK / "nginx-error.log")]
    subprocess.run([*command, "-t", "-q"], check=True)
    process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    CHILDREN.append(process)
    return process


def wait_listening(port: int, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{what} exited with {process.returncode} (logs in {WORK})")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{what} did not answer on port {port} within {timeout:.0f}s")


def cleanup() -> None:
    for process in reversed(CHILDREN):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM if "daphne" in str(process.args) else signal.SIGQUIT)
    for process in CHILDREN:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if (WORK / "var" / "redis").exists():  # started by a server process: stop it too
        subprocess.run(
            [sys.executable, "-m", "core.embedded_redis", "stop"],
            cwd=ROOT,
            env={**os.environ, **SERVER_ENV},
            capture_output=True,
        )
    shutil.rmtree(WORK, ignore_errors=True)


# --- measuring --------------------------------------------------------------------------------


class Route:
    """One way to the file: an optional stream-API hop, then the ranged GET."""

    def __init__(self, name: str, port: int, *, song_id: str | None, static_url: str | None):
        self.name = name
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.song_id = song_id
        self.static_url = static_url
        self.redirects: list[float] = []
        self.ttfb: list[float] = []
        self.transfer: list[float] = []  # MB/s after the first byte: how fast bytes flow
        self.whole: list[float] = []  # MB/s from sending the request: TTFB included

    def link(self) -> str:
        if self.static_url:
            return self.static_url
        began = time.perf_counter()
        self.connection.request("GET", f"/api/songs/{self.song_id}/stream?quality=high")
        response = self.connection.getresponse()
        response.read()
        self.redirects.append(time.perf_counter() - began)
        if response.status != 302:
            sys.exit(f"{self.name}: the stream API answered {response.status}")
        return urlsplit(response.getheader("Location")).path

    def fetch(self, url: str, offset: int, size: int, *, record: bool) -> bytes:
        began = time.perf_counter()
        self.connection.request("GET", url, headers={"Range": f"bytes={offset}-"})
        response = self.connection.getresponse()
        first = response.read1(1)  # the first byte, as soon as there is one
        arrived = time.perf_counter()
        parts = [first]
        while True:
            part = response.read1(CHUNK)
            if not part:
                break
            parts.append(part)
        ended = time.perf_counter()
        response.read()  # b"": marks the response done, so the connection takes the next one
        body = b"".join(parts)
        expected = f"bytes {offset}-{size - 1}/{size}"
        if response.status != 206 or response.getheader("Content-Range") != expected:
            sys.exit(f"{self.name}: {response.status} {response.getheader('Content-Range')}")
        if record:
            self.ttfb.append(arrived - began)
            self.transfer.append((len(body) - len(first)) / (ended - arrived) / 1e6)
            self.whole.append(len(body) / (ended - began) / 1e6)
        return body


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="ranged GETs per path")
    parser.add_argument(
        "--seconds", type=float, default=600, help="length of the MP3 (600 s: about 12 MB)"
    )
    args = parser.parse_args()

    try:
        nginx = nginx_binary()
        started = time.perf_counter()
        song_id, name, size = prepare(args.seconds)
        original = (MEDIA / name).read_bytes()
        print(
            f"file: {size / 1e6:.2f} MB MP3 (160 kbps, {args.seconds:.0f} s); "
            f"database and song ready in {time.perf_counter() - started:.1f}s"
        )
        django_port, accel_django_port, accel_port, static_port = (free_port() for _ in range(4))
        direct = start_daphne(django_port, accel=False)
        behind = start_daphne(accel_django_port, accel=True)
        web = start_nginx(
            nginx, django_port=accel_django_port, accel_port=accel_port, static_port=static_port
        )
        wait_listening(django_port, direct, "daphne")
        wait_listening(accel_django_port, behind, "daphne (X-Accel)")
        wait_listening(static_port, web, "nginx")

        paths = [
            Route("django", django_port, song_id=song_id, static_url=None),
            Route("x-accel", accel_port, song_id=song_id, static_url=None),
            Route("static", static_port, song_id=None, static_url=f"/static-media/{name}"),
        ]
        rng = random.Random(7)
        offsets = [rng.randrange(0, size // 4) for _ in range(args.requests)]
        for path in paths:  # warm: imports, connections, the page cache
            for offset in (0, size // 2, 100):
                body = path.fetch(path.link(), offset, size, record=False)
                if body != original[offset:]:
                    sys.exit(f"{path.name}: the bytes differ from the file")
        for round_ in range(args.requests):  # interleaved: background load hits every path
            for path in rng.sample(paths, len(paths)):
                link = path.link()
                time.sleep(PAUSE)
                path.fetch(link, offsets[round_], size, record=True)
                time.sleep(PAUSE)

        print(
            f"{args.requests} ranged GETs per path (bytes=N-, N in the first quarter), "
            "one keep-alive connection each"
        )
        print(
            f"{'path':8} {'redirect p50/p95 ms':>20} {'TTFB p50/p95 ms':>18}"
            f" {'transfer MB/s':>14} {'whole MB/s':>11}"
        )
        figures = {}
        for path in paths:
            ttfb50, ttfb95 = statistics.median(path.ttfb) * 1e3, p95(path.ttfb) * 1e3
            transfer, whole = statistics.median(path.transfer), statistics.median(path.whole)
            figures[path.name] = (ttfb50, transfer, whole)
            hop = (
                f"{statistics.median(path.redirects) * 1e3:8.2f} /{p95(path.redirects) * 1e3:7.2f}"
                if path.redirects
                else f"{'-':>17}"
            )
            print(
                f"{path.name:8} {hop:>20} {ttfb50:8.2f} /{ttfb95:7.2f}"
                f" {transfer:14.1f} {whole:11.1f}"
            )
        print("(MB/s are medians; transfer: after the first byte; whole: TTFB included)")
        static = figures["static"]
        for name in ("django", "x-accel"):
            ttfb, transfer, whole = figures[name]
            print(
                f"ratio {name}/static: transfer {transfer / static[1]:.2f}x, "
                f"whole request {whole / static[2]:.2f}x, TTFB {ttfb / static[0]:.1f}x"
            )
        ratio = figures["x-accel"][1] / static[1]
        verdict = "met" if ratio >= 0.9 else "NOT met"
        print(f"goal: x-accel transfer throughput >= 0.9x static nginx: {ratio:.2f}x, {verdict}")
    finally:
        cleanup()


if __name__ == "__main__":
    main()
