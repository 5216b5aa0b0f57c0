"""Drafts through the real media pipeline: the musician's upload becomes an immutable version
whose watermarked preview is all the customer hears; revisions, and the consent beyond the
included ones (docs/architecture.md section 5)."""

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audio.models import AudioAsset, Rendition
from audio.pipeline.outcome import audio_asset_fail
from notifications.models import Delivery as Notice
from orders.models import MediaStatus, OrderEvent, OrderStatus, RevisionRequest, Version
from orders.services.base import event_add
from tests.audio.factories import RenditionFactory
from tests.factories import MusicianFactory, UserFactory
from tests.orders.conftest import (
    body_of,
    client_for,
    draft_uploaded,
    media_files,
    upload,
)
from tests.orders.factories import OrderFactory, draft_of

pytestmark = pytest.mark.django_db
S = OrderStatus


def notices(event, user):
    return list(Notice.objects.filter(event=event, recipient=user))


def state_of(order):
    """What a rejected request must leave as it was."""
    order.refresh_from_db()
    return (
        order.status,
        order.stage,
        order.revisions_used,
        OrderEvent.objects.filter(order=order).count(),
    )


# --- the first draft ------------------------------------------------------------------------


def test_a_draft_becomes_v1_and_the_order_goes_to_review_with_its_preview(
    order_in_progress, sources, pipeline
):
    order = order_in_progress
    musician, customer = client_for(order.musician), client_for(order.customer)
    with pipeline():
        response = upload(musician, order, sources.music_wav, note="First take, acoustic.")
        # The answer comes before the pipeline runs: the version is still being processed.
        assert response.status_code == 202, response.content
        body = response.json()
        assert (body["number"], body["status"], body["note"]) == (
            1,
            "processing",
            "First take, acoustic.",
        )
        assert body["preview_url"] is None and body["feedback"] == ""

    version = Version.objects.get(order=order)
    assert version.status == MediaStatus.READY and version.ready_at is not None
    assert version.asset.purpose == AudioAsset.Purpose.PREVIEW
    order.refresh_from_db()
    assert order.status == S.IN_REVIEW
    assert len(notices("order.draft_ready", order.customer)) >= 1
    names = [e.name for e in order.events.all()]
    assert names[-2:] == ["version_uploaded", "submit_draft"]

    detail = customer.get(f"/api/orders/{order.pk}")
    assert detail.status_code == 200
    listed = customer.get(f"/api/orders/{order.pk}/versions")
    assert listed.status_code == 200
    assert (listed.json()["count"], listed.json()["next"]) == (1, None)
    for versions in (detail.json()["versions"], listed.json()["results"]):
        assert [v["number"] for v in versions] == [1]
        assert versions[0]["status"] == "ready"
        assert versions[0]["duration"] == pytest.approx(6.0, abs=0.05)
        assert versions[0]["preview_url"].startswith("/media/s/")
        assert versions[0]["preview_url"].endswith("/preview.mp3")
    assert detail.json()["status"] == "in_review"
    assert "approve" in detail.json()["allowed"]


@pytest.mark.parametrize("status", [S.MATCHING, S.IN_REVIEW, S.APPROVED, S.DELIVERED, S.DISPUTED])
def test_a_draft_is_refused_outside_in_progress_and_revision_requested(status, sources, settings):
    order = OrderFactory(status=status)
    before = state_of(order)
    response = upload(client_for(order.musician), order, sources.music_wav)
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "transition_not_allowed"
    assert "submit_draft" not in body["allowed"]
    assert (
        body["allowed"]
        == {
            S.MATCHING: ["accept", "decline"],
            S.IN_REVIEW: ["open_dispute"],
            S.APPROVED: ["deliver", "open_dispute"],
            S.DELIVERED: ["open_dispute"],
            S.DISPUTED: [],
        }[status]
    )
    assert not Version.objects.exists() and not AudioAsset.objects.exists()
    assert media_files(settings) == []
    assert state_of(order) == before


