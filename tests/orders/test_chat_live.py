"""The order chat against a real ASGI server (daphne, its own process) and channels-redis, with
a `websockets` client as a phone app would connect (token, no Origin).

On embedded defaults the channel layer is channels-redis on the embedded Redis server; the
``redis`` variant (services marker) keeps REDIS_URL, so the same flows cross a real Redis.
The database is a SQLite file of the server's own var/ folder in both.
"""

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path

import pytest
import websockets

from tests.config.test_live_events_across_processes import (
    ROOT,
    free_port,
    run,
    start,
    stop,
    wait_until_serving,
)

TYPING_SECONDS = 1.5


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.services)])
def server(request, tmp_path):
    """daphne serving config.asgi on a free port, with an order in progress and its people's
    tokens (tests/config/live_events_setup.py)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_TASK_ALWAYS_EAGER"}
    }
    if request.param == "embedded":
        env.pop("REDIS_URL", None)
    else:
        assert env.get("REDIS_URL"), "the redis variant needs REDIS_URL"
        prefix = f"chat-live-{uuid.uuid4().hex[:8]}"
        env.update(CHANNEL_LAYER_PREFIX=prefix, CACHE_KEY_PREFIX=prefix)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        ENCORE_VAR_DIR=str(tmp_path / "var"),
        ORDERS_CHAT_TYPING_SECONDS=str(TYPING_SECONDS),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    # With REDIS_URL nothing else creates var/ (the SQLite file's folder).
    (tmp_path / "var").mkdir()
    run([sys.executable, "manage.py", "migrate", "--noinput"], env, timeout=300)
    ids = json.loads(
        run([sys.executable, "tests/config/live_events_setup.py"], env, timeout=120).stdout
    )
    port = free_port()
    log = tmp_path / "web.log"
    web = start(
        [
            str(Path(sys.executable).parent / "daphne"),
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ],
        env,
        log,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}", web, log)
        yield {"ws": f"ws://127.0.0.1:{port}/ws/orders/{ids['order']}/?token=", **ids, "log": log}
    finally:
        stop(web)
        if request.param == "embedded":
            run([sys.executable, "-m", "core.embedded_redis", "stop"], env, timeout=60)


async def receive(connection, timeout=5.0) -> dict:
    return json.loads(await asyncio.wait_for(connection.recv(), timeout))


async def nothing_more(connection, seconds=0.5) -> bool:
    try:
        extra = await asyncio.wait_for(connection.recv(), seconds)
    except TimeoutError:
        return True
    raise AssertionError(f"unexpected event: {extra}")


async def open_chat(url):
    connection = await websockets.connect(url, open_timeout=10)
    hello = await receive(connection)
    assert hello["type"] == "hello", hello
    return connection, hello


def frame(body):
    return json.dumps({"type": "message.send", "client_msg_id": str(uuid.uuid4()), "body": body})


async def flows(server):
    customer_url = server["ws"] + server["customer_token"]
    musician_url = server["ws"] + server["musician_token"]

    # --- zero loss, zero duplicates across a reconnect -------------------------------------
    customer, _ = await open_chat(customer_url)
    musician, _ = await open_chat(musician_url)
    await customer.send(frame("before"))
    before_sent = asyncio.get_running_loop().time()
    before = (await receive(customer))["message"]
    assert (await receive(musician))["message"]["id"] == before["id"]
    await customer.close()

    sent = []
    for i in range(5):
        await musician.send(frame(f"while away {i}"))
        sent.append((await receive(musician))["message"])
    customer, hello = await open_chat(customer_url)
    assert hello["unread"] == 5
    await customer.send(json.dumps({"type": "sync", "after_id": before["id"]}))
    synced = []
    while True:
        event = await receive(customer)
        if event["type"] == "sync.done":
            break
        synced.append(event["message"])
    assert [m["id"] for m in synced] == [m["id"] for m in sent]
    assert [m["body"] for m in synced] == [f"while away {i}" for i in range(5)]
    assert await nothing_more(customer)

    # --- typing expires without a stop ------------------------------------------------------
    await customer.send(json.dumps({"type": "typing", "state": "start"}))
    loop = asyncio.get_running_loop()
    began = loop.time()
    start = await receive(musician)
    assert start["type"] == "typing" and start["state"] == "start", start
    stop = await receive(musician, timeout=TYPING_SECONDS + 5)
    assert stop["type"] == "typing" and stop["state"] == "stop", stop
    assert TYPING_SECONDS - 0.2 <= loop.time() - began <= TYPING_SECONDS + 3
    for connection in (customer, musician):  # the customer's own copies of both
        while True:
            try:
                event = await receive(connection, timeout=0.3)
            except TimeoutError:
                break
            assert event["type"] == "typing", event

    # --- the rate limit ------------------------------------------------------------------------
    # The customer's "before" leaves the window first: then the burst alone counts.
    await asyncio.sleep(max(0.0, before_sent + 10.5 - loop.time()))
    for i in range(20):
        await customer.send(frame(f"burst {i}"))
    results = [await receive(customer) for _ in range(20)]
    assert [e["type"] for e in results] == ["message"] * 20, results[-1]
    await customer.send(frame("one too many"))
    refused = await receive(customer)
    assert refused["type"] == "error" and refused["code"] == "rate_limited", refused
    burst = [e["message"]["id"] for e in results]
    arrived = [(await receive(musician))["message"]["id"] for _ in range(20)]
    assert sorted(arrived) == sorted(burst)
    assert await nothing_more(musician)
    await customer.close()
    await musician.close()


def test_reconnect_typing_and_rate_limit_across_a_real_server(server):
    try:
        asyncio.run(flows(server))
    except (AssertionError, TimeoutError) as failure:
        raise AssertionError(f"{failure!r}\n--- web\n{server['log'].read_text()[-4000:]}") from None
