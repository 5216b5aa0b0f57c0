import pytest

pytestmark = pytest.mark.django_db


def test_healthz_says_the_process_is_up(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "up"}


def test_readyz_checks_every_backing_service(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert set(checks) == {"database", "cache", "channel_layer", "broker"}
    assert all(check["status"] == "up" for check in checks.values())


def test_readyz_is_503_when_the_cache_is_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    settings.READINESS_TIMEOUT_SECONDS = 0.5

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["checks"]["cache"]["status"] == "down"
    assert "error" in body["checks"]["cache"]
    assert body["checks"]["database"]["status"] == "up"


def test_readyz_is_503_when_the_broker_is_down(client, settings):
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    settings.READINESS_TIMEOUT_SECONDS = 0.5
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = previous

    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["status"] == "down"


def test_readyz_is_503_when_the_channel_layer_is_down(client, settings):
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    settings.READINESS_TIMEOUT_SECONDS = 0.5
    channel_layers.backends.clear()
    try:
        response = client.get("/readyz")
    finally:
        channel_layers.backends.clear()

    assert response.status_code == 503
    assert response.json()["checks"]["channel_layer"]["status"] == "down"


def test_probes_are_never_cached(client):
    response = client.get("/readyz")

    assert "no-cache" in response["Cache-Control"]
