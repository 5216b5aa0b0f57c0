"""``GET /api/songs/{id}/stream``: a 302 to a short-lived signed link at the best rung the
caller's plan allows (free 160 kbps, premium 320), the signed link's Range handling, X-Accel,
and HLS limited to the plan on a ladder made by the real media pipeline.

The API is called with the listener's token; the signed link is then fetched with no cookie or
token at all, as a media player following the redirect does.
"""

import m3u8
import pytest
from django.core.files.base import ContentFile
from django.test import Client

from audio import access
from audio.models import AudioAsset, Rendition
from billing.selectors import entitlements_for
from catalog.models import Song
from tests.audio import synth
from tests.audio.factories import RenditionFactory
from tests.billing.factories import SubscriptionFactory
from tests.catalog.conftest import client_for
from tests.catalog.factories import SongFactory
from tests.factories import MusicianFactory, UserFactory

SIZE = 4096
ORIGINAL = bytes(range(256)) * 16  # what tests.audio.factories stores as every original
MP3_KINDS = {96: Rendition.Kind.MP3_96, 160: Rendition.Kind.MP3_160, 320: Rendition.Kind.MP3_320}


def _content(kbps: int) -> bytes:
    """A 4096-byte file per rung, its first bytes naming it, every offset recognisable."""
    head = f"rung-{kbps}|".encode()
    return head + bytes((i * 7 + kbps) % 256 for i in range(SIZE - len(head)))


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _stream_url(song, **query) -> str:
    params = "&".join(f"{key}={value}" for key, value in query.items())
    return f"/api/songs/{song.pk}/stream" + (f"?{params}" if params else "")


@pytest.fixture
def free(db):
    return UserFactory()


@pytest.fixture
def premium(db):
    subscription = SubscriptionFactory(plan="premium_individual")
    assert entitlements_for(subscription.user).max_bitrate_kbps == 320
    return subscription.user


@pytest.fixture
def player():
    """A media player: follows the signed link with no cookie and no token."""
    return Client()


@pytest.fixture
def song(db):
    """A public song whose MP3 ladder has landed (96, 160 and 320 kbps)."""
    song = SongFactory()
    for kbps, kind in MP3_KINDS.items():
        RenditionFactory(
            asset=song.asset,
            kind=kind,
            bitrate=kbps * 1000,
            file=ContentFile(_content(kbps), name=f"{kind}.mp3"),
        )
    return song


# --- the rung each plan gets ------------------------------------------------------------------


def test_a_free_listener_asking_high_gets_normal(song, free, player):
    response = client_for(free).get(_stream_url(song, quality="high"))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("/media/s/") and location.endswith("/mp3_160.mp3")
    assert response["X-Stream-Quality"] == "normal"
    assert response["X-Stream-Bitrate"] == "160"
    assert response["X-Stream-Format"] == "mp3"
    assert response["Cache-Control"] == "private, no-store"
    grant = access.token_read(location.split("/")[3])
    assert grant.issued_to == str(free.pk) and grant.hls_max_kbps is None
    played = player.get(location)
    assert played.status_code == 200 and _body(played) == _content(160)
    assert played["Content-Type"] == "audio/mpeg"


def test_the_json_form_says_what_was_chosen(song, free, player):
    for query, headers in (
        ({"quality": "high", "redirect": "false"}, {}),
        ({"quality": "high"}, {"HTTP_ACCEPT": "application/json"}),
    ):
        response = client_for(free).get(_stream_url(song, **query), **headers)
        assert response.status_code == 200
        data = response.json()
        assert data["quality"] == "normal" and data["asked"] == "high"
        assert (data["bitrate_kbps"], data["max_kbps"], data["format"]) == (160, 160, "mp3")
        assert data["expires_at"]
        assert response["X-Stream-Quality"] == "normal"
        assert _body(player.get(data["url"])) == _content(160)


def test_a_premium_listener_gets_high(song, premium, player):
    response = client_for(premium).get(_stream_url(song, quality="high"))
    assert response.status_code == 302
    assert response["X-Stream-Quality"] == "high" and response["X-Stream-Bitrate"] == "320"
    assert response["Location"].endswith("/mp3_320.mp3")
    assert _body(player.get(response["Location"])) == _content(320)
    data = client_for(premium).get(_stream_url(song, quality="high", redirect="false")).json()
    assert (data["quality"], data["bitrate_kbps"], data["max_kbps"]) == ("high", 320, 320)


