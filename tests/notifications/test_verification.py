"""Email and phone verification (accounts services + views), delivered through notifications."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import PhoneVerification
from accounts.services import (
    PHONE_CODE_MAX_ATTEMPTS,
    VerificationError,
    VerificationThrottled,
    email_verification_url,
    phone_verification_confirm,
    phone_verification_request,
)
from notifications.models import Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db

CODE = re.compile(r"Your Encore code is (\d{6})\.")


@pytest.fixture
def phone_client(token_client):
    token_client.user.phone_number = "+14155550199"
    token_client.user.save()
    return token_client


def request_code(client, capture, twilio):
    twilio.accept()
    with capture(execute=True):
        response = client.post("/api/profile/phone/verify-request")
    assert response.status_code == 202, response.content
    return CODE.search(twilio.messages[-1]["Body"]).group(1)


def test_a_code_is_texted_hashed_at_rest_and_verifies_the_phone(
    phone_client, twilio, django_capture_on_commit_callbacks
):
    code = request_code(phone_client, django_capture_on_commit_callbacks, twilio)

    assert twilio.messages[0]["To"] == "+14155550199"  # the number being verified
    stored = PhoneVerification.objects.get()
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    sms = Delivery.objects.get(event="account.phone_verification")
    assert sms.status == DeliveryStatus.SENT
    assert sms.context["code"] == "[removed]"  # not kept in the delivery log either

    response = phone_client.post("/api/profile/phone/verify", {"code": code}, format="json")

    assert response.status_code == 200
    assert response.json()["phone_verified_at"] is not None
    phone_client.user.refresh_from_db()
    assert phone_client.user.phone_verified


def test_a_wrong_code_is_rejected_and_counted(
    phone_client, twilio, django_capture_on_commit_callbacks
):
    code = request_code(phone_client, django_capture_on_commit_callbacks, twilio)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    response = phone_client.post("/api/profile/phone/verify", {"code": wrong}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_code"
    assert PhoneVerification.objects.get().attempts == 1
    phone_client.user.refresh_from_db()
    assert not phone_client.user.phone_verified


def test_too_many_wrong_codes_burn_the_code(
    phone_client, twilio, django_capture_on_commit_callbacks
):
    code = request_code(phone_client, django_capture_on_commit_callbacks, twilio)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(PHONE_CODE_MAX_ATTEMPTS):
        phone_client.post("/api/profile/phone/verify", {"code": wrong}, format="json")

    response = phone_client.post("/api/profile/phone/verify", {"code": code}, format="json")

    assert response.json()["code"] == "too_many_attempts"
    phone_client.user.refresh_from_db()
    assert not phone_client.user.phone_verified


def test_an_expired_code_is_rejected(phone_client, twilio, django_capture_on_commit_callbacks):
    code = request_code(phone_client, django_capture_on_commit_callbacks, twilio)
    PhoneVerification.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = phone_client.post("/api/profile/phone/verify", {"code": code}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "code_expired"
    phone_client.user.refresh_from_db()
    assert not phone_client.user.phone_verified


def test_a_code_works_once(phone_client, twilio, django_capture_on_commit_callbacks):
    code = request_code(phone_client, django_capture_on_commit_callbacks, twilio)
    assert (
        phone_client.post("/api/profile/phone/verify", {"code": code}, format="json").status_code
        == 200
    )
    # The number changes and changes back: verification is needed again, the old code is spent.
    phone_client.patch("/api/profile", {"phone_number": "+14155550100"}, format="json")
    phone_client.patch("/api/profile", {"phone_number": "+14155550199"}, format="json")

    response = phone_client.post("/api/profile/phone/verify", {"code": code}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "code_used"
    phone_client.user.refresh_from_db()
    assert not phone_client.user.phone_verified


def test_a_new_code_supersedes_the_old_one(
    phone_client, twilio, django_capture_on_commit_callbacks
):
    first = request_code(phone_client, django_capture_on_commit_callbacks, twilio)
    PhoneVerification.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    second = request_code(phone_client, django_capture_on_commit_callbacks, twilio)

    if first != second:
        stale = phone_client.post("/api/profile/phone/verify", {"code": first}, format="json")
        assert stale.json()["code"] == "invalid_code"
    assert (
        phone_client.post("/api/profile/phone/verify", {"code": second}, format="json").status_code
        == 200
    )


def test_a_code_for_another_number_does_not_verify_the_new_one(
    phone_client, twilio, django_capture_on_commit_callbacks
):
    code = request_code(phone_client, django_capture_on_commit_callbacks, twilio)
    phone_client.patch("/api/profile", {"phone_number": "+14155550111"}, format="json")

    response = phone_client.post("/api/profile/phone/verify", {"code": code}, format="json")

    assert response.json()["code"] == "no_code"


def test_changing_the_number_clears_the_verification(phone_client):
    user = phone_client.user
    user.phone_verified_at = timezone.now()
    user.save()

    same = phone_client.patch("/api/profile", {"phone_number": "+1 415 555 0199"}, format="json")
    assert same.json()["phone_verified_at"] is not None  # the same number, spelled differently
    changed = phone_client.patch("/api/profile", {"phone_number": "+14155550123"}, format="json")

    assert changed.json()["phone_verified_at"] is None
    user.refresh_from_db()
    assert not user.phone_verified


def test_codes_are_rate_limited(phone_client, twilio, django_capture_on_commit_callbacks):
    request_code(phone_client, django_capture_on_commit_callbacks, twilio)

    again = phone_client.post("/api/profile/phone/verify-request")

    assert again.status_code == 429
    assert "Retry-After" in again
    assert PhoneVerification.objects.count() == 1


def test_no_phone_and_already_verified(token_client):
    assert token_client.post("/api/profile/phone/verify-request").json()["code"] == "no_phone"
    token_client.user.phone_number = "+14155550199"
    token_client.user.phone_verified_at = timezone.now()
    token_client.user.save()

    response = token_client.post("/api/profile/phone/verify-request")

    assert response.status_code == 409
    assert response.json()["code"] == "already_verified"


def test_the_code_must_look_like_a_code(phone_client):
    for code in ("12345", "abcdef", "1234567", ""):
        response = phone_client.post("/api/profile/phone/verify", {"code": code}, format="json")
        assert response.status_code == 400


def test_the_services_directly(verified, no_twilio, django_capture_on_commit_callbacks):
    verified.phone_verified_at = None
    verified.save()
    with django_capture_on_commit_callbacks(execute=True):
        phone_verification_request(user=verified)
    with pytest.raises(VerificationThrottled):
        phone_verification_request(user=verified)
    with pytest.raises(VerificationError) as error:
        phone_verification_confirm(user=verified, code="000000x")
    assert error.value.code == "invalid_code"
    # Without Twilio the code went to the log, and the delivery log says so.
    sms = Delivery.objects.get(event="account.phone_verification")
    assert (sms.status, sms.provider) == ("logged", "log")


def test_the_verification_page_sends_and_checks_codes(
    client, twilio, django_capture_on_commit_callbacks
):
    from tests.factories import UserFactory

    person = UserFactory(phone_number="+14155550177")
    client.force_login(person)
    twilio.accept()

    page = client.get("/accounts/verify/")
    assert "Text me a code" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post("/accounts/verify/", {"action": "send"}, follow=True)
    assert "We sent a code to +14155550177" in sent.content.decode()
    code = CODE.search(twilio.messages[-1]["Body"]).group(1)

    wrong = client.post("/accounts/verify/", {"action": "confirm", "code": "000000"})
    if code != "000000":
        assert wrong.status_code == 400
        assert "That code is not right." in wrong.content.decode()
    done = client.post("/accounts/verify/", {"action": "confirm", "code": code}, follow=True)

    assert "Your phone number is verified." in done.content.decode()
    person.refresh_from_db()
    assert person.phone_verified


# --- email ----------------------------------------------------------------------------------


def test_signing_up_sends_a_link_that_confirms_the_email(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/users",
            {
                "email": "lena@example.com",
                "password": "Velvet-Harbor-7319",
                "display_name": "Lena",
                "role": "listener",
            },
            format="json",
        )
    assert response.status_code == 201
    confirm = next(m for m in mail.outbox if m.subject == "Confirm your email for Encore")
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/email/verify/\S+/)", confirm.body)

    page = Client().get(link.group(1))

    assert page.status_code == 200
    assert "Your email is confirmed" in page.content.decode()
    from accounts.models import User

    assert User.objects.get(email="lena@example.com").email_verified


def test_a_tampered_or_stale_email_link_is_rejected(user, settings):
    path = email_verification_url(user=user).removeprefix(settings.SITE_URL)
    token = path.rstrip("/").rsplit("/", 1)[1]

    for bad in (token[:-3] + "abc", "garbage"):
        response = Client().get(f"/accounts/email/verify/{bad}/")
        assert response.status_code == 400
    # A link for an address the person no longer has does not confirm the new one.
    user.email = "new-address@example.com"
    user.save()
    assert Client().get(path).status_code == 400
    user.refresh_from_db()
    assert not user.email_verified


def test_asking_for_a_new_email_link(token_client):
    response = token_client.post("/api/profile/email/verify-request")

    assert response.status_code == 202
    assert [m.subject for m in mail.outbox] == ["Confirm your email for Encore"]
    assert token_client.post("/api/profile/email/verify-request").status_code == 429


def test_the_password_reset_mail_is_a_critical_notification(client, user):
    response = client.post("/accounts/password/reset/", {"email": user.email})

    assert response.status_code == 302
    delivery = Delivery.objects.get(event="account.password_reset")
    assert (delivery.channel, delivery.status, delivery.to) == ("email", "sent", user.email)
    assert mail.outbox[0].subject == "Reset your Encore password"
