from core.api_urls import UUID, api_path
from notifications import api

# Each path is taken with and without its trailing slash (api_path).
urlpatterns = [
    api_path(r"notifications", api.NotificationListView, "notifications-list"),
    api_path(r"notifications/unread-count", api.UnreadCountView, "notifications-unread-count"),
    api_path(r"notifications/read-all", api.NotificationReadAllView, "notifications-read-all"),
    api_path(r"notifications/preferences", api.PreferencesView, "notifications-preferences"),
    api_path(
        rf"notifications/(?P<notification_id>{UUID})",
        api.NotificationDetailView,
        "notifications-detail",
    ),
    api_path(
        rf"notifications/(?P<notification_id>{UUID})/read",
        api.NotificationReadView,
        "notifications-read",
    ),
]
