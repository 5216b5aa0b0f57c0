from django.urls import path

from rooms import views

app_name = "rooms"

urlpatterns = [
    path("", views.room_list, name="list"),
    path("<uuid:room_id>/", views.room_detail, name="room"),
    path("<uuid:room_id>/join/", views.room_join, name="join-public"),
    path("<uuid:room_id>/leave/", views.room_leave, name="leave"),
    path("join/<str:token>/", views.invite, name="join"),
]
