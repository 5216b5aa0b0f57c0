"""Live events on the embedded defaults, across real processes.

The ASGI server (daphne) and a Celery worker run as separate processes with no DATABASE_URL or
REDIS_URL, as `make run` starts them. A musician uploads a draft over HTTP; the worker runs the
media pipeline, and its progress steps reach the musician's open ws/events/ connection while the
customer's connection receives the in-app notification that the draft is ready. Both clients
send no Origin header and authenticate by token, as a phone app would.
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import websockets

from tests.audio import synth

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STARTUP_SECONDS = 60
PIPELINE_SECONDS = 180


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def embedded_process_env(tmp_path) -> dict:
    """The environment `make run` gives its processes (embedded defaults: no DATABASE_URL or
    REDIS_URL), with its own var/ folder under ``tmp_path``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        ENCORE_VAR_DIR=str(tmp_path / "var"),
        # librosa's compiled kernels are shared with the project's var/ so the worker starts warm.
        NUMBA_CACHE_DIR=env.get("NUMBA_CACHE_DIR", str(ROOT / "var" / "numba-cache")),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def embedded_env(tmp_path):
    env = {**embedded_process_env(tmp_path), "BILLING_SANDBOX": "true"}
    yield env
    subprocess.run(  # the embedded Redis server of this var/ folder
        [sys.executable, "-m", "core.embedded_redis", "stop"],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
    )


def run(args, env, **kwargs):
    return subprocess.run(
        args, cwd=ROOT, env=env, check=True, capture_output=True, text=True, **kwargs
    )


def start(args, env, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(  # noqa: S603
        args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_serving(base_url: str, web: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert web.poll() is None, f"daphne exited:\n{log.read_text()}"
        try:
            if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"daphne did not serve within {STARTUP_SECONDS} s:\n{log.read_text()}")


async def collect(url: str, until, seconds: float) -> list[dict]:
    """Every event the connection receives until `until(events)` holds."""
    events: list[dict] = []
    async with websockets.connect(url, open_timeout=10) as connection:
        hello = json.loads(await asyncio.wait_for(connection.recv(), timeout=10))
        assert hello["type"] == "hello"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not until(events):
            remaining = deadline - loop.time()
            assert remaining > 0, f"timed out; received {events}"
            events.append(json.loads(await asyncio.wait_for(connection.recv(), remaining)))
    return events


def pipeline_finished(events) -> bool:
    return any(
        e.get("type") == "audio.progress" and e.get("status") in {"ready", "failed"} for e in events
    )


def notified(events) -> bool:
    return any(e.get("type") == "notification" for e in events)


def test_the_workers_events_reach_open_pages_on_embedded_defaults(embedded_env, tmp_path):
    env = embedded_env
    run([sys.executable, "manage.py", "migrate", "--noinput"], env, timeout=300)
    ids = json.loads(
        run([sys.executable, "tests/config/live_events_setup.py"], env, timeout=120).stdout
    )
    draft = synth.write_wav(tmp_path / "draft.wav", synth.music(6.0), 44100)

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    web_log, worker_log = tmp_path / "web.log", tmp_path / "worker.log"
    worker = start(
        [str(BIN / "celery"), "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO"],
        env,
        worker_log,
    )
    web = start(
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        env,
        web_log,
    )
    try:
        wait_until_serving(base_url, web, web_log)
        ws = f"ws://127.0.0.1:{port}/ws/events/?token="

        async def journey():
            musician = asyncio.create_task(
                collect(ws + ids["musician_token"], pipeline_finished, PIPELINE_SECONDS)
            )
            customer = asyncio.create_task(
                collect(ws + ids["customer_token"], notified, PIPELINE_SECONDS)
            )
            await asyncio.sleep(1.0)  # both connections are open before the upload

            def upload():
                with draft.open("rb") as audio:
                    return requests.post(
                        f"{base_url}/api/orders/{ids['order']}/versions",
                        headers={"Authorization": f"Token {ids['musician_token']}"},
                        files={"audio": ("draft.wav", audio, "audio/wav")},
                        timeout=60,
                    )

            response = await asyncio.to_thread(upload)
            assert response.status_code == 202, response.text
            return await musician, await customer

        try:
            musician_events, customer_events = asyncio.run(journey())
        except AssertionError as failure:
            raise AssertionError(
                f"{failure}\n--- worker\n{worker_log.read_text()[-4000:]}"
                f"\n--- web\n{web_log.read_text()[-2000:]}"
            ) from None
    finally:
        stop(web)
        stop(worker)

    steps = [e["step"] for e in musician_events if e["type"] == "audio.progress"]
    # Steps past "queued" can only come from the worker process.
    assert {"probe", "qc", "analyse"} <= set(steps), steps
    assert musician_events[-1]["status"] == "ready", musician_events[-1]
    notification = next(e for e in customer_events if e["type"] == "notification")
    assert notification["unread"] >= 1
    assert ids["order"] in notification["notification"]["link"]
