import pytest
from django.db import IntegrityError

from accounts.models import User
from accounts.services import EmailTaken, user_create
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_ids_are_uuids():
    user = UserFactory()

    assert len(str(user.pk)) == 36


def test_the_database_refuses_the_same_email_in_another_case():
    UserFactory(email="same@example.com")

    with pytest.raises(IntegrityError):
        User.objects.create(email="SAME@example.com", display_name="x")


def test_natural_key_lookup_ignores_case():
    user = UserFactory(email="Mixed.Case@Example.com")

    assert User.objects.get_by_natural_key("mixed.case@example.com") == user


def test_user_create_normalises_and_validates():
    user = user_create(email="  new@EXAMPLE.com ", password=DEFAULT_PASSWORD, display_name=" New ")

    assert user.email == "new@example.com"
    assert user.display_name == "New"
    with pytest.raises(EmailTaken):
        user_create(email="NEW@example.com", password=DEFAULT_PASSWORD, display_name="Again")


def test_createsuperuser_path_makes_staff():
    admin = User.objects.create_superuser(
        email="boss@example.com", password="x", display_name="Boss"
    )

    assert admin.is_staff and admin.is_superuser
    assert str(admin) == "Boss"
