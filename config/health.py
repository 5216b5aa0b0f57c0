"""Liveness (`/healthz`) and readiness (`/readyz`) probes.

Readiness checks each backing service with a real round trip and a short timeout, so an
orchestrator stops routing traffic to a node whose database, cache, channel layer or broker
is unreachable.
"""

import asyncio
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def check_cache() -> str:
    cache = caches["default"]
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    value = cache.get(key)
    cache.delete(key)
    if value != "ok":
        raise RuntimeError("cache did not return the value it was given")
    return cache.__class__.__name__


def check_channel_layer() -> str:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")

    async def round_trip():
        channel = await layer.new_channel("readyz.")
        await layer.send(channel, {"type": "readyz.ping"})
        return await asyncio.wait_for(
            layer.receive(channel), timeout=settings.READINESS_TIMEOUT_SECONDS
        )

    message = async_to_sync(round_trip)()
    if message.get("type") != "readyz.ping":
        raise RuntimeError("channel layer returned another message")
    return layer.__class__.__name__


def check_broker() -> str:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.READINESS_TIMEOUT_SECONDS)
        return conn.transport.driver_type


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "channel_layer": check_channel_layer,
    "broker": check_broker,
}


def _run(check: Callable[[], str]) -> dict:
    started = time.perf_counter()
    try:
        backend = check()
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; report it
        return {
            "status": "down",
            "error": f"{exc.__class__.__name__}: {exc}"[:300],
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
    return {
        "status": "up",
        "backend": backend,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "up"})


@never_cache
@require_GET
def readyz(request):
    results = {}
    # The database check must run on this thread: Django connections are per thread.
    results["database"] = _run(CHECKS["database"])
    timeout = settings.READINESS_TIMEOUT_SECONDS + 1
    pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="readyz")
    futures = {name: pool.submit(_run, CHECKS[name]) for name in CHECKS if name != "database"}
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=timeout)
        except FutureTimeout:
            results[name] = {"status": "down", "error": f"no answer within {timeout:.0f} s"}
    # A hung check must not hold the response: leave its thread to finish on its own.
    pool.shutdown(wait=False, cancel_futures=True)
    ready = all(result["status"] == "up" for result in results.values())
    return JsonResponse(
        {"status": "up" if ready else "down", "checks": results}, status=200 if ready else 503
    )
