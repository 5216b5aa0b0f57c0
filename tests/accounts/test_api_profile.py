import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.accounts.images import image_upload

pytestmark = pytest.mark.django_db


def test_profile_shows_the_callers_own_data(token_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        response = token_client.get("/api/profile")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(token_client.user.pk)
    assert body["email"] == token_client.user.email
    assert body["preferred_audio_quality"] == "normal"
    assert body["offline_mode"] is False
    assert body["avatar_url"] is None


def test_patch_changes_only_the_given_fields(token_client):
    response = token_client.patch(
        "/api/profile", {"preferred_audio_quality": "high", "offline_mode": True}, format="json"
    )

    assert response.status_code == 200
    token_client.user.refresh_from_db()
    assert token_client.user.preferred_audio_quality == "high"
    assert token_client.user.offline_mode is True


def test_put_replaces_the_profile_and_requires_a_display_name(token_client):
    missing = token_client.put("/api/profile", {"offline_mode": True}, format="json")
    full = token_client.put(
        "/api/profile",
        {
            "display_name": "DJ Nina",
            "preferred_audio_quality": "low",
            "offline_mode": False,
            "phone_number": "",
        },
        format="json",
    )

    assert missing.status_code == 400
    assert "display_name" in missing.json()["errors"]
    assert full.status_code == 200
    assert full.json()["display_name"] == "DJ Nina"


def test_email_role_and_staff_flags_cannot_be_changed_through_the_profile(token_client):
    response = token_client.patch(
        "/api/profile",
        {"email": "evil@example.com", "is_staff": True, "is_musician": True},
        format="json",
    )

    assert response.status_code == 200
    token_client.user.refresh_from_db()
    assert token_client.user.email != "evil@example.com"
    assert not token_client.user.is_staff
    assert not token_client.user.is_musician


@pytest.mark.parametrize("number", ["+14155550123", "+44 20 7946 0958", "+91-98765-43210"])
def test_phone_numbers_are_stored_in_international_format(token_client, number):
    response = token_client.patch("/api/profile", {"phone_number": number}, format="json")

    assert response.status_code == 200
    assert response.json()["phone_number"].startswith("+")
    assert " " not in response.json()["phone_number"]


@pytest.mark.parametrize("number", ["4155550123", "+0123", "call me", "+1" + "2" * 20])
def test_invalid_phone_numbers_are_a_400(token_client, number):
    response = token_client.patch("/api/profile", {"phone_number": number}, format="json")

    assert response.status_code == 400
    assert "phone_number" in response.json()["errors"]


def test_unknown_audio_quality_is_a_400(token_client):
    response = token_client.patch(
        "/api/profile", {"preferred_audio_quality": "ultra"}, format="json"
    )

    assert response.status_code == 400


def test_avatar_upload_is_stored_and_served(token_client, client):
    response = token_client.patch("/api/profile", {"avatar": image_upload()}, format="multipart")

    assert response.status_code == 200
    url = response.json()["avatar_url"]
    assert url
    served = client.get(url.replace("http://testserver", ""))
    assert served.status_code == 200
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")


def test_replacing_an_avatar_deletes_the_old_file_after_commit(
    token_client, django_capture_on_commit_callbacks
):
    token_client.patch("/api/profile", {"avatar": image_upload("a.png")}, format="multipart")
    token_client.user.refresh_from_db()
    first_path = token_client.user.avatar.path

    with django_capture_on_commit_callbacks(execute=True):
        token_client.patch(
            "/api/profile",
            {"avatar": image_upload("b.jpg", image_format="JPEG")},
            format="multipart",
        )

    token_client.user.refresh_from_db()
    assert token_client.user.avatar.path != first_path
    assert not os.path.exists(first_path)
    assert os.path.exists(token_client.user.avatar.path)


def test_random_bytes_named_png_are_rejected_as_unsupported_media(token_client):
    fake = SimpleUploadedFile("avatar.png", os.urandom(2048), content_type="image/png")

    response = token_client.patch("/api/profile", {"avatar": fake}, format="multipart")

    assert response.status_code == 415
    assert response.json()["code"] == "invalid_image"
    token_client.user.refresh_from_db()
    assert not token_client.user.avatar


def test_an_oversize_avatar_is_a_413(token_client, settings):
    settings.AVATAR_MAX_BYTES = 1024

    response = token_client.patch(
        "/api/profile", {"avatar": image_upload(size=(600, 600))}, format="multipart"
    )

    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    token_client.user.refresh_from_db()
    assert not token_client.user.avatar


def test_a_huge_image_is_rejected_by_its_dimensions(token_client):
    response = token_client.patch(
        "/api/profile", {"avatar": image_upload(size=(5000, 10))}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "image_too_large"


def test_avatar_of_an_unknown_person_is_a_404(client):
    response = client.get("/accounts/avatar/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
