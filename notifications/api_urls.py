from django.urls import re_path

from notifications import api

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# Both spellings, with and without the trailing slash, are accepted: clients differ in which
# they send, and a redirect would drop the body of a POST.
urlpatterns = [
    re_path(r"^notifications/?$", api.NotificationListView.as_view(), name="notifications-list"),
    re_path(
        r"^notifications/unread-count/?$",
        api.UnreadCountView.as_view(),
        name="notifications-unread-count",
    ),
    re_path(
        r"^notifications/read-all/?$",
        api.NotificationReadAllView.as_view(),
        name="notifications-read-all",
    ),
    re_path(
        r"^notifications/preferences/?$",
        api.PreferencesView.as_view(),
        name="notifications-preferences",
    ),
    re_path(
        rf"^notifications/(?P<notification_id>{UUID})/?$",
        api.NotificationDetailView.as_view(),
        name="notifications-detail",
    ),
    re_path(
        rf"^notifications/(?P<notification_id>{UUID})/read/?$",
        api.NotificationReadView.as_view(),
        name="notifications-read",
    ),
]
