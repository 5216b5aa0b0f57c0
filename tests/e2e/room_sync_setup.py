"""Data for tests/e2e/test_room_sync.py, made inside the server's own database (a separate
process: the ASGI server needs a database file it can share). Prints JSON with the room and
each person's session cookie.

A real song: music from audio.music_synth, published through catalog.services.song_create,
with the media pipeline run eagerly (CELERY_TASK_ALWAYS_EAGER) so its MP3 ladder exists.
"""

import json
import os
import sys
import tempfile
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from audio.music_synth import synthesize, write_audio  # noqa: E402
from catalog.services import song_create  # noqa: E402
from rooms import services as rooms  # noqa: E402

SECONDS = float(os.environ.get("ROOM_SONG_SECONDS", "45"))


def session_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def main():
    call_command("migrate", "--noinput", verbosity=0)
    musician = User.objects.create_user(
        email="mira@example.com", password="x-Unused-9", display_name="Mira", is_musician=True
    )
    host = User.objects.create_user(
        email="host@example.com", password="x-Unused-9", display_name="Hana Host"
    )
    guest = User.objects.create_user(
        email="guest@example.com", password="x-Unused-9", display_name="Gus Guest"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = write_audio(
            Path(folder) / "tide.mp3", synthesize(seconds=SECONDS, seed=7, bpm=110), 22050
        )
        upload = SimpleUploadedFile("tide.mp3", Path(path).read_bytes(), "audio/mpeg")
        song = song_create(user=musician, title="Harbour Tide", audio=upload)
    room = rooms.room_create(user=host, name="Sync test", visibility="private")
    rooms.room_join(room_id=room.pk, user=guest, invite_token=room.invite_token)
    rooms.room_queue_add(room_id=room.pk, user=host, song_id=song.pk)
    print(
        json.dumps(
            {
                "room": str(room.pk),
                "song": str(song.pk),
                "host": session_for(host),
                "guest": session_for(guest),
                "cookie": settings.SESSION_COOKIE_NAME,
            }
        )
    )


if __name__ == "__main__":
    main()
