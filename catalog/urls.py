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
    path("albums/<uuid:album_id>/cover", views.album_cover, name="album-cover"),
    path("songs/<uuid:song_id>/cover", views.song_cover, name="song-cover"),
    path("artists/<uuid:artist_id>/avatar", views.artist_avatar, name="artist-avatar"),
]