def test_a_second_draft_waits_for_the_first_to_be_processed(order_in_progress, sources, settings):
    order = order_in_progress
    musician = client_for(order.musician)
    # No on-commit callbacks run here: the first draft stays in processing.
    first = upload(musician, order, sources.music_wav)
    assert first.status_code == 202
    before = state_of(order)
    second = upload(musician, order, sources.music_mp3)
    assert second.status_code == 409, second.content
    assert second.json()["code"] == "version_processing"
    assert [v.number for v in Version.objects.filter(order=order)] == [1]
    assert AudioAsset.objects.count() == 1
    assert media_files(settings) == [Version.objects.get().asset.original.name]
    assert state_of(order) == before


def test_only_the_orders_musician_uploads_drafts(order_in_progress, sources, settings):
    order = order_in_progress
    before = state_of(order)
    by_customer = upload(client_for(order.customer), order, sources.music_wav)
    assert by_customer.status_code == 403, by_customer.content
    assert by_customer.json()["code"] == "permission_denied"
    by_stranger = upload(client_for(MusicianFactory()), order, sources.music_wav)
    assert by_stranger.status_code == 404
    anonymous = upload(client_for(None), order, sources.music_wav)
    assert anonymous.status_code in (401, 403)
    assert not Version.objects.exists() and not AudioAsset.objects.exists()
    assert media_files(settings) == []
    assert state_of(order) == before


def _junk_wav() -> SimpleUploadedFile:
    # A RIFF/WAVE header in front of garbage: looks like a WAV, decodes to nothing.
    return SimpleUploadedFile(
        "draft.wav", b"RIFF" + (1000).to_bytes(4, "little") + b"WAVE" + b"junk" * 200
    )


@pytest.mark.parametrize(
    ("make", "limit", "status", "code"),
    [
        (lambda s: SimpleUploadedFile("draft.mp3", b"Lyrics, verse one\n" * 500), None, 415, None),
        (lambda s: SimpleUploadedFile("draft.mp3", s.music_mp3.read_bytes()), 10_000, 413, None),
        (lambda s: _junk_wav(), None, 400, None),
        (lambda s: SimpleUploadedFile("draft.mp3", b""), None, 400, "empty"),
        (lambda s: None, None, 400, None),  # no file at all
    ],
    ids=["not-audio", "too-large", "corrupt", "empty", "missing"],
)
def test_a_bad_upload_is_a_clear_error_and_leaves_nothing(
    order_in_progress, sources, settings, make, limit, status, code
):
    if limit is not None:
        settings.AUDIO_MAX_UPLOAD_BYTES = limit
    order = order_in_progress
    before = state_of(order)
    audio = make(sources)
    data = {"audio": audio} if audio is not None else {"note": "forgot the file"}
    response = client_for(order.musician).post(f"/api/orders/{order.pk}/versions", data)
    assert response.status_code == status, response.content
    body = response.json()
    assert body["detail"] and body["code"]
    if code:
        assert body["code"] == code
    assert not Version.objects.exists() and not AudioAsset.objects.exists()
    assert media_files(settings) == []
    assert state_of(order) == before


def test_a_note_longer_than_allowed_is_refused(order_in_progress, sources, settings):
    order = order_in_progress
    response = upload(client_for(order.musician), order, sources.music_wav, note="x" * 2001)
    assert response.status_code == 400
    assert "note" in response.json()["errors"]
    assert not Version.objects.exists() and media_files(settings) == []


def test_a_draft_that_fails_processing_says_why_and_the_musician_uploads_again(
    order_in_progress, sources, pipeline, tmp_path
):
    order = order_in_progress
    musician = client_for(order.musician)
    data = sources.music_mp3.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) * 2 // 5])  # the upload was cut off at 40 %
    draft_uploaded(musician, order, cut, pipeline)

    v1 = Version.objects.get(order=order, number=1)
    assert v1.status == MediaStatus.FAILED
    assert v1.failure_reason == v1.asset.failure_reason
    assert v1.failure_reason.startswith("The file ends early")
    assert order.status == S.IN_PROGRESS
    assert order.events.last().name == "version_failed"
    assert not notices("order.draft_ready", order.customer)
    listed = musician.get(f"/api/orders/{order.pk}/versions").json()["results"]
    assert listed[0]["status"] == "failed" and listed[0]["failure_reason"] == v1.failure_reason
    assert listed[0]["preview_url"] is None

    draft_uploaded(musician, order, sources.music_mp3, pipeline)
    v2 = Version.objects.get(order=order, number=2)
    assert v2.status == MediaStatus.READY
    assert order.status == S.IN_REVIEW
    v1.refresh_from_db()
    assert v1.status == MediaStatus.FAILED  # the failed attempt stays in the history


