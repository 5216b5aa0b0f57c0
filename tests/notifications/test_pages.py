"""The bell, the notifications page (htmx) and the preferences page."""

import re

import pytest

from notifications.models import Preference
from tests.factories import UserFactory
from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    client.user = user
    return client


def test_the_header_bell_shows_the_unread_count(logged_in):
    NotificationFactory.create_batch(3, recipient=logged_in.user)
    NotificationFactory(recipient=UserFactory())

    html = logged_in.get("/accounts/profile/").content.decode()

    bell = re.search(r'<a id="notification-bell".*?</a>', html, re.S).group(0)
    assert 'href="/notifications/"' in bell
    assert 'aria-label="Notifications, 3 unread"' in bell
    assert 'hx-get="/notifications/bell/"' in bell
    assert ">3</span>" in bell
    assert "/static/js/notifications.js" in html
    assert "https://" not in bell and "cdn" not in html.lower()


def test_anonymous_visitors_have_no_bell(client):
    assert "notification-bell" not in client.get("/accounts/login/").content.decode()


def test_the_bell_fragment_refreshes_with_htmx(logged_in):
    NotificationFactory(recipient=logged_in.user)

    response = logged_in.get("/notifications/bell/", **HTMX)

    html = response.content.decode()
    assert html.startswith('<a id="notification-bell"')
    assert "1 unread" in html
    assert "<html" not in html


def test_the_bell_fragment_of_a_logged_out_page_is_left_alone(client):
    response = client.get("/notifications/bell/", **HTMX)

    assert response.status_code == 204


def test_the_notifications_page_lists_ones_own(logged_in):
    NotificationFactory(recipient=logged_in.user, title="Draft ready: Song for Mum")
    NotificationFactory(title="Not yours")

    response = logged_in.get("/notifications/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Draft ready: Song for Mum" in html
    assert "Not yours" not in html
    assert "Mark all read" in html


def test_the_page_requires_login(client):
    assert client.get("/notifications/").status_code == 302


def test_mark_read_with_htmx_swaps_the_item_and_refreshes_the_bell(logged_in):
    notification = NotificationFactory(recipient=logged_in.user)

    response = logged_in.post(f"/notifications/{notification.pk}/read/", **HTMX)

    assert response.status_code == 200
    assert response["HX-Trigger"] == "notifications:changed"
    html = response.content.decode()
    assert html.startswith(f'<li id="notification-{notification.pk}"')
    assert "Mark read" not in html
    notification.refresh_from_db()
    assert notification.is_read


def test_mark_read_without_javascript_redirects_back(logged_in):
    notification = NotificationFactory(recipient=logged_in.user)

    response = logged_in.post(
        f"/notifications/{notification.pk}/read/", {"next": "/notifications/?page=1"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/notifications/?page=1"


def test_mark_all_read(logged_in):
    NotificationFactory.create_batch(2, recipient=logged_in.user)

    response = logged_in.post("/notifications/read-all/", **HTMX)

    assert response["HX-Trigger"] == "notifications:changed"
    assert "Mark all read" not in response.content.decode()
    assert not logged_in.user.notifications.filter(read_at__isnull=True).exists()


def test_another_persons_notification_is_a_404(logged_in):
    theirs = NotificationFactory(recipient=UserFactory())

    assert logged_in.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert logged_in.get(f"/notifications/{theirs.pk}/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_opening_a_notification_marks_it_read_and_follows_its_link(logged_in):
    notification = NotificationFactory(recipient=logged_in.user, link="/orders/7/")
    evil = NotificationFactory(recipient=logged_in.user, link="https://evil.example.com/")

    response = logged_in.get(f"/notifications/{notification.pk}/open/")

    assert response["Location"] == "/orders/7/"
    notification.refresh_from_db()
    assert notification.is_read
    assert logged_in.get(f"/notifications/{evil.pk}/open/")["Location"] == "/notifications/"


def test_the_preferences_page_saves_choices_but_never_unlocks_critical_mail(logged_in):
    page = logged_in.get("/notifications/preferences/")
    html = page.content.decode()
    assert page.status_code == 200
    reset = re.search(r'<input[^>]*name="account.password_reset:email"[^>]*>', html).group(0)
    assert "disabled" in reset and "checked" in reset
    sms = re.search(r'<input[^>]*name="order.draft_ready:sms"[^>]*>', html).group(0)
    assert "disabled" in sms  # no verified phone
    assert "Verify your phone number" in html

    # Everything unticked: the locked box is not submitted (disabled) and must stay on.
    response = logged_in.post("/notifications/preferences/", {}, follow=True)

    assert "Your notification settings are saved." in response.content.decode()
    assert not Preference.objects.filter(event="account.password_reset").exists()
    assert not Preference.objects.filter(channel="sms").exists()  # unavailable: untouched
    placed = Preference.objects.get(user=logged_in.user, event="order.placed", channel="email")
    assert placed.enabled is False


def test_the_preferences_page_turns_channels_on(logged_in):
    logged_in.post("/notifications/preferences/", {"order.stage_changed:email": "on"})

    assert Preference.objects.get(event="order.stage_changed", channel="email").enabled
