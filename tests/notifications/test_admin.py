"""The delivery log in the Wagtail admin: staff look, nobody edits."""

import pytest

from tests.notifications.factories import DeliveryFactory

pytestmark = pytest.mark.django_db


def test_staff_can_browse_search_and_inspect_the_delivery_log(client, staff):
    delivery = DeliveryFactory(status="failed", error_code="21211", last_error="invalid number")
    DeliveryFactory(event="order.placed", channel="email")
    client.force_login(staff)

    listing = client.get("/admin/notification_deliveries/")
    found = client.get("/admin/notification_deliveries/", {"q": delivery.event_key})
    failed = client.get("/admin/notification_deliveries/", {"status": "failed"})
    inspect = client.get(f"/admin/notification_deliveries/inspect/{delivery.pk}/")

    assert listing.status_code == 200
    assert "order.draft_ready" in listing.content.decode()
    assert found.status_code == 200 and delivery.event_key in found.content.decode()
    assert failed.status_code == 200 and "order.placed" not in failed.content.decode()
    assert inspect.status_code == 200
    assert "invalid number" in inspect.content.decode()


def test_nobody_edits_or_deletes_the_log(client, staff):
    delivery = DeliveryFactory()
    client.force_login(staff)

    for path in (
        "/admin/notification_deliveries/new/",
        f"/admin/notification_deliveries/edit/{delivery.pk}/",
        f"/admin/notification_deliveries/delete/{delivery.pk}/",
    ):
        response = client.post(path, {"status": "delivered"})
        assert response.status_code in (302, 403), path
    delivery.refresh_from_db()
    assert delivery.status == "queued"


def test_people_without_admin_access_see_nothing(client, user):
    client.force_login(user)

    response = client.get("/admin/notification_deliveries/")

    assert response.status_code == 302
