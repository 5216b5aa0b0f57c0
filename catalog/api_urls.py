from catalog.api import albums, artists, genres, songs, stream
from core.api_urls import UUID, api_path

SONG = rf"songs/(?P<song_id>{UUID})"
ALBUM = rf"albums/(?P<album_id>{UUID})"
ARTIST = rf"artists/(?P<artist_id>{UUID})"

# Each path is taken with and without its trailing slash (api_path). Named lists come before
# the id patterns only for reading; ids are UUIDs, so they never collide.
urlpatterns = [
    api_path("songs", songs.SongListView, "songs"),
    api_path("songs/trending", songs.TrendingView, "songs-trending"),
    api_path("songs/search", songs.SearchView, "songs-search"),
    api_path("songs/favorites", songs.FavoritesView, "songs-favorites"),
    api_path("songs/recently_played", songs.RecentlyPlayedView, "songs-recently-played"),
    api_path("songs/random", songs.RandomView, "songs-random"),
    api_path("songs/recommendations", songs.RecommendationsView, "songs-recommendations"),
    api_path(SONG, songs.SongDetailView, "songs-detail"),
    api_path(f"{SONG}/like", songs.SongLikeView, "songs-like"),
    api_path(f"{SONG}/unlike", songs.SongUnlikeView, "songs-unlike"),
    api_path(f"{SONG}/favorite", songs.SongFavoriteView, "songs-favorite"),
    api_path(f"{SONG}/play", songs.SongPlayView, "songs-play"),
    api_path(f"{SONG}/stream", stream.SongStreamView, "songs-stream"),
    api_path("genres", genres.GenreListView, "genres"),
    api_path("albums", albums.AlbumListView, "albums"),
    api_path("albums/favorites", albums.AlbumFavoritesView, "albums-favorites"),
    api_path(ALBUM, albums.AlbumDetailView, "albums-detail"),
    api_path(f"{ALBUM}/songs", albums.AlbumSongsView, "albums-songs"),
    api_path(f"{ALBUM}/favorite", albums.AlbumFavoriteView, "albums-favorite"),
    api_path("artists", artists.ArtistListView, "artists"),
    api_path("artists/following", artists.FollowingView, "artists-following"),
    api_path("artists/followers", artists.FollowersView, "artists-followers"),
    api_path(f"{ARTIST}/profile", artists.ArtistProfileView, "artists-profile"),
    api_path(f"{ARTIST}/songs", artists.ArtistSongsView, "artists-songs"),
    api_path(f"{ARTIST}/follow", artists.ArtistFollowView, "artists-follow"),
]
