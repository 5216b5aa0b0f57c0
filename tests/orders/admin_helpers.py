"""Shared by the admin tests: people who can or cannot use the staff's order screens."""

from django.contrib.auth.models import Group, Permission
from django.test import Client

from tests.factories import MusicianFactory, StaffFactory, UserFactory

ADMIN = "/admin"


def admin_access_group() -> Group:
    """A group that lets its people into the Wagtail admin (as musicians editing their own
    page get), without any staff right."""
    group, _ = Group.objects.get_or_create(name="Admin access only")
    group.permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    return group


def musician_in_admin():
    """A musician who may enter the admin but is not staff."""
    musician = MusicianFactory()
    musician.groups.add(admin_access_group())
    return musician


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_client(**fields):
    staff = StaffFactory(**fields)
    return staff, logged_in(staff)


def assert_refused(response, *, text: str = ""):
    """Wagtail refuses: to the login page (no admin access) or its permission denied (a
    redirect to the admin home, or 403), and shows none of the data."""
    assert response.status_code in (302, 403), response.status_code
    if response.status_code == 302:
        assert response["Location"].startswith((f"{ADMIN}/login/", f"{ADMIN}/")), response[
            "Location"
        ]
        assert not response["Location"].startswith(f"{ADMIN}/orders/")
        assert not response["Location"].startswith(f"{ADMIN}/disputes/")
    if text:
        assert text not in response.content.decode()


def non_staff_people():
    """A customer (no admin access at all) and a musician who can enter the admin."""
    return {"customer": UserFactory(), "musician": musician_in_admin()}