@pytest.mark.parametrize(
    ("asked", "free_gets", "premium_gets"),
    [("low", 96, 96), ("normal", 160, 160), ("high", 160, 320)],
)
def test_each_plan_gets_the_best_rung_at_or_under_what_it_asked(
    song, free, premium, asked, free_gets, premium_gets
):
    for user, expected in ((free, free_gets), (premium, premium_gets)):
        response = client_for(user).get(_stream_url(song, quality=asked))
        assert response["X-Stream-Bitrate"] == str(expected), (user, asked)


def test_normal_is_the_default_quality(song, premium):
    response = client_for(premium).get(_stream_url(song))
    assert response["X-Stream-Quality"] == "normal" and response["X-Stream-Bitrate"] == "160"


def test_an_anonymous_listener_gets_the_free_rungs(song, anonymous, player):
    response = anonymous.get(_stream_url(song, quality="high"))
    assert response.status_code == 302
    assert response["X-Stream-Quality"] == "normal" and response["X-Stream-Bitrate"] == "160"
    assert access.token_read(response["Location"].split("/")[3]).issued_to is None
    assert _body(player.get(response["Location"])) == _content(160)
    data = anonymous.get(_stream_url(song, quality="high", redirect="false")).json()
    assert data["max_kbps"] == 160


def test_a_private_song_is_404_to_others_and_plays_for_its_owner(free, premium, anonymous, player):
    song = SongFactory(visibility="private")
    for client in (client_for(free), client_for(premium), anonymous):
        response = client.get(_stream_url(song))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    owner = client_for(song.artist.user)
    response = owner.get(_stream_url(song, quality="high"))
    assert response.status_code == 302
    assert _body(player.get(response["Location"])) == ORIGINAL


def test_the_original_plays_before_renditions_land(free, player):
    song = SongFactory()
    assert not song.asset.renditions.exists()
    for query in ({"quality": "high"}, {"quality": "low", "format": "hls"}):
        response = client_for(free).get(_stream_url(song, **query))
        assert response.status_code == 302, query
        assert response["X-Stream-Quality"] == "original"
        assert response["X-Stream-Format"] == "mp3"  # the original's container
        assert response["Location"].endswith("/original.mp3")
        assert _body(player.get(response["Location"])) == ORIGINAL
    data = client_for(free).get(_stream_url(song, redirect="false")).json()
    assert data["quality"] == "original" and data["asked"] == "normal"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"quality": "ultra"}, "quality"),
        ({"quality": ""}, "quality"),
        ({"quality": "HIGH"}, "quality"),
        ({"format": "flac"}, "format"),
        ({"format": "dash"}, "format"),
    ],
)
def test_a_bad_quality_or_format_is_400(song, free, query, field):
    response = client_for(free).get(_stream_url(song, **query))
    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid" and data["detail"]
    assert field in str(data.get("errors", data))


def test_an_unknown_song_is_404(free):
    assert client_for(free).get("/api/songs/not-a-uuid/stream").status_code == 404
    missing = "/api/songs/00000000-0000-4000-8000-000000000000/stream"
    assert client_for(free).get(missing).status_code == 404


