"""Settings: availability, the matching profile and packages go through orders' services (the
same rules as the API), refusals land on their field with a 400 and change nothing; the payout
account is billing's page, linked with its state."""

import re
from datetime import date

import pytest

from orders.availability import musician_availability
from orders.models import MusicianProfile, Package
from orders.services import musician_profile_get
from tests.billing.factories import PayoutAccountFactory
from tests.orders.factories import PackageFactory
from tests.studio.conftest import client_for

pytestmark = pytest.mark.django_db


def profile_of(musician) -> MusicianProfile:
    return MusicianProfile.objects.get(musician=musician)


def field_error(body, field) -> str:
    found = re.search(rf'id="{field}_error">([^<]*)<', body)
    return found.group(1) if found else ""


# --- availability ---------------------------------------------------------------------------


def test_pausing_and_setting_capacity_and_time_away(studio, musician):
    response = studio.post(
        "/studio/settings/availability/",
        {"capacity": "5", "away_from": "2026-12-20", "away_until": "2027-01-03"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/studio/settings/#availability"
    profile = profile_of(musician)
    assert profile.accepting_orders is False  # the box was left unticked
    assert profile.capacity == 5
    assert (profile.away_from, profile.away_until) == (date(2026, 12, 20), date(2027, 1, 3))
    assert musician_availability(musician).reason == "paused"
    page = studio.get("/studio/settings/").content.decode()
    assert "Your availability is saved." in page
    assert "Now: Paused: not taking new commissions" in page

    studio.post("/studio/settings/availability/", {"capacity": "5", "accepting_orders": "on"})
    profile = profile_of(musician)
    assert profile.accepting_orders and profile.away_from is None and profile.away_until is None
    assert musician_availability(musician).available


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"capacity": "0"}, "capacity", "greater than or equal to 1"),
        ({"capacity": "51"}, "capacity", "less than or equal to 50"),
        ({"capacity": "many"}, "capacity", "Enter a whole number"),
        (
            {"capacity": "3", "away_from": "2027-01-03", "away_until": "2026-12-20"},
            "away_until",
            "comes after its start",
        ),
        ({"capacity": "3", "away_from": "someday"}, "away_from", "Enter a valid date"),
    ],
)
def test_bad_availability_is_refused_on_its_field_and_nothing_changes(
    studio, musician, data, field, message
):
    musician_profile_get(musician)
    response = studio.post("/studio/settings/availability/", data)
    assert response.status_code == 400
    assert message in field_error(response.content.decode(), f"id_{field}")
    profile = profile_of(musician)
    assert profile.capacity == 3 and profile.accepting_orders and profile.away_from is None


# --- the matching profile -------------------------------------------------------------------


def test_styles_and_occasions_are_saved_for_matching(studio, musician):
    response = studio.post(
        "/studio/settings/profile/",
        {"styles": " Acoustic Pop, ghazal,, acoustic pop ", "occasions": ["wedding", "birthday"]},
    )
    assert response.status_code == 302
    profile = profile_of(musician)
    assert profile.styles == ["acoustic pop", "ghazal"]
    assert profile.occasions == ["wedding", "birthday"]
    page = studio.get("/studio/settings/").content.decode()
    assert 'value="acoustic pop, ghazal"' in page
    assert re.search(r'value="wedding"[^>]*checked', page)


def test_too_many_styles_or_an_unknown_occasion_are_refused(studio, musician):
    styles = ", ".join(f"style {n}" for n in range(21))
    response = studio.post("/studio/settings/profile/", {"styles": styles})
    assert response.status_code == 400
    assert "At most 20 styles." in field_error(response.content.decode(), "id_styles")
    response = studio.post("/studio/settings/profile/", {"occasions": ["funeral-party"]})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not MusicianProfile.objects.filter(musician=musician).exclude(styles=[]).exists()


# --- packages -------------------------------------------------------------------------------


PACKAGE = {
    "name": "Wedding song",
    "description": "Three minutes, written for the couple.",
    "price": "4500.50",
    "currency": "inr",
    "delivery_days": "10",
    "revisions_included": "2",
    "occasions": ["wedding", "anniversary"],
}


