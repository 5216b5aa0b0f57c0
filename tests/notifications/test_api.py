"""The notifications API: a person's own notifications, read marks and preferences."""

import uuid

import pytest
from rest_framework.test import APIClient

from accounts.services import api_token_issue
from notifications.models import Notification, Preference
from tests.factories import UserFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db


def client_for(person):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=person)}")
    return client


def test_the_list_is_the_callers_own_newest_first_and_paginated(token_client):
    me = token_client.user
    older = NotificationFactory(recipient=me, title="Older")
    newer = NotificationFactory(recipient=me, title="Newer")
    NotificationFactory(title="Someone else's")

    response = token_client.get("/api/notifications")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [str(newer.pk), str(older.pk)]
    assert set(body["results"][0]) == {
        "id",
        "event",
        "title",
        "body",
        "link",
        "created_at",
        "read_at",
        "is_read",
    }
    assert set(body) >= {"count", "next", "previous", "results"}


def test_the_list_pages_and_filters_unread(token_client):
    me = token_client.user
    NotificationFactory.create_batch(25, recipient=me)
    read = NotificationFactory(recipient=me)
    token_client.post(f"/api/notifications/{read.pk}/read")

    first = token_client.get("/api/notifications/").json()
    unread = token_client.get("/api/notifications?unread=true&page_size=100").json()

    assert first["count"] == 26 and len(first["results"]) == 20 and first["next"]
    assert unread["count"] == 25
    assert all(item["read_at"] is None for item in unread["results"])


def test_the_list_costs_a_fixed_number_of_queries(token_client, django_assert_max_num_queries):
    NotificationFactory.create_batch(30, recipient=token_client.user)

    with django_assert_max_num_queries(4):
        response = token_client.get("/api/notifications?page_size=50")

    assert len(response.json()["results"]) == 30


def test_marking_one_read(token_client):
    notification = NotificationFactory(recipient=token_client.user)

    response = token_client.post(f"/api/notifications/{notification.pk}/read/")

    assert response.status_code == 200
    assert response.json()["is_read"] is True
    notification.refresh_from_db()
    first_read = notification.read_at
    assert first_read is not None
    # Again: still read, same moment.
    token_client.post(f"/api/notifications/{notification.pk}/read")
    notification.refresh_from_db()
    assert notification.read_at == first_read


def test_marking_all_read_and_the_unread_count(token_client):
    NotificationFactory.create_batch(3, recipient=token_client.user)
    theirs = NotificationFactory()

    assert token_client.get("/api/notifications/unread-count").json() == {"unread": 3}
    response = token_client.post("/api/notifications/read-all")

    assert response.json() == {"marked": 3}
    assert token_client.get("/api/notifications/unread-count").json() == {"unread": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_nobody_reads_or_marks_another_persons_notifications(token_client):
    theirs = NotificationFactory(recipient=UserFactory())

    detail = token_client.get(f"/api/notifications/{theirs.pk}")
    mark = token_client.post(f"/api/notifications/{theirs.pk}/read")
    missing = token_client.post(f"/api/notifications/{uuid.uuid4()}/read")

    assert (detail.status_code, mark.status_code, missing.status_code) == (404, 404, 404)
    assert mark.json() == {"detail": "Not found.", "code": "not_found"}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_detail_of_ones_own(token_client):
    mine = NotificationFactory(recipient=token_client.user, title="Draft ready")

    response = token_client.get(f"/api/notifications/{mine.pk}/")

    assert response.status_code == 200
    assert response.json()["title"] == "Draft ready"


def test_anonymous_callers_get_401(api_client):
    for method, path in [
        ("get", "/api/notifications"),
        ("post", "/api/notifications/read-all"),
        ("get", "/api/notifications/preferences"),
    ]:
        assert getattr(api_client, method)(path).status_code == 401


def test_preferences_document_shows_defaults_and_locks(token_client):
    response = token_client.get("/api/notifications/preferences")

    assert response.status_code == 200
    events = {row["event"]: row for row in response.json()["events"]}
    reset = {c["channel"]: c for c in events["account.password_reset"]["channels"]}
    assert reset["email"] == {
        "channel": "email",
        "label": "Email",
        "enabled": True,
        "locked": True,
        "available": True,
    }
    draft = {c["channel"]: c for c in events["order.draft_ready"]["channels"]}
    assert draft["email"]["enabled"] and not draft["email"]["locked"]
    assert draft["sms"]["enabled"] and not draft["sms"]["available"]  # phone not verified
    assert draft["whatsapp"]["enabled"] is False
    assert "order.offer" not in events  # musicians only


def test_preferences_can_be_changed(token_client):
    response = token_client.patch(
        "/api/notifications/preferences",
        {
            "preferences": [
                {"event": "order.draft_ready", "channel": "email", "enabled": False},
                {"event": "order.draft_ready", "channel": "whatsapp", "enabled": True},
            ]
        },
        format="json",
    )

    assert response.status_code == 200
    draft = {
        c["channel"]: c["enabled"]
        for row in response.json()["events"]
        if row["event"] == "order.draft_ready"
        for c in row["channels"]
    }
    assert draft == {"email": False, "sms": True, "whatsapp": True, "in_app": True}


def test_critical_mail_cannot_be_turned_off_through_the_api(token_client):
    response = token_client.put(
        "/api/notifications/preferences",
        {
            "preferences": [
                {"event": "order.placed", "channel": "email", "enabled": False},
                {"event": "account.password_reset", "channel": "email", "enabled": False},
            ]
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "critical"
    assert not Preference.objects.exists()  # all or nothing


@pytest.mark.parametrize(
    "change",
    [
        {"event": "order.nope", "channel": "email", "enabled": False},
        {"event": "order.placed", "channel": "pigeon", "enabled": False},
        {"event": "order.placed", "channel": "sms", "enabled": True},  # not offered
        {"event": "order.placed", "channel": "email"},
    ],
)
def test_invalid_preference_changes_are_400(token_client, change):
    response = token_client.patch(
        "/api/notifications/preferences", {"preferences": [change]}, format="json"
    )

    assert response.status_code == 400
    assert not Preference.objects.exists()


def test_the_schema_describes_the_notifications_api(api_client):
    paths = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()[
        "paths"
    ]

    assert {
        "/api/notifications",
        "/api/notifications/{notification_id}",
        "/api/notifications/{notification_id}/read",
        "/api/notifications/read-all",
        "/api/notifications/unread-count",
        "/api/notifications/preferences",
        "/api/profile/phone/verify-request",
        "/api/profile/phone/verify",
        "/api/profile/email/verify-request",
    } <= set(paths)


def test_notification_rows_are_listed_for_their_person_only(db):
    a, b = UserFactory(), UserFactory()
    NotificationFactory.create_batch(2, recipient=a)
    NotificationFactory(recipient=b)

    assert client_for(a).get("/api/notifications").json()["count"] == 2
    assert client_for(b).get("/api/notifications").json()["count"] == 1
    assert Notification.objects.count() == 3
