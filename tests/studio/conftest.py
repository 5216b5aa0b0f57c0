"""Fixtures for the studio: a musician with a browser session, another musician whose ids must
stay out of reach, and a listener the studio refuses."""

import pytest
from django.test import Client

from tests.audio.conftest import sources, upload_of  # noqa: F401 - the session fixture, shared
from tests.billing.factories import no_provider_keys
from tests.factories import MusicianFactory, UserFactory


@pytest.fixture(autouse=True)
def _studio_defaults(settings):
    settings.BILLING_CURRENCY = "INR"
    settings.SITE_URL = "http://testserver"
    no_provider_keys(settings)


def client_for(user) -> Client:
    """A logged-in browser session (None: an anonymous one)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def musician(db):
    return MusicianFactory(display_name="Meera Nair")


@pytest.fixture
def other_musician(db):
    return MusicianFactory(display_name="Ravi Other")


@pytest.fixture
def listener(db):
    return UserFactory(display_name="Lena Listener")


@pytest.fixture
def studio(musician):
    """The musician's browser session."""
    return client_for(musician)
