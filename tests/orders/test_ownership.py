"""Who may touch an order: its customer, its musician and staff. Everyone else gets 404 from
every order endpoint (whatever they send), anonymous callers 401/403, and the signed links
handed to the customer work for the customer alone."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audio import access
from audio.models import AudioAsset
from orders.api_urls import ORDER_ENDPOINTS
from orders.models import Delivery, OrderEvent, OrderStatus, Version
from tests.factories import MusicianFactory, UserFactory
from tests.orders.conftest import (
    balance_paid,
    body_of,
    client_for,
    finals_delivered,
    media_files,
)
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db
S = OrderStatus

AUDIO = object()  # stands for a valid audio file in the payload

# (method, endpoint under /api/orders/{id}, a payload the order's own side could send)
ENDPOINTS = [
    ("get", "", None),
    ("post", "accept", {}),
    ("post", "decline", {"reason": "Busy that week."}),
    ("post", "advance_stage", {"note": "Moving on."}),
    ("post", "request_revision", {"feedback": "Slower, please."}),
    ("post", "revision_consent", {"accept": True}),
    ("post", "approve", {}),
    ("post", "cancel", {"reason": "Changed my mind."}),
    ("post", "open_dispute", {"reason": "Not what I asked for."}),
    ("post", "dispute_evidence", {"text": "See v1."}),
    ("post", "resolve_dispute", {"outcome": "refund"}),
    ("post", "pay_balance", {}),
    ("post", "pay_deposit", {}),
    ("get", "versions", None),
    ("post", "versions", {"audio": AUDIO, "note": "v1"}),
    ("post", "deliver", {"audio": AUDIO}),
    ("get", "downloads", None),
    ("post", "review", {"rating": 5, "text": "Lovely."}),
    ("get", "messages", None),
    ("post", "messages", {"client_msg_id": "0b7f8d2e-3c4a-4f5e-9a1b-2c3d4e5f6a7b", "body": "Hi"}),
    ("post", "messages/read", {"up_to_id": 1}),
    ("post", "attachments", {"file": AUDIO}),
]
ENDPOINT_IDS = [f"{method}:{name or 'detail'}" for method, name, _ in ENDPOINTS]


def test_the_matrix_covers_every_order_endpoint():
    assert {name for _, name, _ in ENDPOINTS if name} == set(ORDER_ENDPOINTS)


def _send(client, order, method, name, payload, sources):
    url = f"/api/orders/{order.pk}/{name}" if name else f"/api/orders/{order.pk}"
    if method == "get":
        return client.get(url)
    if payload is None:
        return client.post(url)
    if any(value is AUDIO for value in payload.values()):
        data = {
            key: SimpleUploadedFile("take.wav", sources.music_wav.read_bytes())
            if value is AUDIO
            else value
            for key, value in payload.items()
        }
        return client.post(url, data)  # multipart
    return client.post(url, payload, content_type="application/json")


def _untouched(order, events, settings):
    order.refresh_from_db()
    assert order.status == events[0]
    assert OrderEvent.objects.filter(order=order).count() == events[1]
    assert not Version.objects.exists() and not Delivery.objects.exists()
    assert not AudioAsset.objects.exists() and media_files(settings) == []


@pytest.fixture(params=[S.IN_REVIEW, S.DELIVERED], ids=str)
def order(request):
    return OrderFactory(status=request.param)


@pytest.mark.parametrize("body", ["valid", "empty"])
@pytest.mark.parametrize("who", ["other_customer", "unassigned_musician"])
@pytest.mark.parametrize(("method", "name", "payload"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_an_outsider_gets_404_from_every_endpoint(
    order, who, body, method, name, payload, sources, settings
):
    outsider = UserFactory() if who == "other_customer" else MusicianFactory()
    before = (order.status, OrderEvent.objects.filter(order=order).count())
    sent = payload if body == "valid" else ({} if payload is not None else None)
    response = _send(client_for(outsider), order, method, name, sent, sources)
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    _untouched(order, before, settings)


@pytest.mark.parametrize(("method", "name", "payload"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_anonymous_callers_are_turned_away(order, method, name, payload, sources, settings):
    before = (order.status, OrderEvent.objects.filter(order=order).count())
    response = _send(client_for(None), order, method, name, payload, sources)
    assert response.status_code in (401, 403), response.content
    _untouched(order, before, settings)


@pytest.mark.parametrize(("method", "name", "payload"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_an_unknown_order_is_404_for_everyone(method, name, payload, sources, staff):
    ghost = OrderFactory.build()  # never saved: no such order
    for user in (UserFactory(), staff):
        response = _send(client_for(user), ghost, method, name, payload, sources)
        assert response.status_code == 404, (user, response.content)


def test_a_musician_who_declined_no_longer_sees_the_order(sources):
    order = OrderFactory(status=S.MATCHING)
    former = order.musician
    declined = client_for(former).post(f"/api/orders/{order.pk}/decline")
    assert declined.status_code == 200, declined.content
    for method, name, payload in ENDPOINTS:
        response = _send(client_for(former), order, method, name, payload, sources)
        assert response.status_code == 404, (name, response.content)


def test_the_customers_signed_links_are_issued_to_the_customer_alone(
    order_approved, sources, pipeline
):
    """Signed links are bearer capabilities (a media player or download manager fetches them
    without the session), so what protects the files is that only the customer is issued
    them: outsiders get no links, and the links the customer got name the customer."""
    order = finals_delivered(order_approved, sources.music_wav, pipeline)
    order = balance_paid(order, pipeline)
    customer = client_for(order.customer)
    listed = customer.get(f"/api/orders/{order.pk}/versions").json()["results"]
    previews = [v["preview_url"] for v in listed]
    downloads = [d["url"] for d in customer.get(f"/api/orders/{order.pk}/downloads").json()]
    assert len(previews) == 1 and len(downloads) == 3
    outsiders = {
        "other customer": client_for(UserFactory()),
        "unassigned musician": client_for(MusicianFactory()),
        "the order's own musician": client_for(order.musician),
        "anonymous": client_for(None),
    }
    for who, client in outsiders.items():
        if who == "the order's own musician":
            continue  # the musician may hear the previews and check the finals
        for listing in ("versions", "downloads"):
            response = client.get(f"/api/orders/{order.pk}/{listing}")
            assert response.status_code in (401, 403, 404), (who, listing)
    for url in previews + downloads:
        assert body_of(client_for(None).get(url)), url
        grant = access.token_read(url.split("/")[3])
        assert grant.issued_to == str(order.customer.pk)
