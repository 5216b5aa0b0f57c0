"""The finals through the real pipeline: normalised MP3, WAV and FLAC, gated by QC; the order is
delivered when they pass, and the customer downloads them through expiring signed links once
the balance is paid (docs/architecture.md section 5)."""

import time
from datetime import datetime

import numpy as np
import pytest
from django.utils import timezone

from audio import access
from audio.models import AudioAsset
from billing.services.ledger import balance
from notifications.models import Delivery as Notice
from orders.models import Delivery, MediaStatus, OrderEvent, OrderStatus
from tests.audio import synth
from tests.factories import MusicianFactory
from tests.orders.conftest import (
    balance_paid,
    body_of,
    client_for,
    finals_delivered,
    media_files,
    upload,
)
from tests.orders.factories import OrderFactory

pytestmark = pytest.mark.django_db
S = OrderStatus


def _expires(link) -> datetime:
    return datetime.fromisoformat(link["expires_at"].replace("Z", "+00:00"))


def _check_file(fmt: str, data: bytes):
    if fmt == "flac":
        assert data[:4] == b"fLaC"
    elif fmt == "wav":
        assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    else:
        assert data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def test_finals_pass_qc_the_order_is_delivered_and_downloads_open_once_the_balance_is_paid(
    order_approved, sources, pipeline, settings, monkeypatch
):
    settings.ORDER_DOWNLOAD_TTL_SECONDS = 120
    order = order_approved
    musician, customer = client_for(order.musician), client_for(order.customer)
    with pipeline():
        response = upload(musician, order, sources.music_wav, endpoint="deliver")
        assert response.status_code == 202, response.content
        assert (response.json()["number"], response.json()["status"]) == (1, "processing")

    delivery = Delivery.objects.get(order=order)
    assert delivery.status == MediaStatus.READY and delivery.ready_at is not None
    assert delivery.asset.purpose == AudioAsset.Purpose.DELIVERY
    order.refresh_from_db()
    assert order.status == S.DELIVERED and order.delivered_at is not None
    assert Notice.objects.filter(event="order.delivered", recipient=order.customer).exists()
    detail = customer.get(f"/api/orders/{order.pk}").json()
    assert detail["deliveries"][0]["status"] == "ready"

    unpaid = customer.get(f"/api/orders/{order.pk}/downloads")
    assert unpaid.status_code == 409 and unpaid.json()["code"] == "balance_unpaid"
    # The musician may check the finals at once.
    assert musician.get(f"/api/orders/{order.pk}/downloads").status_code == 200

    balance_paid(order, pipeline)
    assert balance(code=f"escrow:order:{order.pk}", currency="INR") == 0

    issued = timezone.now()
    first = customer.get(f"/api/orders/{order.pk}/downloads")
    assert first.status_code == 200, first.content
    links = first.json()
    assert [link["format"] for link in links] == ["mp3", "wav", "flac"]
    for link in links:
        assert abs((_expires(link) - issued).total_seconds() - 120) < 5
        fetched = customer.get(link["url"])
        assert fetched.status_code == 200, link
        assert fetched["Content-Disposition"].startswith("attachment;")
        data = body_of(fetched)
        assert len(data) == link["size"] > 0
        _check_file(link["format"], data)

    time.sleep(1.1)  # a link names its expiry to the second: a later one is a new link
    second = customer.get(f"/api/orders/{order.pk}/downloads").json()
    assert {link["url"] for link in second}.isdisjoint(link["url"] for link in links)
    for link in links + second:
        assert customer.get(link["url"]).status_code == 200

    later = time.time() + 125  # past every link's expiry
    monkeypatch.setattr(access.time, "time", lambda: later)
    for link in links + second:
        assert customer.get(link["url"]).status_code == 403, link["format"]


@pytest.mark.parametrize(
    "status", [S.IN_PROGRESS, S.IN_REVIEW, S.DELIVERED, S.COMPLETED, S.DISPUTED], ids=str
)
def test_finals_are_refused_unless_the_order_is_approved(status, sources, settings):
    order = OrderFactory(status=status)
    events = OrderEvent.objects.filter(order=order).count()
    response = upload(client_for(order.musician), order, sources.music_wav, endpoint="deliver")
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "transition_not_allowed"
    # What the musician may do instead (a disputed order without its dispute row: nothing).
    assert (
        response.json()["allowed"]
        == {
            S.IN_PROGRESS: ["advance_stage", "open_dispute", "submit_draft"],
            S.IN_REVIEW: ["open_dispute"],
            S.DELIVERED: ["open_dispute"],
            S.COMPLETED: [],
            S.DISPUTED: [],
        }[status]
    )
    order.refresh_from_db()
    assert order.status == status
    assert OrderEvent.objects.filter(order=order).count() == events
    assert not Delivery.objects.exists() and not AudioAsset.objects.exists()
    assert media_files(settings) == []


def test_only_the_orders_musician_delivers(sources, settings):
    order = OrderFactory(status=S.APPROVED)
    by_customer = upload(client_for(order.customer), order, sources.music_wav, endpoint="deliver")
    assert by_customer.status_code == 403
    by_stranger = upload(
        client_for(MusicianFactory()), order, sources.music_wav, endpoint="deliver"
    )
    assert by_stranger.status_code == 404
    assert not Delivery.objects.exists() and media_files(settings) == []
    order.refresh_from_db()
    assert order.status == S.APPROVED


def test_bad_finals_are_rejected_before_anything_is_stored(sources, settings):
    order = OrderFactory(status=S.APPROVED)
    settings.AUDIO_MAX_UPLOAD_BYTES = 10_000
    too_large = upload(client_for(order.musician), order, sources.music_wav, endpoint="deliver")
    assert too_large.status_code == 413, too_large.content
    assert not Delivery.objects.exists() and media_files(settings) == []


