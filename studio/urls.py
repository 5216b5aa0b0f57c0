from django.urls import path

from studio import views, views_catalog, views_orders, views_page, views_settings, views_stats

app_name = "studio"

urlpatterns = [
    path("", views.home, name="home"),
    path("offers/<uuid:order_id>/<slug:answer>/", views.offer_answer, name="offer_answer"),
    # orders
    path("orders/", views_orders.order_list, name="orders"),
    path("orders/<uuid:order_id>/", views_orders.order_workspace, name="order"),
    path("orders/<uuid:order_id>/uploads/", views_orders.order_uploads, name="order_uploads"),
    # settings
    path("settings/", views_settings.settings_page, name="settings"),
    path("settings/availability/", views_settings.availability_save, name="availability"),
    path("settings/profile/", views_settings.profile_save, name="profile"),
    path("settings/packages/", views_settings.package_create, name="package_create"),
    path("settings/packages/<uuid:package_id>/", views_settings.package_edit, name="package"),
    path(
        "settings/packages/<uuid:package_id>/<slug:answer>/",
        views_settings.package_offer,
        name="package_offer",
    ),
    # catalog
    path("catalog/", views_catalog.catalog_page, name="catalog"),
    path("catalog/songs/", views_catalog.song_upload, name="song_upload"),
    path("catalog/songs/<uuid:song_id>/", views_catalog.song_edit, name="song"),
    path("catalog/songs/<uuid:song_id>/delete/", views_catalog.song_delete, name="song_delete"),
    path("catalog/albums/", views_catalog.album_create, name="album_create"),
    path("catalog/albums/<uuid:album_id>/", views_catalog.album_edit, name="album"),
    path(
        "catalog/albums/<uuid:album_id>/songs/",
        views_catalog.album_song_upload,
        name="album_song_upload",
    ),
    path("catalog/albums/<uuid:album_id>/delete/", views_catalog.album_delete, name="album_delete"),
    # statistics
    path("stats/", views_stats.stats_page, name="stats"),
    # The musician's showcase page (cms.ArtistPage), edited here and sent to moderation.
    path("page/", views_page.page_edit, name="page"),
]
