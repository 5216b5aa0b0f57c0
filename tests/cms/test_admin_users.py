import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.selectors import avatar_path
from accounts.services import profile_update
from tests.accounts.images import image_upload
from tests.factories import MusicianFactory, StaffFactory, UserFactory
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_staff_can_list_and_edit_people_in_the_wagtail_admin(client):
    client.force_login(StaffFactory())
    person = UserFactory(display_name="Findable Fiona")

    listing = client.get("/admin/users/")
    edit = client.get(f"/admin/users/edit/{person.pk}/")

    assert listing.status_code == 200
    assert person.email in listing.content.decode()
    assert edit.status_code == 200


def test_staff_can_create_a_person_in_the_wagtail_admin(client):
    client.force_login(StaffFactory())

    response = client.post(
        reverse("wagtailusers_users:add"),
        {
            "email": "new.editor@example.com",
            "display_name": "Nova Editor",
            "is_musician": "on",
            "password1": "Editor-Password-123",
            "password2": "Editor-Password-123",
            "is_superuser": "",
        },
    )

    assert response.status_code == 302
    created = User.objects.get(email="new.editor@example.com")
    assert created.display_name == "Nova Editor"
    assert created.is_musician


def test_staff_can_save_a_person_who_has_only_a_display_name(client):
    """People sign up with a display name; the admin must not ask for first and last names."""
    client.force_login(StaffFactory())
    person = UserFactory(display_name="Asha Rao", first_name="", last_name="")

    response = client.post(
        reverse("wagtailusers_users:edit", args=[person.pk]),
        {
            "email": person.email,
            "display_name": "Asha R.",
            "is_musician": "on",
            "is_active": "on",
            "is_superuser": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert (person.display_name, person.is_musician) == ("Asha R.", True)


def test_the_admin_refuses_an_email_taken_in_another_case(client):
    client.force_login(StaffFactory())
    UserFactory(email="taken@example.com")

    response = client.post(
        reverse("wagtailusers_users:add"),
        {
            "email": "TAKEN@example.com",
            "display_name": "Dup",
            "password1": "Editor-Password-123",
            "password2": "Editor-Password-123",
        },
    )

    assert response.status_code == 200
    assert "An account with this email already exists." in response.content.decode()
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_people_without_staff_rights_cannot_open_the_admin(client):
    client.force_login(UserFactory())

    response = client.get("/admin/")

    assert response.status_code in (302, 403)


# --- offline, avatars, roles ----------------------------------------------------------------


class _Resources(HTMLParser):
    """Every URL a browser would fetch on its own while showing the page."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("img", "script", "source", "iframe", "video", "audio") and attributes.get("src"):
            self.urls.append(attributes["src"])
        if tag == "link" and attributes.get("href"):
            self.urls.append(attributes["href"])
        for candidate in (attributes.get("srcset") or "").split(","):
            if candidate.strip():
                self.urls.append(candidate.split()[0])


def _fetched_urls(html: str) -> list[str]:
    parser = _Resources()
    parser.feed(html)
    return parser.urls


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return url.startswith("data:") or (not parts.scheme and not parts.netloc)


def _avatar_sources(html: str) -> list[str]:
    return [url for url in _fetched_urls(html) if "avatar" in url]


@pytest.fixture
def admin_client(client):
    admin = StaffFactory(display_name="Ada Admin")
    profile_update(user=admin, avatar=image_upload("ada.png"))
    client.force_login(admin)
    client.admin = User.objects.get(pk=admin.pk)
    return client


@pytest.mark.parametrize(
    "page", ["/admin/", "/admin/users/", "/admin/account/", "/admin/users/edit/{person}/"]
)
def test_the_admin_fetches_nothing_from_other_sites(admin_client, page):
    person = UserFactory(email="someone.with.a.gravatar@example.com")

    response = admin_client.get(page.format(person=person.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert "gravatar.com" not in html
    # The release check is a script controller that asks releases.wagtail.io.
    assert "releases.wagtail.io" not in html and "w-upgrade" not in html
    fetched = _fetched_urls(html)
    assert fetched, "no resources found: the parser is not reading the page"
    assert [url for url in fetched if not _is_local(url)] == []


def test_the_admin_shows_the_avatar_people_uploaded(admin_client):
    person = UserFactory(display_name="Pia Picture")
    person = profile_update(user=person, avatar=image_upload("pia.png", color=(200, 30, 30)))
    without = UserFactory(display_name="Nora Noimage")

    listing = admin_client.get("/admin/users/").content.decode()
    account = admin_client.get("/admin/account/").content.decode()

    assert avatar_path(person) in _avatar_sources(listing)
    assert avatar_path(admin_client.admin) in _avatar_sources(listing)  # the menu's own avatar
    assert avatar_path(admin_client.admin) in _avatar_sources(account)
    assert "Change it on your profile" in account
    # Someone without an avatar gets Wagtail's default image, served from this site.
    assert avatar_path(without) is None
    assert any("default-user-avatar" in url for url in _avatar_sources(listing))
    served = admin_client.get(avatar_path(person))
    assert served.status_code == 200
    assert b"".join(served.streaming_content).startswith(b"\x89PNG")


def test_a_new_avatar_is_a_new_address(admin_client):
    person = profile_update(user=UserFactory(), avatar=image_upload("one.png"))
    first = avatar_path(person)

    person = profile_update(user=person, avatar=image_upload("two.png"))

    assert avatar_path(person) != first  # the hour-long cache cannot show the old one


def _role_of(html: str, name: str) -> str:
    for row in re.findall(r"<tr[^>]*>.*?</tr>", html, re.S):
        if name in row:
            return re.search(
                r'<td[^>]*class="[^"]*\brole\b[^"]*"[^>]*>\s*(.*?)\s*</td>', row, re.S
            )[1]
    raise AssertionError(f"{name} is not listed")


def test_the_users_list_shows_each_persons_role(admin_client):
    UserFactory(display_name="Lena Listener")
    customer = UserFactory(display_name="Cora Customer")
    OrderFactory(customer=customer, musician=None, status="placed")
    musician = MusicianFactory(display_name="Milo Musician")
    OrderFactory(customer=musician, musician=None, status="placed")  # musicians commission too
    StaffFactory(display_name="Sam Staff")

    html = admin_client.get("/admin/users/").content.decode()

    assert re.search(r'<th[^>]*class="[^"]*\brole\b[^"]*"[^>]*>\s*Role\s*</th>', html)
    assert _role_of(html, "Lena Listener") == "Listener"
    assert _role_of(html, "Cora Customer") == "Customer"
    assert _role_of(html, "Milo Musician") == "Musician"
    assert _role_of(html, "Sam Staff") == "Staff"


def _roles(html: str) -> list[str]:
    return re.findall(r'<td[^>]*class="[^"]*\brole\b[^"]*"[^>]*>\s*(.*?)\s*</td>', html, re.S)


def test_the_users_list_costs_the_same_queries_for_many_people(
    admin_client, django_assert_max_num_queries
):
    def people(count):
        for _ in range(count):
            person = UserFactory()
            OrderFactory(customer=person, musician=None, status="placed")
            profile_update(user=person, avatar=image_upload())

    people(2)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get("/admin/users/").status_code == 200
    people(12)

    with django_assert_max_num_queries(len(few.captured_queries)):
        html = admin_client.get("/admin/users/").content.decode()

    assert sorted(_roles(html)) == ["Customer"] * 14 + ["Staff"]