def test_an_asset_failed_by_the_pipeline_fails_its_version(order_in_progress, sources):
    """Whatever stops the pipeline (here: the worker gives up on the asset), the version
    follows its asset and the musician may try again."""
    order = order_in_progress
    response = upload(client_for(order.musician), order, sources.music_wav)
    assert response.status_code == 202
    version = Version.objects.get(order=order)
    audio_asset_fail(asset=version.asset, code="internal", reason="The worker ran out of time.")
    version.refresh_from_db()
    order.refresh_from_db()
    assert (version.status, version.failure_reason) == ("failed", "The worker ran out of time.")
    assert order.status == S.IN_PROGRESS
    again = upload(client_for(order.musician), order, sources.music_mp3)
    assert again.status_code == 202 and again.json()["number"] == 2


# --- previews, never the original -----------------------------------------------------------


def _retoken_for(url: str, user) -> str:
    """The URL with its signed payload rewritten to name `user`, its signature kept."""
    prefix, token, filename = url.rsplit("/", 2)
    payload, stamp, signature = token.split(":")
    padded = payload + "=" * (-len(payload) % 4)
    data = json.loads(base64.urlsafe_b64decode(padded))
    data[1] = str(user.pk)
    forged = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return f"{prefix}/{forged.decode().rstrip('=')}:{stamp}:{signature}/{filename}"


def test_the_customer_hears_only_the_preview_issued_to_them(order_in_progress, sources, pipeline):
    order = order_in_progress
    draft_uploaded(client_for(order.musician), order, sources.music_wav, pipeline)
    version = Version.objects.get(order=order)
    preview = version.asset.renditions.get(kind=Rendition.Kind.PREVIEW_MP3)
    original_bytes = sources.music_wav.read_bytes()

    customer = client_for(order.customer)
    mine = customer.get(f"/api/orders/{order.pk}/versions").json()["results"][0]
    assert mine["original_url"] is None
    heard = customer.get(mine["preview_url"])
    assert heard.status_code == 200
    assert heard["Content-Type"] == "audio/mpeg"
    heard_bytes = body_of(heard)
    with preview.file.open("rb") as handle:
        assert heard_bytes == handle.read()
    assert heard_bytes != original_bytes and heard_bytes[:4] != b"RIFF"
    detail = customer.get(f"/api/orders/{order.pk}").json()
    assert detail["versions"][0]["original_url"] is None

    musician = client_for(order.musician)
    theirs = musician.get(f"/api/orders/{order.pk}/versions").json()["results"][0]
    assert theirs["original_url"]
    assert body_of(musician.get(theirs["original_url"])) == original_bytes

    # A signed link is a bearer capability (a phone's player fetches it without the session);
    # who gets one is decided when it is issued, and the person it names cannot be rewritten.
    assert client_for(None).get(mine["preview_url"]).status_code == 200
    for intruder in (UserFactory(), MusicianFactory(), order.musician):
        forged = _retoken_for(mine["preview_url"], intruder)
        assert client_for(intruder).get(forged).status_code == 403
    broken = mine["preview_url"].replace("/preview.mp3", "x/preview.mp3")
    assert customer.get(broken).status_code == 403
    assert (
        customer.get(mine["preview_url"].replace("preview.mp3", "original.wav")).status_code == 403
    )


# --- revisions ------------------------------------------------------------------------------


def _snapshot(order):
    return {
        v.number: (v.asset_id, v.feedback, v.note, v.status, v.created_at, v.revision_request_id)
        for v in Version.objects.filter(order=order).select_related("revision_request")
    }


