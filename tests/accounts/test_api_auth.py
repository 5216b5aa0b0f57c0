import pytest
from django.test import override_settings
from knox.models import AuthToken

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def register(client, **overrides):
    payload = {
        "email": "nina@example.com",
        "password": DEFAULT_PASSWORD,
        "display_name": "Nina Simone",
        "role": "listener",
        **overrides,
    }
    return client.post("/api/users", payload, format="json")


def test_register_creates_a_listener(api_client):
    response = register(api_client)

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "nina@example.com"
    assert body["role"] == "listener"
    assert "password" not in body
    user = User.objects.get(email="nina@example.com")
    assert user.check_password(DEFAULT_PASSWORD)
    assert not user.is_musician


def test_register_as_musician_sets_the_role(api_client):
    response = register(api_client, role="musician")

    assert response.status_code == 201
    assert response.json()["role"] == "musician"
    assert User.objects.get(email="nina@example.com").is_musician


@pytest.mark.parametrize("spelling", ["NINA@example.com", "nina@EXAMPLE.COM", "Nina@Example.Com"])
def test_register_rejects_an_email_taken_in_any_letter_case(api_client, spelling):
    assert register(api_client).status_code == 201

    response = register(api_client, email=spelling)

    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"
    assert User.objects.count() == 1


def test_register_rejects_a_weak_password_with_the_validators_messages(api_client):
    response = register(api_client, password="12345")

    assert response.status_code == 400
    body = response.json()
    messages = body["errors"]["password"]
    assert any("too short" in message for message in messages)
    assert any("too common" in message for message in messages)
    assert any("entirely numeric" in message for message in messages)
    assert not User.objects.exists()


def test_register_rejects_a_password_like_the_email(api_client):
    response = register(
        api_client, email="zanzibar.quartet@example.com", password="zanzibar.quartet"
    )

    assert response.status_code == 400
    assert any("too similar" in message for message in response.json()["errors"]["password"])


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not-an-email"), ("role", "admin"), ("display_name", ""), ("email", "")],
)
def test_register_validates_each_field(api_client, field, value):
    response = register(api_client, **{field: value})

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_malformed_json_is_a_400(api_client):
    response = api_client.post("/api/users", data='{"email": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_login_returns_a_token_that_authenticates(api_client, user):
    response = api_client.post(
        "/api/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["user"]["id"] == str(user.pk)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/profile").json()["email"] == user.email


def test_login_ignores_the_letter_case_of_the_email(api_client, user):
    response = api_client.post(
        "/api/login", {"email": user.email.upper(), "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 200


def test_wrong_credentials_get_one_message_that_reveals_nothing(api_client, user):
    wrong_password = api_client.post(
        "/api/login", {"email": user.email, "password": "not-the-password"}, format="json"
    )
    unknown_email = api_client.post(
        "/api/login", {"email": "nobody@example.com", "password": DEFAULT_PASSWORD}, format="json"
    )

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()
    assert wrong_password.json()["code"] == "invalid_credentials"


def test_inactive_accounts_cannot_log_in(api_client):
    user = UserFactory(is_active=False)

    response = api_client.post(
        "/api/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 401


def test_five_failures_for_one_account_lock_it_for_a_minute(api_client, user):
    for _ in range(5):
        response = api_client.post(
            "/api/login", {"email": user.email, "password": "wrong"}, format="json"
        )
        assert response.status_code == 401

    locked = api_client.post(
        "/api/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert locked.status_code == 429
    assert locked.json()["code"] == "throttled"
    assert int(locked["Retry-After"]) > 0


def test_five_failures_from_one_address_block_it_for_every_account(api_client, user):
    for n in range(5):
        api_client.post(
            "/api/login", {"email": f"guess{n}@example.com", "password": "wrong"}, format="json"
        )

    response = api_client.post(
        "/api/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 429


def test_failures_from_another_address_do_not_block_this_one(user):
    from rest_framework.test import APIClient

    attacker, owner = APIClient(REMOTE_ADDR="10.0.0.1"), APIClient(REMOTE_ADDR="10.0.0.2")
    for n in range(5):
        attacker.post("/api/login", {"email": f"x{n}@example.com", "password": "w"}, format="json")

    response = owner.post(
        "/api/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 200


def test_failures_expire_after_the_window(api_client, user, settings):
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 1
    for _ in range(5):
        api_client.post("/api/login", {"email": user.email, "password": "wrong"}, format="json")
    import time

    time.sleep(1.2)

    response = api_client.post(
        "/api/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 200


def test_unknown_token_is_a_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token " + "f" * 64)

    response = api_client.get("/api/profile")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_anonymous_profile_is_a_401(api_client):
    response = api_client.get("/api/profile")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_session_authentication_works_on_the_api(client, user):
    client.force_login(user)

    response = client.get("/api/profile")

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_logout_revokes_only_the_token_used(user):
    from rest_framework.test import APIClient

    phone, laptop = APIClient(), APIClient()
    for client in (phone, laptop):
        token = client.post(
            "/api/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
        ).json()["token"]
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    assert phone.post("/api/logout").status_code == 204

    assert phone.get("/api/profile").status_code == 401
    assert laptop.get("/api/profile").status_code == 200
    assert AuthToken.objects.filter(user=user).count() == 1


def test_tokens_are_stored_as_digests_not_in_clear(api_client, user):
    token = api_client.post(
        "/api/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    ).json()["token"]

    stored = AuthToken.objects.get(user=user)
    assert token not in (stored.digest, stored.token_key)


@pytest.mark.parametrize("path", ["/api/login", "/api/login/"])
def test_paths_work_with_and_without_trailing_slash(api_client, user, path):
    response = api_client.post(
        path, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 200


@override_settings(
    REST_FRAMEWORK={
        **__import__("django.conf", fromlist=["settings"]).settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            "anon": "1000/minute",
            "user": "1000/minute",
            "register": "2/hour",
        },
    }
)
def test_registration_is_throttled_per_address(api_client):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        statuses = [register(api_client, email=f"n{n}@example.com").status_code for n in range(3)]
    finally:
        from django.conf import settings

        SimpleRateThrottle.THROTTLE_RATES = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]

    assert statuses == [201, 201, 429]
