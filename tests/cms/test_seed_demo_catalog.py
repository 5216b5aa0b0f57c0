"""seed_demo's streaming catalog: music-like songs with covers by the demo musicians, published
through the catalog services and the media pipeline, once."""

import pytest
from django.core.management import call_command

from audio.models import AudioAsset, Rendition
from catalog.models import Album, Artist, Song
from cms.management.commands import _demo_catalog
from tests.factories import MusicianFactory


def test_the_demo_catalog_has_about_30_songs_in_several_genres():
    songs = [
        s for _, releases in _demo_catalog.CATALOG.values() for _, _, ss in releases for s in ss
    ]
    assert len(songs) == _demo_catalog.song_count() >= 30
    assert len({song.genre for song in songs}) >= 5
    assert len({song.title for song in songs}) == len(songs)


@pytest.mark.django_db(transaction=True)
def test_seed_demo_publishes_playable_analysed_songs_once():
    musicians = {
        local: MusicianFactory(email=f"{local}@demo.encore.test", display_name=name)
        for local, name in (("musician", "Mira Musician"), ("musician2", "Theo Tunesmith"))
    }
    lines = []
    assert _demo_catalog.catalog_seed(musicians, limit=1, log=lines.append) == 1
    out = "\n".join(lines)

    mira = Artist.objects.get(user__email="musician@demo.encore.test")
    assert mira.bio and mira.genres.exists()
    songs = list(Song.objects.order_by("created_at"))
    assert [s.title for s in songs] == ["Harbour Lights"]
    assert "Mira Musician: Harbour Lights (Pop, on Harbour Lights)" in out
    album = Album.objects.get(title="Harbour Lights")
    assert album.cover and album.release_date.isoformat() == "2026-03-14"
    for song in songs:
        assert song.album == album and song.visibility == "public"
        assert song.genres.get().name == "Pop"
        # Through the real pipeline (tasks are eager in tests): renditions and an analysis.
        assert song.asset.status == AudioAsset.Status.READY
        assert song.asset.renditions.filter(kind=Rendition.Kind.HLS).exists()
        assert song.asset.analysis.tempo_bpm > 0
        assert song.duration == pytest.approx(_demo_catalog.SONG_SECONDS, abs=0.2)
    first = songs[0]
    # Harbour Lights is written at 112 BPM in C major: the analyser hears it.
    analysis = first.asset.analysis
    assert any(abs(t - 112) / 112 <= 0.04 for t in (analysis.tempo_bpm, analysis.tempo_alt_bpm))

    # Songs already there are left alone; the limit counts the songs published now.
    assert _demo_catalog.catalog_seed(musicians, limit=1, log=lines.append) == 1
    assert [s.title for s in Song.objects.order_by("created_at")] == [
        "Harbour Lights",
        "Paper Boats",
    ]
    assert Song.objects.filter(title="Harbour Lights").count() == 1


@pytest.mark.django_db
def test_seed_demo_seeds_the_catalog_after_the_commissions(capsys):
    call_command("seed_demo", songs=0)
    out = capsys.readouterr().out
    assert out.index("Demo catalog") > out.index("Demo musicians' profiles")
