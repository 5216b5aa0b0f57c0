"""Proof that the real services are used when DATABASE_URL / REDIS_URL are set.

These run only in the services configuration (see tests/conftest.py); a service that is down
makes them fail, never skip.
"""

import time
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from celery.contrib.testing.worker import start_worker
from channels.layers import get_channel_layer
from django.core.cache import caches
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken

from config.celery import app as celery_app

pytestmark = pytest.mark.services


@pytest.mark.django_db
def test_the_database_is_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_the_cache_is_redis():
    cache = caches["default"]

    assert cache.__class__.__name__ == "RedisCache"
    cache.set("services-probe", {"n": 1}, timeout=5)
    assert cache.get("services-probe") == {"n": 1}


def test_a_message_round_trips_through_channels_redis():
    layer = get_channel_layer()
    assert layer.__class__.__name__ == "RedisChannelLayer"

    async def round_trip():
        channel = await layer.new_channel()
        await layer.group_add("services-probe", channel)
        await layer.group_send("services-probe", {"type": "probe.message", "text": "hello"})
        message = await layer.receive(channel)
        await layer.group_discard("services-probe", channel)
        return message

    assert async_to_sync(round_trip)() == {"type": "probe.message", "text": "hello"}


def test_the_celery_broker_is_redis():
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1)
        assert conn.transport.driver_type == "redis"


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_in_a_real_worker_through_redis(user):
    expired, _ = AuthToken.objects.create(user=user, expiry=timedelta(days=1))
    AuthToken.objects.filter(pk=expired.pk).update(expiry=timezone.now() - timedelta(minutes=1))
    celery_app.conf.task_always_eager = False

    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        from accounts.tasks import purge_expired_tokens

        purge_expired_tokens.delay()
        deadline = time.monotonic() + 20
        while AuthToken.objects.filter(pk=expired.pk).exists() and time.monotonic() < deadline:
            time.sleep(0.1)

    assert not AuthToken.objects.filter(pk=expired.pk).exists()


@pytest.mark.django_db
def test_readyz_reports_the_real_backends(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"]["backend"] == "postgresql"
    assert checks["cache"]["backend"] == "RedisCache"
    assert checks["channel_layer"]["backend"] == "RedisChannelLayer"
    assert checks["broker"]["backend"] == "redis"
