from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read-all/", views.mark_all_read, name="read_all"),
    path("bell/", views.bell, name="bell"),
    path("preferences/", views.preferences, name="preferences"),
    path("<uuid:notification_id>/read/", views.mark_read, name="read"),
    path("<uuid:notification_id>/open/", views.open_notification, name="open"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("twilio/status", views.twilio_status, name="twilio_status"),
    path("twilio/inbound", views.twilio_inbound, name="twilio_inbound"),
]