def test_a_package_is_created_with_its_price_in_minor_units(studio, musician):
    response = studio.post("/studio/settings/packages/", PACKAGE)
    assert response.status_code == 302
    assert response["Location"] == "/studio/settings/#packages"
    package = Package.objects.get(musician=musician)
    assert package.price == 450_050 and package.currency == "INR"
    assert (package.delivery_days, package.revisions_included) == (10, 2)
    assert package.occasions == ["wedding", "anniversary"] and package.active
    page = studio.get("/studio/settings/").content.decode()
    assert "“Wedding song” is on offer." in page
    row = re.search(rf'data-testid="package-{package.pk}".*?</tr>', page, re.S).group(0)
    assert "₹4,500.50" in row and "10 days" in row and "Wedding, Anniversary" in row


def test_a_zero_decimal_currency_takes_whole_amounts(studio, musician):
    response = studio.post("/studio/settings/packages/", {**PACKAGE, "currency": "JPY"})
    assert response.status_code == 400
    assert "JPY has no cents" in response.content.decode()
    studio.post("/studio/settings/packages/", {**PACKAGE, "currency": "JPY", "price": "5000"})
    assert Package.objects.get(musician=musician).price == 5000


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"delivery_days": "0"}, "delivery_days", "greater than or equal to 1"),
        ({"delivery_days": "400"}, "delivery_days", "less than or equal to 365"),
        ({"price": "0"}, "price", "greater than or equal to 0.01"),
        ({"price": "2000000"}, "price", "more than a package can cost"),
        ({"currency": "R5X"}, "currency", "three-letter currency code"),
        ({"revisions_included": "21"}, "revisions_included", "less than or equal to 20"),
        ({"name": ""}, "name", "This field is required"),
    ],
)
def test_a_bad_package_is_refused_on_its_field_and_kept_as_typed(
    studio, musician, change, field, message
):
    response = studio.post("/studio/settings/packages/", {**PACKAGE, **change})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in field_error(body, f"new-package-{field}")
    assert 'value="Three minutes' in body or "Three minutes, written for the couple." in body
    assert not Package.objects.filter(musician=musician).exists()


def test_a_package_is_edited_and_orders_keep_their_terms(studio, musician):
    package = PackageFactory(musician=musician, name="Old name", price=200_000)
    page = studio.get(f"/studio/settings/packages/{package.pk}/").content.decode()
    assert 'value="2000.00"' in page and 'value="Old name"' in page
    response = studio.post(
        f"/studio/settings/packages/{package.pk}/", {**PACKAGE, "name": "New name"}
    )
    assert response.status_code == 302
    package.refresh_from_db()
    assert package.name == "New name" and package.price == 450_050
    bad = studio.post(f"/studio/settings/packages/{package.pk}/", {**PACKAGE, "price": "-3"})
    assert bad.status_code == 400
    package.refresh_from_db()
    assert package.price == 450_050


def test_a_package_is_retired_and_offered_again(studio, musician):
    package = PackageFactory(musician=musician)
    response = studio.post(f"/studio/settings/packages/{package.pk}/retire/")
    assert response.status_code == 302
    package.refresh_from_db()
    assert not package.active
    page = studio.get("/studio/settings/").content.decode()
    assert "is retired" in page and "Retired</span>" in page
    assert 'data-testid="package-restore"' in page
    studio.post(f"/studio/settings/packages/{package.pk}/restore/")
    package.refresh_from_db()
    assert package.active


# --- the payout account ---------------------------------------------------------------------


def test_the_payout_account_is_shown_with_a_link_to_billings_page(studio, musician):
    page = studio.get("/studio/settings/").content.decode()
    assert "You have no payout account yet" in page
    assert 'href="/billing/payouts/#payout-account"' in page
    PayoutAccountFactory(user=musician, account_id="sbx_meera")
    page = studio.get("/studio/settings/").content.decode()
    assert "sbx_meera" in page and "Change the payout account" in page


def test_settings_read_in_a_fixed_number_of_queries(musician, django_assert_max_num_queries):
    studio = client_for(musician)
    PackageFactory(musician=musician)
    with django_assert_max_num_queries(12) as few:
        studio.get("/studio/settings/")
    for _ in range(5):
        PackageFactory(musician=musician)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert studio.get("/studio/settings/").content.decode().count('data-testid="package-') > 6
