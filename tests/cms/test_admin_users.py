import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import StaffFactory, UserFactory

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
            "first_name": "New",
            "last_name": "Editor",
            "password1": "Editor-Password-123",
            "password2": "Editor-Password-123",
            "is_superuser": "",
        },
    )

    assert response.status_code == 302
    created = User.objects.get(email="new.editor@example.com")
    assert created.display_name == "Nova Editor"
    assert created.is_musician


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
