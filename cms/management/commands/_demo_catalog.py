"""seed_demo's streaming catalog: albums and singles by the demo musicians, about 30 songs in
several genres, each synthesised to sound like music (drums, bass, chords, a melody in its key
and tempo) with a generated cover, published through the catalog services so each goes through
the media pipeline (queued for the worker that ``make run`` starts; a song plays from its
original at once). Songs already there (by artist and title) are left alone."""

import os
import tempfile
from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from audio.music_synth import synthesize, write_audio
from catalog.models import Album, Song
from catalog.services import album_create, artist_ensure, artist_update, genre_create, song_create
from core.cover_art import cover_png

SAMPLE_RATE = 44100
SONG_SECONDS = 40.0


@dataclass(frozen=True)
class DemoSong:
    title: str
    genre: str
    bpm: float
    tonic: int  # pitch class, 0 = C
    mode: str
    style: str
    swing: float = 0.0
    syncopation: bool = False


# musician's local part -> (bio, [(album title or None for singles, release date, songs)])
CATALOG = {
    "musician": (
        "Mira writes warm, hook-first pop and late-night lo-fi from a small studio by the sea.",
        [
            (
                "Harbour Lights",
                "2026-03-14",
                [
                    DemoSong("Harbour Lights", "Pop", 112, 0, "major", "pop"),
                    DemoSong("Paper Boats", "Pop", 104, 7, "major", "pop", syncopation=True),
                    DemoSong("Salt in the Air", "Pop", 120, 9, "minor", "pop"),
                    DemoSong("Lighthouse Keeper", "Ballad", 72, 5, "major", "ballad"),
                    DemoSong("Tidewater", "Pop", 96, 2, "minor", "pop", syncopation=True),
                    DemoSong("Gulls at Dawn", "Ballad", 66, 4, "major", "ballad"),
                ],
            ),
            (
                "Night Study",
                "2026-09-02",
                [
                    DemoSong("Rain on the Window", "Lo-fi", 80, 9, "minor", "lofi", swing=0.25),
                    DemoSong("Late Tram", "Lo-fi", 86, 2, "major", "lofi", swing=0.2),
                    DemoSong("Desk Lamp", "Lo-fi", 74, 5, "minor", "lofi", swing=0.3),
                    DemoSong("Margins", "Lo-fi", 90, 11, "minor", "lofi", swing=0.2),
                    DemoSong("Tea Gone Cold", "Lo-fi", 78, 3, "major", "lofi", swing=0.25),
                    DemoSong("Last Page", "Lo-fi", 70, 7, "minor", "lofi", swing=0.15),
                ],
            ),
            (
                None,
                "2026-11-20",
                [
                    DemoSong("Birthday Candles", "Pop", 124, 4, "major", "pop"),
                    DemoSong("Slow Dance in the Kitchen", "Ballad", 68, 10, "major", "ballad"),
                    DemoSong("Sunday Market", "Folk", 100, 7, "major", "ballad"),
                ],
            ),
        ],
    ),
    "musician2": (
        "Theo plays guitars loud and synths louder: rock, electronic and the odd folk song.",
        [
            (
                "Static Bloom",
                "2025-10-10",
                [
                    DemoSong("Static Bloom", "Rock", 140, 4, "minor", "rock"),
                    DemoSong("Highway Hum", "Rock", 132, 9, "major", "rock"),
                    DemoSong("Broken Amp", "Rock", 150, 2, "minor", "rock", syncopation=True),
                    DemoSong("Garage Summer", "Rock", 128, 7, "major", "rock"),
                    DemoSong("Feedback Lullaby", "Rock", 110, 11, "minor", "rock"),
                ],
            ),
            (
                "Neon Tide",
                "2026-06-21",
                [
                    DemoSong("Neon Tide", "Electronic", 124, 1, "minor", "electronic"),
                    DemoSong("Pulse Width", "Electronic", 128, 6, "minor", "electronic"),
                    DemoSong("Night Bus", "Electronic", 118, 8, "major", "electronic"),
                    DemoSong(
                        "Glass City", "Electronic", 174, 0, "minor", "electronic", syncopation=True
                    ),
                    DemoSong("Afterglow", "Electronic", 100, 5, "major", "electronic"),
                    DemoSong("Circuit Breaker", "Electronic", 136, 10, "minor", "electronic"),
                ],
            ),
            (
                None,
                "2026-12-01",
                [
                    DemoSong("Campfire Chords", "Folk", 92, 7, "major", "ballad", swing=0.1),
                    DemoSong("River Road", "Folk", 104, 2, "major", "pop"),
                    DemoSong("Old Friends", "Folk", 84, 9, "minor", "ballad"),
                    DemoSong("Swing Shift", "Jazz", 160, 5, "major", "lofi", swing=0.33),
                ],
            ),
        ],
    ),
}