# --- Range requests on the signed link --------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "status", "first", "last"),
    [
        ("bytes=0-99", 206, 0, 99),
        ("bytes=-100", 206, SIZE - 100, SIZE - 1),  # suffix: the last 100 bytes
        ("bytes=1000-", 206, 1000, SIZE - 1),  # open-ended
        ("bytes=4000-9999", 206, 4000, SIZE - 1),  # the end is clamped
        (f"bytes={SIZE}-", 416, None, None),  # starts past the end
        ("bytes=-0", 416, None, None),
    ],
)
def test_range_requests_through_the_stream(song, free, player, header, status, first, last):
    location = client_for(free).get(_stream_url(song, quality="high"))["Location"]
    response = player.get(location, HTTP_RANGE=header)
    assert response.status_code == status
    assert response["Accept-Ranges"] == "bytes"
    if status == 416:
        assert response["Content-Range"] == f"bytes */{SIZE}"
        return
    assert response["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert response["Content-Length"] == str(last - first + 1)
    assert _body(response) == _content(160)[first : last + 1]


def test_with_x_accel_the_signed_link_hands_the_bytes_to_nginx(song, free, player, settings):
    settings.MEDIA_ACCEL_REDIRECT = True
    settings.MEDIA_ACCEL_PREFIX = "/protected-media/"
    location = client_for(free).get(_stream_url(song, quality="high"))["Location"]
    response = player.get(location, HTTP_RANGE="bytes=0-99")
    assert response.status_code == 200 and response.content == b""  # nginx answers the range
    name = song.asset.renditions.get(kind=Rendition.Kind.MP3_160).file.name
    assert response["X-Accel-Redirect"] == f"/protected-media/{name}"
    assert response["Content-Type"] == "audio/mpeg"


# --- HLS on a ladder made by the real pipeline ------------------------------------------------


@pytest.fixture(scope="module")
def wav_bytes(tmp_path_factory):
    """Eight seconds of synthesised music: two HLS segments per variant."""
    path = tmp_path_factory.mktemp("stream-audio") / "song.wav"
    synth.write_wav(path, synth.music(8.0, seed=5), 44100)
    return path.read_bytes()


@pytest.fixture
def hls_song(db, wav_bytes, django_capture_on_commit_callbacks):
    """A song uploaded by a musician through ``POST /api/songs``; the pipeline runs inline."""
    musician = MusicianFactory()
    upload = ContentFile(wav_bytes, name="Night Drive.wav")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(musician).post(
            "/api/songs", {"title": "Night Drive", "audio": upload}, format="multipart"
        )
    assert response.status_code == 201, response.content
    song = Song.objects.select_related("asset").get(pk=response.json()["id"])
    song.asset.refresh_from_db()
    assert song.asset.status == AudioAsset.Status.READY, song.asset.failure_reason
    hls = song.asset.renditions.get(kind=Rendition.Kind.HLS)
    assert [v["bitrate"] for v in hls.details["variants"]] == [64_000, 128_000, 256_000]
    return song


def _hls(client, song, player, **query):
    response = client.get(_stream_url(song, format="hls", **query))
    assert response.status_code == 302
    assert response["X-Stream-Format"] == "hls"
    location = response["Location"]
    assert location.endswith("/master.m3u8")
    master = player.get(location)
    assert master.status_code == 200
    assert master["Content-Type"] == "application/vnd.apple.mpegurl"
    uris = [p.uri for p in m3u8.loads(_body(master).decode()).playlists]
    return response, location.rsplit("/", 1)[0], uris


def _segments(player, base, variant):
    playlist = player.get(f"{base}/{variant}/index.m3u8")
    assert playlist.status_code == 200, variant
    parsed = m3u8.loads(_body(playlist).decode())
    assert parsed.is_endlist and len(parsed.segments) == 2
    return [s.uri for s in parsed.segments]


def test_hls_is_limited_to_the_plan(hls_song, free, premium, anonymous, player):
    # A free listener asking high: the master lists only the 64k and 128k variants.
    response, base, uris = _hls(client_for(free), hls_song, player, quality="high")
    assert response["X-Stream-Quality"] == "normal" and response["X-Stream-Bitrate"] == "128"
    assert uris == ["64k/index.m3u8", "128k/index.m3u8"]
    for variant in ("64k", "128k"):
        segments = _segments(player, base, variant)
        first = player.get(f"{base}/{variant}/{segments[0]}")
        assert first.status_code == 200 and first["Content-Type"] == "video/mp2t"
        data = _body(first)
        assert len(data) > 1000 and data[0] == 0x47  # MPEG-TS sync byte
        tail = player.get(f"{base}/{variant}/{segments[-1]}", HTTP_RANGE="bytes=-188")
        assert tail.status_code == 206 and len(_body(tail)) == 188
    # The top rung with the free token: its playlist and its segments are refused.
    for refused in ("256k/index.m3u8", "256k/seg_00000.ts", "128k/../256k/seg_00001.ts"):
        answer = player.get(f"{base}/{refused}")
        assert answer.status_code == 403, refused
        assert answer.json()["code"] == "link_invalid"

    # Premium hears all three, the top rung's segments included.
    response, premium_base, uris = _hls(client_for(premium), hls_song, player, quality="high")
    assert response["X-Stream-Quality"] == "high" and response["X-Stream-Bitrate"] == "256"
    assert uris == ["64k/index.m3u8", "128k/index.m3u8", "256k/index.m3u8"]
    top = _segments(player, premium_base, "256k")
    segment = player.get(f"{premium_base}/256k/{top[0]}")
    assert segment.status_code == 200 and _body(segment)[0] == 0x47

    # Anonymous listeners get the free rungs; asking low gets the lowest variant only.
    _response, _base, uris = _hls(anonymous, hls_song, player, quality="high")
    assert uris == ["64k/index.m3u8", "128k/index.m3u8"]
    response, low_base, uris = _hls(client_for(free), hls_song, player, quality="low")
    assert response["X-Stream-Bitrate"] == "64" and uris == ["64k/index.m3u8"]
    assert player.get(f"{low_base}/128k/index.m3u8").status_code == 403

    # The MP3 ladder landed too: the default format plays the rung's file.
    mp3 = client_for(free).get(_stream_url(hls_song, quality="high"))
    assert mp3["X-Stream-Format"] == "mp3" and mp3["Location"].endswith("/mp3_160.mp3")
    assert player.get(mp3["Location"], HTTP_RANGE="bytes=0-99").status_code == 206