def test_downloads_wait_for_the_finals(order_approved):
    order = order_approved
    for user in (order.customer, order.musician):
        response = client_for(user).get(f"/api/orders/{order.pk}/downloads")
        assert response.status_code == 409 and response.json()["code"] == "not_delivered"


@pytest.fixture(scope="module")
def bad_finals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad-finals")
    music = synth.music(6.0)
    return {
        # -40 dB: far below the quietest source the delivery level may be raised from.
        "quiet": (synth.write_wav(folder / "quiet.wav", music * 0.01, 44100), "too quiet"),
        # Driven 4x into full scale: flat-topped all over.
        "clipped": (
            synth.write_wav(folder / "clipped.wav", np.clip(music * 4, -1.0, 1.0), 44100),
            "clips",
        ),
    }


@pytest.mark.parametrize("kind", ["quiet", "clipped"])
def test_finals_that_fail_qc_say_why_and_the_musician_uploads_again(
    order_approved, sources, pipeline, bad_finals, kind
):
    path, reason = bad_finals[kind]
    order = order_approved
    musician = client_for(order.musician)
    with pipeline():
        response = upload(musician, order, path, endpoint="deliver")
    assert response.status_code == 202, response.content

    failed = Delivery.objects.get(order=order)
    assert failed.status == MediaStatus.FAILED
    assert reason in failed.failure_reason
    assert failed.failure_reason == failed.asset.failure_reason
    order.refresh_from_db()
    assert order.status == S.APPROVED
    assert order.events.last().name == "delivery_failed"
    assert not Notice.objects.filter(event="order.delivered").exists()
    shown = musician.get(f"/api/orders/{order.pk}").json()["deliveries"]
    assert shown[0]["status"] == "failed" and reason in shown[0]["failure_reason"]
    assert musician.get(f"/api/orders/{order.pk}/downloads").json()["code"] == "not_delivered"

    finals_delivered(order, sources.music_wav, pipeline)
    assert [(d.number, d.status) for d in Delivery.objects.filter(order=order)] == [
        (1, "failed"),
        (2, "ready"),
    ]
    links = musician.get(f"/api/orders/{order.pk}/downloads").json()
    assert [link["format"] for link in links] == ["mp3", "wav", "flac"]
    data = body_of(musician.get(links[2]["url"]))
    assert data[:4] == b"fLaC"


def test_a_second_upload_of_finals_waits_for_the_first(order_approved, sources, settings):
    order = order_approved
    musician = client_for(order.musician)
    before = set(media_files(settings))
    # No on-commit callbacks run: the first upload stays in processing.
    assert upload(musician, order, sources.music_wav, endpoint="deliver").status_code == 202
    second = upload(musician, order, sources.music_mp3, endpoint="deliver")
    assert second.status_code == 409 and second.json()["code"] == "delivery_processing"
    assert Delivery.objects.count() == 1
    assert len(set(media_files(settings)) - before) == 1


@pytest.mark.parametrize(("ttl", "lasts"), [(30, 30), (2 * 3600, 3600)], ids=["set", "capped"])
def test_a_link_lasts_as_its_expires_at_says(
    order_approved, sources, pipeline, settings, monkeypatch, ttl, lasts
):
    """ORDER_DOWNLOAD_TTL_SECONDS sets the lifetime, within audio's cap on signed links
    (AUDIO_SIGNED_URL_MAX_TTL_SECONDS, an hour by default); expires_at tells the truth."""
    settings.ORDER_DOWNLOAD_TTL_SECONDS = ttl
    order = finals_delivered(order_approved, sources.music_wav, pipeline)
    musician = client_for(order.musician)
    issued = time.time()
    link = musician.get(f"/api/orders/{order.pk}/downloads").json()[0]
    expires = _expires(link).timestamp()
    assert lasts - 2 < expires - issued <= lasts + 1
    monkeypatch.setattr(access.time, "time", lambda: expires - 2)
    assert musician.get(link["url"]).status_code == 200
    monkeypatch.setattr(access.time, "time", lambda: expires + 1)
    assert musician.get(link["url"]).status_code == 403


def test_new_finals_after_a_dispute_sent_the_work_back_replace_the_old_ones(
    order_approved, sources, pipeline, staff
):
    order = finals_delivered(order_approved, sources.music_wav, pipeline)
    customer, musician = client_for(order.customer), client_for(order.musician)
    opened = customer.post(
        f"/api/orders/{order.pk}/open_dispute", {"reason": "Wrong name sung."}, "application/json"
    )
    assert opened.status_code == 200, opened.content
    resolved = client_for(staff).post(
        f"/api/orders/{order.pk}/resolve_dispute", {"outcome": "continue"}, "application/json"
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "in_progress"
    with pipeline():
        upload(musician, order, sources.music_mp3)
    order.refresh_from_db()
    assert order.status == S.IN_REVIEW
    assert customer.post(f"/api/orders/{order.pk}/approve").status_code == 200

    with pipeline():
        again = upload(musician, order, sources.music_mp3, endpoint="deliver")
    assert again.status_code == 202, again.content
    order.refresh_from_db()
    assert order.status == S.DELIVERED
    live = Delivery.objects.get(order=order, status="ready")
    assert live.number == 2
    assert Delivery.objects.get(order=order, number=1).status == "replaced"
    links = musician.get(f"/api/orders/{order.pk}/downloads").json()
    assert (
        body_of(musician.get(links[1]["url"]))
        == live.asset.renditions.get(kind="delivery_wav").file.read()
    )
