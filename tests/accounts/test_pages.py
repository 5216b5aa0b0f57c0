import re

import pytest
from django.core import mail

from accounts.models import User
from tests.accounts.images import image_upload
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


def test_register_page_creates_the_account_and_logs_in(client):
    response = client.post(
        "/accounts/register/",
        {
            "display_name": "Nina",
            "email": "nina@example.com",
            "password": DEFAULT_PASSWORD,
            "role": "musician",
        },
        follow=True,
    )

    assert response.status_code == 200
    assert response.context["user"].is_authenticated
    assert User.objects.get(email="nina@example.com").is_musician
    assert "Welcome to Encore, Nina!" in response.content.decode()


def test_register_page_shows_the_duplicate_email_error(client, user):
    response = client.post(
        "/accounts/register/",
        {
            "display_name": "Copy",
            "email": user.email.upper(),
            "password": DEFAULT_PASSWORD,
            "role": "listener",
        },
    )

    assert response.status_code == 400
    assert "An account with this email already exists." in response.content.decode()
    assert User.objects.count() == 1


def test_register_page_shows_password_rules(client):
    response = client.post(
        "/accounts/register/",
        {"display_name": "N", "email": "n@example.com", "password": "123", "role": "listener"},
    )

    assert response.status_code == 400
    assert "This password is too short" in response.content.decode()


def test_form_fields_have_labels_and_errors_tied_to_them(client):
    response = client.post("/accounts/register/", {"email": "bad"})
    html = response.content.decode()

    for field in ("display_name", "email", "password"):
        assert f'for="id_{field}"' in html
    assert 'aria-describedby="id_email_error"' in html
    assert 'id="id_email_error"' in html
    assert 'aria-invalid="true"' in html


def test_login_page_logs_in_and_greets(client, user):
    response = client.post(
        "/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD}, follow=True
    )

    assert response.context["user"] == user
    assert f"Welcome back, {user.display_name}." in response.content.decode()


def test_login_page_wrong_password_shows_one_message(client, user):
    response = client.post("/accounts/login/", {"username": user.email, "password": "nope"})

    assert response.status_code == 200
    assert "The email or password is not right." in response.content.decode()
    assert not response.context["user"].is_authenticated


def test_login_page_locks_after_five_failures(client, user):
    for _ in range(5):
        client.post("/accounts/login/", {"username": user.email, "password": "nope"})

    response = client.post(
        "/accounts/login/", {"username": user.email, "password": DEFAULT_PASSWORD}
    )

    assert "Too many failed attempts" in response.content.decode()
    assert not response.context["user"].is_authenticated


def test_logout_is_a_post_and_ends_the_session(client, user):
    client.force_login(user)

    response = client.post("/accounts/logout/", follow=True)

    assert not response.context["user"].is_authenticated
    assert "You are logged out." in response.content.decode()


def test_profile_page_requires_login(client):
    response = client.get("/accounts/profile/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_profile_page_saves_changes_and_avatar(client, user):
    client.force_login(user)

    response = client.post(
        "/accounts/profile/",
        {
            "display_name": "New Name",
            "preferred_audio_quality": "high",
            "offline_mode": "on",
            "phone_number": "+14155550123",
            "avatar": image_upload(),
        },
        follow=True,
    )

    assert "Your profile is saved." in response.content.decode()
    user.refresh_from_db()
    assert user.display_name == "New Name"
    assert user.preferred_audio_quality == "high"
    assert user.offline_mode
    assert user.avatar


def test_profile_page_rejects_a_fake_image(client, user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(user)

    response = client.post(
        "/accounts/profile/",
        {
            "display_name": "Name",
            "preferred_audio_quality": "normal",
            "avatar": SimpleUploadedFile("a.png", b"not an image at all", content_type="image/png"),
        },
    )

    assert response.status_code == 400
    user.refresh_from_db()
    assert not user.avatar


def test_password_change(client, user):
    client.force_login(user)

    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "Another-Long-Secret-77",
            "new_password2": "Another-Long-Secret-77",
        },
        follow=True,
    )

    assert "Your password is changed." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("Another-Long-Secret-77")


def test_password_reset_by_email_end_to_end(client, user):
    response = client.post("/accounts/password/reset/", {"email": user.email.upper()}, follow=True)

    assert "Check your email" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject == "Reset your Encore password"
    html = message.alternatives[0][0]
    assert "Choose a new password" in html
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Fresh-Start-Melody-9", "new_password2": "Fresh-Start-Melody-9"},
        follow=True,
    )

    assert "Your password is set" in done.content.decode()
    user.refresh_from_db()
    assert user.check_password("Fresh-Start-Melody-9")
    assert "This link no longer works" in client.get(link, follow=True).content.decode()


def test_password_reset_for_an_unknown_email_sends_nothing_and_says_the_same(client):
    response = client.post("/accounts/password/reset/", {"email": "ghost@example.com"}, follow=True)

    assert "Check your email" in response.content.decode()
    assert mail.outbox == []