def test_revisions_record_their_feedback_and_extra_ones_need_the_musicians_consent(
    order_in_progress, sources, pipeline
):
    order = order_in_progress  # one revision included
    musician, customer = client_for(order.musician), client_for(order.customer)
    draft_uploaded(musician, order, sources.music_wav, pipeline, note="v1")

    first = "Slower please, and say Asha twice in the chorus."
    with pipeline():
        asked = customer.post(
            f"/api/orders/{order.pk}/request_revision", {"feedback": first}, "application/json"
        )
    assert asked.status_code == 200, asked.content
    assert (asked.json()["status"], asked.json()["revisions_used"]) == ("revision_requested", 1)
    told = notices("order.revision_requested", order.musician)
    assert told and told[0].context["consent_needed"] is False

    draft_uploaded(musician, order, sources.music_mp3, pipeline, note="v2")
    assert order.status == S.IN_REVIEW
    listed = customer.get(f"/api/orders/{order.pk}/versions").json()["results"]
    assert [(v["number"], v["feedback"]) for v in listed] == [(1, ""), (2, first)]
    assert all(v["preview_url"] for v in listed)

    second = "Could the bridge be in Malayalam?"
    with pipeline():
        extra = customer.post(
            f"/api/orders/{order.pk}/request_revision", {"feedback": second}, "application/json"
        )
    assert extra.status_code == 202, extra.content
    assert extra.json()["status"] == "in_review"
    pending = RevisionRequest.objects.get(order=order, status="pending")
    assert (pending.feedback, pending.included) == (second, False)
    asks = [n for n in notices("order.revision_requested", order.musician)]
    assert any(n.context["consent_needed"] is True for n in asks)
    # Only the musician answers; a second request waits for that answer.
    by_customer = customer.post(
        f"/api/orders/{order.pk}/revision_consent", {"accept": True}, "application/json"
    )
    assert by_customer.status_code == 403
    again = customer.post(
        f"/api/orders/{order.pk}/request_revision", {"feedback": "and more"}, "application/json"
    )
    assert again.status_code == 409 and again.json()["code"] == "revision_pending"

    with pipeline():
        consented = musician.post(
            f"/api/orders/{order.pk}/revision_consent",
            {"accept": True, "note": "Happy to."},
            "application/json",
        )
    assert consented.status_code == 200, consented.content
    assert consented.json()["status"] == "revision_requested"
    assert consented.json()["revisions_used"] == 2 > consented.json()["revisions_included"]
    assert notices("order.revision_consent", order.customer)[0].context["accepted"] is True

    before = _snapshot(order)
    draft_uploaded(musician, order, sources.music_wav, pipeline, note="v3")
    after = _snapshot(order)
    assert {n: after[n] for n in before} == before  # v1 and v2 did not change
    assert after[3][1] == second
    assert order.status == S.IN_REVIEW
    detail = customer.get(f"/api/orders/{order.pk}").json()
    assert [(v["number"], v["feedback"]) for v in detail["versions"]] == [
        (1, ""),
        (2, first),
        (3, second),
    ]
    assert len({v["preview_url"] for v in detail["versions"]}) == 3


def _in_review_without_included_revisions():
    order = OrderFactory(status=S.IN_REVIEW, revisions_included=0)
    customer, musician = client_for(order.customer), client_for(order.musician)
    asked = customer.post(
        f"/api/orders/{order.pk}/request_revision", {"feedback": "One more go?"}, "application/json"
    )
    assert asked.status_code == 202, asked.content
    return order, customer, musician


def test_the_musician_may_decline_an_extra_revision(django_capture_on_commit_callbacks):
    order, customer, musician = _in_review_without_included_revisions()
    with django_capture_on_commit_callbacks(execute=True):
        declined = musician.post(
            f"/api/orders/{order.pk}/revision_consent",
            {"accept": False, "note": "The brief is met; happy to discuss."},
            "application/json",
        )
    assert declined.status_code == 200, declined.content
    assert (declined.json()["status"], declined.json()["revisions_used"]) == ("in_review", 0)
    request = RevisionRequest.objects.get(order=order)
    assert request.status == "declined" and request.responded_at is not None
    told = notices("order.revision_consent", order.customer)
    assert told and told[0].context["accepted"] is False
    nothing = musician.post(
        f"/api/orders/{order.pk}/revision_consent", {"accept": True}, "application/json"
    )
    assert nothing.status_code == 409 and nothing.json()["code"] == "no_revision_pending"


