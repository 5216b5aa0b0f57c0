"""Fixtures for fuzzing the public API in-process, against the test database."""

import sys
import traceback

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

SCHEMA_PATH = "/api/schema/?format=json"
SEED = 20_250_601  # fixed, so a failure in CI replays the same way locally
MAX_EXAMPLES = 30  # per operation and auth mode, on top of the coverage and example phases

# Built in Python rather than a schemathesis.toml, so the fuzz run is self-contained and a
# stray config file elsewhere does not change it.
FUZZ_CONFIG = {
    "seed": SEED,
    "cache": {"enabled": False},
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    # Pytest runs one operation at a time; the stateful phase (chained links) is the CLI's job.
    "phases": {"stateful": {"enabled": False}},
}


@pytest.fixture
def api_schema(db, _keep_test_connection):
    """The OpenAPI schema drf-spectacular serves, loaded through the WSGI app (no server)."""
    from config.wsgi import application

    return schemathesis.openapi.from_wsgi(
        SCHEMA_PATH, application, config=SchemathesisConfig.from_dict(FUZZ_CONFIG)
    )


@pytest.fixture(params=["anonymous", "token"])
def auth_mode(request):
    """Every operation runs twice: with no credentials, and with a valid API token."""
    return request.param


@pytest.fixture
def _keep_test_connection():
    """Call the WSGI app the way Django's test client does.

    A real request closes "old" database connections when it starts and ends. Inside the
    test's transaction (the `db` fixture) that would drop the connection the test data lives
    on (on PostgreSQL; SQLite's in-memory test database ignores close()). Django's own
    test client disconnects the same handlers for the same reason.
    """
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def server_errors():
    """Tracebacks of exceptions the app did not handle, so a 5xx can be reported with its cause."""
    from django.core.signals import got_request_exception

    captured: list[str] = []

    def record(sender, request=None, **kwargs):
        method = getattr(request, "method", "?")
        path = request.get_full_path() if request is not None else "?"
        captured.append(f"{method} {path}\n{''.join(traceback.format_exception(*sys.exc_info()))}")

    got_request_exception.connect(record, weak=False)
    yield captured
    got_request_exception.disconnect(record)
