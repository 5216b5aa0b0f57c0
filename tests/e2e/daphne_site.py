"""The site under daphne in a process of its own, for browser tests that need websockets
(pytest-django's live server is WSGI): the embedded defaults (a SQLite file and the embedded
Redis server) in a temporary var/ folder, as `make run` serves it."""

import contextlib
from pathlib import Path

from tests.config.test_live_events_across_processes import (
    BIN,
    embedded_process_env,
    free_port,
    run,
    start,
    stop,
    wait_until_serving,
)


def daphne_env(tmp_path: Path) -> dict:
    """The environment of the site's processes: embedded defaults under ``tmp_path``."""
    return {
        **embedded_process_env(tmp_path),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "CELERY_TASK_ALWAYS_EAGER": "true",
        # Static files from the finders, as on a fresh clone where collectstatic never ran.
        "DEBUG": "true",
    }


@contextlib.contextmanager
def daphne_serving(env: dict, tmp_path: Path):
    """daphne serving config.asgi on a free port; yields (base url, log path). Stops daphne
    and the embedded Redis server at the end."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "daphne.log"
    web = start(
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        env,
        log,
    )
    try:
        wait_until_serving(url, web, log)
        yield url, log
    finally:
        stop(web)
        run([str(BIN / "python"), "-m", "core.embedded_redis", "stop"], env, timeout=60)
