"""Fixtures for fuzzing the public API in-process, against the test database."""

import os
import sys
import traceback

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

SCHEMA_PATH = "/api/schema/?format=json"
SEED = 20_250_601  # fixed, so a failure in CI replays the same way locally
MAX_EXAMPLES = 30  # fuzzing-phase examples per operation and auth mode
# Anonymous requests to an operation that needs a login stop at authentication (401), so a
# few examples cover that path; more (or the coverage phase) would only produce more 401s.
MAX_EXAMPLES_UNAUTHENTICATED = 5
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace", "query"}

# The coverage phase sends every boundary and type variant of every field (a hundred and more
# requests for each operation with a body), which is minutes per run. FUZZ_COVERAGE=1 turns it
# on for a deeper run; by default the examples and fuzzing phases (valid and invalid data) run.
COVERAGE_PHASE = os.environ.get("FUZZ_COVERAGE", "") == "1"

# Built in Python rather than a schemathesis.toml, so the fuzz run is self-contained and a
# stray config file elsewhere does not change it.
FUZZ_CONFIG = {
    "seed": SEED,
    "cache": {"enabled": False},
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "phases": {
        "coverage": {"enabled": COVERAGE_PHASE},
        # Pytest runs one operation at a time; stateful (chained links) is the CLI's job.
        "stateful": {"enabled": False},
    },
}


def operations_needing_login(raw_schema: dict) -> list[str]:
    """Labels ("GET /api/profile") of operations whose security has no anonymous `{}` option."""
    default = raw_schema.get("security")
    labels = []
    for path, item in raw_schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            security = operation.get("security", default)
            if security and {} not in security:
                labels.append(f"{method.upper()} {path}")
    return sorted(labels)


@pytest.fixture
def api_schema(db, auth_mode, _keep_test_connection):
    """The OpenAPI schema drf-spectacular serves, loaded through the WSGI app (no server)."""
    from config.wsgi import application

    schema = schemathesis.openapi.from_wsgi(
        SCHEMA_PATH, application, config=SchemathesisConfig.from_dict(FUZZ_CONFIG)
    )
    if auth_mode == "token":
        return schema
    login_only = {
        "include-name": operations_needing_login(schema.raw_schema),
        "phases": {"coverage": {"enabled": False}},
        "generation": {"max-examples": MAX_EXAMPLES_UNAUTHENTICATED},
    }
    if not login_only["include-name"]:
        return schema
    config = SchemathesisConfig.from_dict({**FUZZ_CONFIG, "operations": [login_only]})
    return schemathesis.openapi.from_wsgi(SCHEMA_PATH, application, config=config)


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


@pytest.fixture(autouse=True)
def _no_outside_services(settings):
    """Fuzzed input must never reach a real payment or messaging account that a developer's
    .env may configure. Without credentials the app logs messages instead of sending them,
    and BILLING_PROVIDER=sandbox keeps payments in the built-in sandbox, whose webhooks are
    delivered in process when SANDBOX_WEBHOOK_URL is empty."""
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""
    settings.BILLING_PROVIDER = "sandbox"
    settings.SANDBOX_WEBHOOK_URL = ""
    settings.STRIPE_SECRET_KEY = ""
    settings.RAZORPAY_KEY_ID = ""
    settings.RAZORPAY_KEY_SECRET = ""