def test_approving_withdraws_a_pending_extra_revision():
    order, customer, musician = _in_review_without_included_revisions()
    approved = customer.post(f"/api/orders/{order.pk}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    request = RevisionRequest.objects.get(order=order)
    assert request.status == "declined" and request.response_note.startswith("Withdrawn")
    late = musician.post(
        f"/api/orders/{order.pk}/revision_consent", {"accept": True}, "application/json"
    )
    assert late.status_code == 409 and late.json()["code"] == "no_revision_pending"
    order.refresh_from_db()
    assert order.status == S.APPROVED and order.revisions_used == 0


def test_consent_with_nothing_pending_is_a_conflict():
    order = OrderFactory(status=S.IN_REVIEW)
    response = client_for(order.musician).post(
        f"/api/orders/{order.pk}/revision_consent", {"accept": True}, "application/json"
    )
    assert response.status_code == 409 and response.json()["code"] == "no_revision_pending"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_versions_cannot_be_changed_or_deleted(method):
    order = OrderFactory(status=S.IN_REVIEW)
    for user in (order.musician, order.customer):
        response = getattr(client_for(user), method)(f"/api/orders/{order.pk}/versions")
        assert response.status_code == 405, (user, response.content)


# --- query counts ---------------------------------------------------------------------------


def _ready_version(order, number):
    request = None
    if number > 1:
        request = RevisionRequest.objects.create(
            order=order, feedback=f"change {number}", included=True, status="granted"
        )
    version = draft_of(order, number=number, revision_request=request)
    RenditionFactory(asset=version.asset, kind=Rendition.Kind.PREVIEW_MP3)
    return version


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(("path", "budget"), [("", 12), ("/versions", 6)])
@pytest.mark.parametrize("role", ["customer", "musician"])
def test_reading_versions_takes_a_constant_number_of_queries(
    path, budget, role, django_assert_max_num_queries
):
    order = OrderFactory(status=S.IN_REVIEW)
    client = client_for(getattr(order, role))
    url = f"/api/orders/{order.pk}{path}"
    _ready_version(order, 1)
    event_add(order, actor=order.musician, name="version_uploaded", note="v1")
    one = _queries(client, url)
    for number in (2, 3):
        _ready_version(order, number)
        event_add(order, actor=order.musician, name="version_uploaded", note=f"v{number}")
        event_add(order, actor=order.customer, name="request_revision", note="again")
    three = _queries(client, url)
    assert three == one
    with django_assert_max_num_queries(budget):
        body = client.get(url).json()
    versions = body["results"] if path else body["versions"]
    assert [v["number"] for v in versions] == [1, 2, 3]
    assert all(v["preview_url"] for v in versions)
    assert all(bool(v["original_url"]) == (role == "musician") for v in versions)


def test_a_retry_after_a_failed_draft_still_answers_the_feedback(
    order_in_progress, sources, pipeline, tmp_path
):
    order = order_in_progress
    musician, customer = client_for(order.musician), client_for(order.customer)
    draft_uploaded(musician, order, sources.music_wav, pipeline)
    feedback = "A little warmer, more guitar."
    asked = customer.post(
        f"/api/orders/{order.pk}/request_revision", {"feedback": feedback}, "application/json"
    )
    assert asked.status_code == 200, asked.content
    data = sources.music_mp3.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) * 2 // 5])
    draft_uploaded(musician, order, cut, pipeline)
    assert order.status == S.REVISION_REQUESTED
    assert Version.objects.get(order=order, number=2).status == MediaStatus.FAILED

    draft_uploaded(musician, order, sources.music_mp3, pipeline)
    assert order.status == S.IN_REVIEW
    listed = customer.get(f"/api/orders/{order.pk}/versions").json()["results"]
    assert [(v["number"], v["status"]) for v in listed] == [
        (1, "ready"),
        (2, "failed"),
        (3, "ready"),
    ]
    assert listed[2]["feedback"] == feedback


def test_the_versions_list_is_paginated_like_every_list():
    order = OrderFactory(status=S.IN_REVIEW)
    for number in range(1, 26):
        _ready_version(order, number)
    client = client_for(order.customer)
    first = client.get(f"/api/orders/{order.pk}/versions").json()
    assert first["count"] == 25 and first["previous"] is None
    assert [v["number"] for v in first["results"]] == list(range(1, 21))
    rest = client.get(first["next"]).json()
    assert [v["number"] for v in rest["results"]] == list(range(21, 26)) and rest["next"] is None
    small = client.get(f"/api/orders/{order.pk}/versions?page_size=2&page=3").json()
    assert [v["number"] for v in small["results"]] == [5, 6]
    assert client.get(f"/api/orders/{order.pk}/versions?page=99").status_code == 404
