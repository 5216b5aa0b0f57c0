"""The musician's orders: the list with its filters, and the workspace, which is the order page
itself (orders' partials and actions) inside the studio, with the uploads panel: each draft's
and finals upload's processing and quality checks."""

import re
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from audio.models import AudioAsset, CheckStatus, QualityCheck, QualityReport
from orders.models import MediaStatus, OrderStatus
from tests.orders.conftest import librosa_warm, pipeline  # noqa: F401 - fixtures, shared
from tests.orders.factories import OrderFactory, draft_of, finals_of
from tests.studio.conftest import client_for, upload_of

pytestmark = pytest.mark.django_db

S = OrderStatus
HTMX = {"HTTP_HX_REQUEST": "true"}


def row_of(body, name) -> str:
    """The list item of the order for `name`."""
    before, after = body.split(f"for {name}<", 1)
    return "<li" + before.rsplit("<li", 1)[1] + after.split("</li>", 1)[0]


def rows(body) -> list[str]:
    return re.findall(
        r'data-testid="studio-order-row">\s*<h2 class="card-title"><a [^>]*>([^<]*)<', body
    )


# --- the list ---------------------------------------------------------------------------------


@pytest.fixture
def orders(musician):
    now = timezone.now()
    return {
        "composing": OrderFactory(
            musician=musician,
            status=S.IN_PROGRESS,
            stage="composition",
            recipient_name="Anu",
            accepted_at=now - timedelta(days=9),
            delivery_days=7,
        ),
        "recording": OrderFactory(
            musician=musician,
            status=S.IN_PROGRESS,
            stage="recording",
            recipient_name="Bela",
            accepted_at=now,
        ),
        "offered": OrderFactory(musician=musician, status=S.MATCHING, recipient_name="Chitra"),
        "done": OrderFactory(musician=musician, status=S.COMPLETED, recipient_name="Dev"),
        "unpaid": OrderFactory(musician=musician, status=S.PLACED, recipient_name="Esha"),
    }


def test_the_list_shows_active_orders_first_with_due_dates_and_late_ones(studio, orders):
    body = studio.get("/studio/orders/").content.decode()
    assert sorted(rows(body)) == ["Birthday song for Anu", "Birthday song for Bela"]
    late, on_time = row_of(body, "Anu"), row_of(body, "Bela")
    assert "is-late" in late and "Late: was due" in late
    assert "is-late" not in on_time and "Due " in on_time


def test_the_list_filters_by_what_stage_and_name(studio, orders):
    def shown(query):
        return sorted(rows(studio.get(f"/studio/orders/?{query}").content.decode()))

    assert shown("show=offers") == ["Birthday song for Chitra"]
    assert shown("show=finished") == ["Birthday song for Dev"]
    # An order whose deposit is not paid yet was never offered: it is not the musician's.
    assert "Birthday song for Esha" not in shown("show=all")
    assert len(shown("show=all")) == 4
    assert shown("stage=recording") == ["Birthday song for Bela"]
    assert shown("q=anu") == ["Birthday song for Anu"]
    assert shown("show=all&q=nobody") == []
    # Unknown filters fall back to the default rather than failing.
    assert len(shown("show=bogus&stage=nope")) == 2


def test_the_list_words_the_status_for_the_musician_and_counts_unread_messages(
    studio, orders, musician
):
    from orders.services import chat_message_send

    order = orders["composing"]
    chat_message_send(
        order=order, sender=order.customer, client_msg_id=str(uuid.uuid4()), body="Hello!"
    )
    body = studio.get("/studio/orders/?show=all").content.decode()
    assert "Waiting for your answer" in body  # the offer, as the musician reads it
    assert "1 unread message" in body


def test_the_list_reads_in_a_fixed_number_of_queries(
    musician, orders, django_assert_max_num_queries
):
    studio = client_for(musician)
    with django_assert_max_num_queries(12) as few:
        studio.get("/studio/orders/?show=all")
    for _ in range(6):
        OrderFactory(musician=musician, status=S.IN_REVIEW, accepted_at=timezone.now())
        OrderFactory(musician=musician, status=S.MATCHING)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(rows(studio.get("/studio/orders/?show=all").content.decode())) == 16


# --- the workspace ----------------------------------------------------------------------------


def _report(asset, stage, status, *checks):
    report = QualityReport.objects.create(asset=asset, stage=stage, status=status)
    for name, check_status, message in checks:
        QualityCheck.objects.create(report=report, name=name, status=check_status, message=message)
    return report


def test_the_workspace_is_the_order_page_inside_the_studio(studio, musician):
    order = OrderFactory(
        musician=musician,
        status=S.IN_PROGRESS,
        accepted_at=timezone.now(),
        names_to_include="Asha, Ravi",
    )
    body = studio.get(f"/studio/orders/{order.pk}/").content.decode()
    assert 'aria-label="Studio"' in body and 'href="/studio/orders/" aria-current="page"' in body
    # orders' own partials: the order body (swapped by its actions), the brief, the controls
    assert 'id="order-body"' in body and 'data-testid="order-actions"' in body
    assert "My sister loves the sea" in body and "Asha, Ravi" in body
    assert f'action="/orders/{order.pk}/advance_stage/"' in body
    assert f'hx-post="/orders/{order.pk}/upload_draft/"' in body
    # the chat panel, loaded by htmx from orders' own view
    assert f'hx-get="/orders/{order.pk}/chat/"' in body
    # the studio's uploads panel, outside the order body
    assert f'hx-get="/studio/orders/{order.pk}/uploads/"' in body
    assert "No uploads yet" in body