def song_count() -> int:
    return sum(len(songs) for _, releases in CATALOG.values() for _, _, songs in releases)


def _audio(song: DemoSong, seed: int, folder: str) -> SimpleUploadedFile:
    samples = synthesize(
        bpm=song.bpm,
        tonic=song.tonic,
        mode=song.mode,
        seconds=SONG_SECONDS,
        seed=seed,
        swing=song.swing,
        syncopation=song.syncopation,
        style=song.style,
        sample_rate=SAMPLE_RATE,
        stereo=True,
    )
    path = os.path.join(folder, f"demo-{seed}.mp3")
    write_audio(path, samples, SAMPLE_RATE, bitrate="192k")
    with open(path, "rb") as handle:
        data = handle.read()
    return SimpleUploadedFile(f"{song.title}.mp3", data, content_type="audio/mpeg")


def _cover(title: str, subtitle: str, seed: int) -> SimpleUploadedFile:
    data = cover_png(title, subtitle=subtitle, seed=f"demo-{seed}", size=600)
    return SimpleUploadedFile(f"{seed}.png", data, content_type="image/png")


def catalog_seed(musicians: dict, *, limit: int | None = None, log=print) -> int:
    """Publish the demo catalog for ``musicians`` (local part -> User); returns the number of
    songs published now. ``limit`` caps the songs published in this run (tests)."""
    published = 0
    seed = 0
    with tempfile.TemporaryDirectory(prefix="encore-demo-") as folder:
        for local, (bio, releases) in CATALOG.items():
            user = musicians.get(local)
            if user is None:
                continue
            artist = artist_ensure(user=user)
            if not artist.bio:
                genres = sorted({song.genre for _, _, songs in releases for song in songs})
                artist_update(
                    artist=artist,
                    user=user,
                    bio=bio,
                    genres=[genre_create(name=name) for name in genres],
                )
            for album_title, released, songs in releases:
                album = None
                if album_title:
                    album = Album.objects.filter(artist=artist, title=album_title).first()
                    if album is None:
                        album = album_create(
                            user=user,
                            title=album_title,
                            release_date=released,
                            genres=[genre_create(name=songs[0].genre)],
                            cover=_cover(album_title, artist.name, seed=len(album_title) * 7),
                        )
                for number, song in enumerate(songs, start=1):
                    seed += 1
                    if Song.objects.filter(artist=artist, title=song.title).exists():
                        continue
                    if limit is not None and published >= limit:
                        return published
                    song_create(
                        user=user,
                        title=song.title,
                        audio=_audio(song, seed, folder),
                        album=album,
                        track_number=number if album else None,
                        genres=[genre_create(name=song.genre)],
                        release_date=released,
                        cover=None if album else _cover(song.title, artist.name, seed=seed),
                    )
                    published += 1
                    where = f"on {album_title}" if album_title else "single"
                    log(f"  {artist.name}: {song.title} ({song.genre}, {where})")
    return published
