"""One phone number rule: the profile page and the API give the same verdict on the same input,
in the same words, and store the same E.164 number."""

import re

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.services import api_token_issue
from accounts.validators import PHONE_NUMBER_INVALID
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

VALID = {
    "+14155550123": "+14155550123",
    "+1 415 555 0123": "+14155550123",
    "+1 (415) 555-0123": "+14155550123",
    " +14155550123 ": "+14155550123",
    "+44 20 7946 0958": "+442079460958",
    "+91-98765-43210": "+919876543210",
    "+33 1 23 45 67 89": "+33123456789",
}
INVALID = [
    "4155550123",  # no country code
    "(415) 555-0123",
    "+1415555012",  # one digit short
    "+15550001111",  # no such US number range
    "+0123",
    "+999 1234 5678",  # no such country code
    "call me",
    "+1" + "2" * 20,
    "+14155550123 ext",
]


class Both:
    """The same person-to-be on the two ways in: the profile page and the API."""

    def __init__(self):
        self.page_user = UserFactory(display_name="Page Person")
        self.page = Client()
        self.page.force_login(self.page_user)
        self.api_user = UserFactory(display_name="Api Person")
        self.api = APIClient()
        self.api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=self.api_user)}")

    def through_page(self, number: str):
        response = self.page.post(
            "/accounts/profile/",
            {
                "display_name": "Page Person",
                "preferred_audio_quality": "normal",
                "phone_number": number,
            },
        )
        assert response.status_code in (302, 400), response.status_code
        errors = response.context["form"].errors.get("phone_number", []) if response.context else []
        self.page_user.refresh_from_db()
        return response.status_code == 302, errors, str(self.page_user.phone_number)

    def through_api(self, number: str):
        response = self.api.patch("/api/profile", {"phone_number": number}, format="json")
        assert response.status_code in (200, 400), response.status_code
        body = response.json()
        errors = (
            body.get("errors", {}).get("phone_number", []) if response.status_code == 400 else []
        )
        self.api_user.refresh_from_db()
        return response.status_code == 200, errors, str(self.api_user.phone_number)


@pytest.fixture
def both(db):
    return Both()


@pytest.mark.parametrize("number, stored", VALID.items())
def test_a_valid_number_is_accepted_by_both_and_stored_as_e164(both, number, stored):
    page_ok, _, page_stored = both.through_page(number)
    api_ok, _, api_stored = both.through_api(number)

    assert page_ok and api_ok
    assert page_stored == api_stored == stored


@pytest.mark.parametrize("number", INVALID)
def test_an_invalid_number_is_refused_by_both_in_the_same_words(both, number):
    both.page_user.phone_number = "+14155550100"
    both.page_user.save()
    both.api_user.phone_number = "+14155550100"
    both.api_user.save()

    page_ok, page_errors, page_stored = both.through_page(number)
    api_ok, api_errors, api_stored = both.through_api(number)

    assert not page_ok and not api_ok
    assert page_errors == [PHONE_NUMBER_INVALID]
    assert api_errors == [PHONE_NUMBER_INVALID]
    assert page_stored == api_stored == "+14155550100"  # nothing was lost


def test_the_page_shows_the_error_next_to_the_field(both):
    response = both.page.post(
        "/accounts/profile/",
        {"display_name": "Page Person", "preferred_audio_quality": "normal", "phone_number": "12"},
    )

    assert response.status_code == 400
    assert PHONE_NUMBER_INVALID in response.content.decode()


def test_an_empty_number_removes_it_through_both(both):
    both.through_page("+14155550123")
    both.through_api("+14155550123")

    assert both.through_page("")[0] and both.through_api("")[0]
    both.page_user.refresh_from_db()
    both.api_user.refresh_from_db()
    assert both.page_user.phone_number == "" and both.api_user.phone_number == ""


# Phone-like text: digits, spaces, dashes, brackets, an optional leading plus.
phone_like = st.builds(
    lambda plus, body: ("+" if plus else "") + body,
    st.booleans(),
    st.text(alphabet="0123456789 -()", min_size=1, max_size=18),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(number=st.one_of(phone_like, st.sampled_from([*VALID, *INVALID])))
def test_page_and_api_always_agree(both, number):
    page_ok, _, page_stored = both.through_page(number)
    api_ok, _, api_stored = both.through_api(number)

    assert page_ok == api_ok, f"{number!r}: page {page_ok}, API {api_ok}"
    if page_ok and number.strip():
        assert page_stored == api_stored
        assert re.fullmatch(r"\+[1-9]\d{6,14}", api_stored)


def test_a_number_stored_before_libphonenumber_does_not_block_other_changes(both):
    """Numbers saved under the old pattern check may not be valid now; changing the display
    name must still work, and the number stays until the person changes it."""
    both.api_user.phone_number = "+15550001111"  # matched the old pattern, not a real range
    both.api_user.save()

    response = both.api.patch("/api/profile", {"display_name": "Renamed"}, format="json")

    assert response.status_code == 200
    both.api_user.refresh_from_db()
    assert both.api_user.display_name == "Renamed"
    assert str(both.api_user.phone_number) == "+15550001111"