def test_an_action_from_the_workspace_goes_through_orders_and_swaps_the_order_body(
    studio, musician
):
    order = OrderFactory(musician=musician, status=S.IN_PROGRESS, accepted_at=timezone.now())
    response = studio.post(
        f"/orders/{order.pk}/advance_stage/", {"note": "Melody sketched"}, **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#order-body"
    order.refresh_from_db()
    assert order.stage == "composition"


def test_the_uploads_panel_shows_each_versions_quality_checks(studio, musician):
    order = OrderFactory(musician=musician, status=S.IN_REVIEW, accepted_at=timezone.now())
    first = draft_of(order, number=1)
    _report(
        first.asset,
        QualityReport.Stage.SOURCE,
        CheckStatus.WARNING,
        ("sample_rate", CheckStatus.PASSED, "Sample rate 44100 Hz."),
        ("clipping", CheckStatus.WARNING, "The audio clips in 7 places."),
    )
    second = draft_of(order, number=2, status=MediaStatus.PROCESSING)
    AudioAsset.objects.filter(pk=second.asset_id).update(
        status=AudioAsset.Status.PROCESSING, current_step="analyse", progress=0.35
    )
    panel = studio.get(f"/studio/orders/{order.pk}/uploads/").content.decode()
    v1 = re.search(r'data-testid="upload-version-1".*?</article>', panel, re.S).group(0)
    assert "Quality checks" in v1 and 'data-testid="quality-status">Warning<' in v1
    assert "Sample rate" in v1 and "Sample rate 44100 Hz." in v1
    assert "Clipping" in v1 and "The audio clips in 7 places." in v1
    v2 = re.search(r'data-testid="upload-version-2".*?</article>', panel, re.S).group(0)
    assert f'data-asset-progress="{second.asset_id}"' in v2
    assert 'value="0.350"' in v2 and "Listening for tempo, key and mood (35%)" in v2
    assert panel.index("upload-version-2") < panel.index("upload-version-1")  # newest first
    # The whole workspace shows the same panel.
    assert (
        "The audio clips in 7 places." in studio.get(f"/studio/orders/{order.pk}/").content.decode()
    )


def test_the_uploads_panel_shows_the_finals_checks_and_why_a_file_failed(studio, musician):
    order = OrderFactory(musician=musician, status=S.APPROVED, accepted_at=timezone.now())
    failed = finals_of(
        order, number=1, status=MediaStatus.FAILED, failure_reason="The finals clip."
    )
    _report(
        failed.asset,
        QualityReport.Stage.DELIVERY,
        CheckStatus.FAILED,
        ("true_peak", CheckStatus.FAILED, "The true peak is -0.1 dBTP; at most -1.0."),
    )
    panel = studio.get(f"/studio/orders/{order.pk}/uploads/").content.decode()
    finals = re.search(r'data-testid="upload-finals-1".*?</article>', panel, re.S).group(0)
    assert "The finals clip." in finals
    assert "True peak" in finals and "at most -1.0" in finals
    assert 'data-testid="quality-status">Failed<' in finals
    assert '<details class="studio-quality" open' in finals  # a failed report is open


def test_a_draft_uploaded_from_the_workspace_shows_the_pipelines_checks(
    studio,
    musician,
    sources,
    pipeline,  # noqa: F811
):
    order = OrderFactory(musician=musician, status=S.IN_PROGRESS, accepted_at=timezone.now())
    with pipeline():
        response = studio.post(
            f"/orders/{order.pk}/upload_draft/",
            {"audio": upload_of(sources.music_wav), "note": "First go"},
            **HTMX,
        )
    assert response.status_code == 200, response.content[:2000]
    order.refresh_from_db()
    assert order.status == S.IN_REVIEW
    panel = studio.get(f"/studio/orders/{order.pk}/uploads/").content.decode()
    v1 = re.search(r'data-testid="upload-version-1".*?</article>', panel, re.S).group(0)
    assert 'data-status="ready"' in v1 and "music.wav" in v1
    assert 'data-testid="quality-source"' in v1
    assert "Sample rate" in v1 and "Sample rate 44100 Hz." in v1
    assert "data-asset-progress" not in v1  # settled: no progress line any more


def test_the_workspace_reads_in_a_bounded_number_of_queries(
    musician, django_assert_max_num_queries
):
    order = OrderFactory(musician=musician, status=S.IN_REVIEW, accepted_at=timezone.now())
    for number in (1, 2, 3):
        version = draft_of(order, number=number)
        _report(
            version.asset,
            QualityReport.Stage.SOURCE,
            CheckStatus.PASSED,
            ("sample_rate", CheckStatus.PASSED, "Fine."),
            ("clipping", CheckStatus.PASSED, "No clipping."),
        )
    studio = client_for(musician)
    with django_assert_max_num_queries(40):
        assert studio.get(f"/studio/orders/{order.pk}/").status_code == 200
    with django_assert_max_num_queries(8):
        assert studio.get(f"/studio/orders/{order.pk}/uploads/").status_code == 200
