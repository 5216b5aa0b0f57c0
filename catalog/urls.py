from django.urls import path

from catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.browse, name="listen"),
    path("search/", views.search, name="search"),
    path("library/", views.library, name="library"),
    path("songs/<uuid:song_id>/", views.song_detail, name="song"),
    path("albums/<uuid:album_id>/", views.album_detail, name="album"),
    path("artists/<uuid:artist_id>/", views.artist_detail, name="artist"),
    path("genres/<slug:slug>/", views.genre_detail, name="genre"),
]
