from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="list"),
    path("new/", views.order_new, name="new"),
    path("<uuid:order_id>/", views.order_detail, name="detail"),
    path("<uuid:order_id>/watch/", views.order_watch, name="watch"),
    path("<uuid:order_id>/chat/", views.order_chat, name="chat"),
    path(
        "<uuid:order_id>/versions/<int:number>/preview/",
        views.version_preview,
        name="version_preview",
    ),
    path(
        "<uuid:order_id>/versions/<int:number>/original/",
        views.version_original,
        name="version_original",
    ),
    path("<uuid:order_id>/downloads/<slug:fmt>/", views.order_download, name="download"),
    path("<uuid:order_id>/<slug:action>/", views.order_action, name="action"),
]
