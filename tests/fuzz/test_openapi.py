"""Fuzz every operation in the OpenAPI schema: whatever a client sends, the API never answers 5xx.

Schemathesis generates valid and invalid requests from /api/schema/ (its examples and fuzzing
phases; the coverage phase too with FUZZ_COVERAGE=1) and sends them to the Django WSGI app
in-process, on the test database. Each operation runs anonymously and with a valid API token.
A 5xx fails the test with the request to replay it and the server's traceback.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

pytestmark = pytest.mark.fuzz

schema = schemathesis.pytest.from_fixture("api_schema")


# max_examples comes from the schema's config (tests/fuzz/conftest.py), per operation.
@settings(
    deadline=None,
    derandomize=True,
    database=None,  # no example database: every run starts from the same inputs
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the db, user and token are shared by examples
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
@schema.parametrize()
@pytest.mark.usefixtures("auth_mode")
def test_api_never_answers_with_a_server_error(case, auth_mode, user, server_errors):
    from django.core.cache import cache

    from accounts.services import api_token_issue

    # Throttles and login-failure limits live in the cache. Left alone they would turn most
    # examples into 429s, which would stop the fuzzer from reaching the views behind them.
    cache.clear()
    headers = {}
    if auth_mode == "token":
        # A fresh token per example: POST /api/logout revokes the one it was called with.
        headers["Authorization"] = f"Token {api_token_issue(user=user)}"

    server_errors.clear()
    response = case.call(headers=headers)
    try:
        case.validate_response(response, checks=[not_a_server_error], headers=headers)
    except BaseException as failure:
        for trace in server_errors:
            failure.add_note(f"Server traceback ({auth_mode}):\n{trace}")
        raise
