"""Fixtures for orders: the embedded sandbox takes the payments, as in tests/billing, and the real
media pipeline (ffmpeg, librosa) turns synthesised drafts and finals into previews and
deliveries, run through the on-commit callbacks with Celery eager."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client

from billing.providers import sandbox
from orders.models import Order, OrderStatus
from tests.audio.conftest import sources, upload_of  # noqa: F401 - the session fixture, shared
from tests.billing.factories import no_provider_keys
from tests.factories import MusicianFactory, UserFactory
from tests.orders.factories import PackageFactory, brief


@pytest.fixture(autouse=True)
def _orders_defaults(settings):
    settings.BILLING_CURRENCY = "INR"
    settings.SITE_URL = "http://testserver"
    no_provider_keys(settings)


@pytest.fixture
def sandbox_provider():
    return sandbox


def path_of(url: str) -> str:
    return urlsplit(url).path


# --- the media pipeline ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def librosa_warm():
    """librosa's numba kernels compiled (or loaded from NUMBA_CACHE_DIR) once per session.
    Not autouse: only the tests that run the pipeline pay for it."""
    from audio.analysis import warm_up

    warm_up()


@pytest.fixture
def pipeline(librosa_warm, sources, django_capture_on_commit_callbacks):  # noqa: F811
    """``with pipeline():`` runs what commits at the end of the block, the media chain included
    (and the handlers and notifications it sets off)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def client_for(user) -> Client:
    """A logged-in browser session (None: no session at all)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def media_files(settings) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def upload(client, order, path, *, endpoint="versions", name=None, **fields):
    """POST a file as multipart "audio" to /api/orders/{id}/<endpoint>."""
    data = {"audio": upload_of(path, name=name), **fields}
    return client.post(f"/api/orders/{order.pk}/{endpoint}", data)


def draft_uploaded(client, order, path, pipeline, **fields):
    """The musician uploads a draft and the pipeline runs on commit; the version is settled."""
    with pipeline():
        response = upload(client, order, path, **fields)
    assert response.status_code == 202, response.content
    order.refresh_from_db()
    return response


@pytest.fixture
def order_in_progress(sandbox_provider, django_capture_on_commit_callbacks, db):
    """An order as the customer and the musician get it: placed through the API, the deposit
    paid on the sandbox checkout page, and accepted by the musician (in_progress). The package
    includes one revision."""
    customer = UserFactory()
    package = PackageFactory(musician=MusicianFactory(), revisions_included=1, price=200_001)
    client = client_for(customer)
    placed = client.post(
        "/api/orders", {"package": str(package.pk), **brief()}, content_type="application/json"
    )
    assert placed.status_code == 201, placed.content
    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(
            path_of(placed.json()["deposit"]["checkout_url"]), {"outcome": "success"}
        )
    assert paid.status_code in (200, 302), paid.content
    order = Order.objects.get(pk=placed.json()["id"])
    assert order.status == OrderStatus.MATCHING and order.musician_id == package.musician_id
    with django_capture_on_commit_callbacks(execute=True):
        accepted = client_for(package.musician).post(f"/api/orders/{order.pk}/accept")
    assert accepted.status_code == 200, accepted.content
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS
    return order


def approved_with_draft(order, path, pipeline):
    """The musician's draft goes through the pipeline and the customer approves it."""
    draft_uploaded(client_for(order.musician), order, path, pipeline)
    assert order.status == OrderStatus.IN_REVIEW
    with pipeline():
        approved = client_for(order.customer).post(f"/api/orders/{order.pk}/approve")
    assert approved.status_code == 200, approved.content
    order.refresh_from_db()
    return order


def finals_delivered(order, path, pipeline):
    """The musician uploads the finals; they are normalised and pass QC: the order is
    delivered."""
    with pipeline():
        response = upload(client_for(order.musician), order, path, endpoint="deliver")
    assert response.status_code == 202, response.content
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED, order.deliveries.last().failure_reason
    return order


def balance_paid(order, pipeline):
    """The customer pays the balance on the sandbox checkout page: the order completes."""
    customer = client_for(order.customer)
    due = customer.post(f"/api/orders/{order.pk}/pay_balance")
    assert due.status_code == 200, due.content
    with pipeline():
        customer.post(path_of(due.json()["checkout_url"]), {"outcome": "success"})
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    return order


@pytest.fixture
def order_approved(order_in_progress, sources, pipeline):  # noqa: F811
    """An order whose first draft (through the pipeline) the customer approved."""
    return approved_with_draft(order_in_progress, sources.music_wav, pipeline)
