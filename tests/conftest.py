import os
import shutil
import tempfile
from pathlib import Path

import pytest
from channels.layers import channel_layers
from django.conf import settings
from rest_framework.test import APIClient

from config.celery import app as celery_app
from core import embedded_redis
from tests.factories import DEFAULT_PASSWORD, UserFactory

SERVICES_CONFIGURED = bool(os.environ.get("DATABASE_URL")) and bool(os.environ.get("REDIS_URL"))


def pytest_collection_modifyitems(config, items):
    """Service tests prove the real PostgreSQL/Redis are used; they belong to the services run.

    On embedded defaults they are deselected (not skipped). When DATABASE_URL/REDIS_URL are set
    they run, and a service that is down makes them fail.
    """
    if SERVICES_CONFIGURED:
        return
    selected, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("services") else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture(scope="session", autouse=True)
def _close_stray_database_sessions(django_db_setup, django_db_blocker):
    """Worker threads (real Celery workers, Channels) may leave PostgreSQL sessions open, which
    would stop pytest-django from dropping the test database at the end of the run."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(scope="session", autouse=True)
def _embedded_redis_of_this_run():
    """On embedded defaults the channel layer starts the embedded Redis server on first use.
    Each test run gets its own server in its own folder, so runs side by side (a developer's
    and an editor's, or two checkouts' helpers) never share or stop each other's server; the
    run stops its server at its end."""
    if settings.REDIS_URL:
        yield
        return
    folder = Path(tempfile.mkdtemp(prefix="encore-redis-", dir="/tmp"))
    settings.EMBEDDED_REDIS_DIR = folder
    for layer in settings.CHANNEL_LAYERS.values():
        if "folder" in layer.get("CONFIG", {}):
            layer["CONFIG"]["folder"] = str(folder)
    yield
    embedded_redis.stop(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def _isolated_environment(settings, tmp_path):
    """Each test gets its own media folder, an empty cache and tasks that run inline."""
    from django.core.cache import cache

    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Serve static files from the finders, as on a fresh clone where collectstatic never ran.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # PBKDF2 at production strength costs ~0.3 s a hash; the tests are about behaviour.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Payments go through the embedded sandbox provider, as under make run (off by default).
    settings.BILLING_SANDBOX = True
    cache.clear()
    # A channel layer keeps asyncio locks that bind to the event loop that first waits on
    # them; each async test runs its own loop, so each test gets a layer of its own.
    channel_layers.backends.clear()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
    channel_layers.backends.clear()


@pytest.fixture
def password():
    return DEFAULT_PASSWORD


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def musician(db):
    return UserFactory(is_musician=True)


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def token_client(user):
    """An API client authenticated by a real token, as a mobile app would be."""
    from accounts.services import api_token_issue

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
    client.user = user
    return client
