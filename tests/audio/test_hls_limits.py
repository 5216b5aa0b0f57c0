"""HLS links limited to a plan: the signed token carries the ceiling (``hls_max_kbps``) and the
signed view lists and serves only the variants at or under it, by the bitrates the rendition
recorded (never by the playlist's BANDWIDTH, which the encoder writes and a file could misstate).

The rendition here is a stored folder like the pipeline's (three rungs, each its own folder);
the real pipeline's ladder is covered in tests/catalog/test_stream.py.
"""

import base64
import json
import time

import m3u8
import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from audio import access
from audio.errors import MediaUnavailable
from audio.models import Rendition
from audio.signing import audio_url_sign
from tests.audio.factories import AudioAssetFactory, RenditionFactory
from tests.audio.test_s3 import s3  # noqa: F401  (the moto bucket fixture)
from tests.factories import UserFactory

SEGMENT = b"G" + bytes(range(1, 256)) * 4
RUNGS = (64, 128, 256)


def _master(bandwidth=lambda kbps: 1000):
    """A master playlist whose BANDWIDTH says nothing useful (all equal by default): the limit
    must come from the recorded bitrates."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for kbps in RUNGS:
        lines.append(f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth(kbps)},CODECS="mp4a.40.2"')
        lines.append(f"{kbps}k/index.m3u8")
    return ("\n".join(lines) + "\n").encode()


def _variant():
    return (
        b"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        b"#EXTINF:5.99,\nseg_00000.ts\n#EXTINF:2.0,\nseg_00001.ts\n#EXT-X-ENDLIST\n"
    )


def _ladder(owner, *, details=None, master=None):
    asset = AudioAssetFactory(owner=owner)
    folder = f"audio/{asset.pk}/hls"
    files = {"master.m3u8": master or _master()}
    for kbps in RUNGS:
        files[f"{kbps}k/index.m3u8"] = _variant()
        files[f"{kbps}k/seg_00000.ts"] = SEGMENT
        files[f"{kbps}k/seg_00001.ts"] = SEGMENT
    for relative, data in files.items():
        default_storage.save(f"{folder}/{relative}", ContentFile(data))
    if details is None:
        details = {
            "master": "master.m3u8",
            "variants": [{"bitrate": k * 1000, "playlist": f"{k}k/index.m3u8"} for k in RUNGS],
        }
    return RenditionFactory(
        asset=asset,
        kind=Rendition.Kind.HLS,
        file=f"{folder}/master.m3u8",
        folder=folder,
        content_type="application/vnd.apple.mpegurl",
        bitrate=256_000,
        details=details,
    )


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def client():
    return Client()


def _token(url):
    return url.split("/")[3]


def _uris(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return [p.uri for p in m3u8.loads(body.decode()).playlists]


# --- the token ------------------------------------------------------------------------------


def _grant(**values):
    defaults = dict(issued_to="u1", kind=access.RENDITION, object_id="7", expires_at=0)
    defaults["expires_at"] = int(time.time()) + 60
    return access.Grant(**{**defaults, **values})


def test_the_token_carries_the_ceiling():
    grant = access.token_read(access.token_make(_grant(hls_max_kbps=160)))
    assert grant.hls_max_kbps == 160
    assert access.token_read(access.token_make(_grant())).hls_max_kbps is None


def test_version_one_tokens_still_read_as_unlimited():
    """Tokens issued before the ceiling existed (version 1, six fields) stay valid until they
    expire; they were never limited."""
    expires = int(time.time()) + 60
    old = signing.dumps([1, "u1", "r", "7", expires, 0], salt=access.SALT, compress=False)
    grant = access.token_read(old)
    assert (grant.object_id, grant.hls_max_kbps, grant.expires_at) == ("7", None, expires)


@pytest.mark.parametrize(
    "payload",
    [
        [2, "u1", "r", "7", "EXP", 0],  # version 2 without its ceiling field
        [1, "u1", "r", "7", "EXP", 0, 160],  # version 1 with a ceiling it never had
        [3, "u1", "r", "7", "EXP", 0, 160],  # a version this code does not know
        [2, "u1", "r", "7", "EXP", 0, 0],
        [2, "u1", "r", "7", "EXP", 0, -64],
        [2, "u1", "r", "7", "EXP", 0, "160"],
        [2, "u1", "r", "7", "EXP", 0, True],
        [2, "u1", "r", "7", "EXP", 0, 160.5],
        [],
    ],
)
def test_malformed_ceilings_and_versions_are_invalid(payload):
    expires = int(time.time()) + 60
    payload = [expires if value == "EXP" else value for value in payload]
    token = signing.dumps(payload, salt=access.SALT, compress=False)
    with pytest.raises(access.AccessDenied) as refused:
        access.token_read(token)
    assert refused.value.reason == "invalid"


def _payload_rewritten(url: str, change) -> str:
    """The URL with its signed payload edited by ``change``, its signature kept."""
    prefix, token, filename = url.rsplit("/", 2)
    payload, stamp, signature = token.split(":")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(data)
    edited = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return f"{prefix}/{edited.decode().rstrip('=')}:{stamp}:{signature}/{filename}"


def test_the_ceiling_cannot_be_raised_or_dropped_in_the_url(owner, client):
    """The ceiling is inside what is signed: a free listener's link edited to claim more (or no
    ceiling at all, or the old unlimited version) is a broken link, not a premium one."""
    rendition = _ladder(owner)
    url = audio_url_sign(user=owner, obj=rendition, hls_max_kbps=160)
    assert client.get(url).status_code == 200
    payload = signing.loads(_token(url), salt=access.SALT)
    assert payload[0] == access.VERSION == 2 and payload[-1] == 160
    for change in (
        lambda data: data.__setitem__(6, 320),
        lambda data: data.__setitem__(6, None),
        lambda data: (data.pop(), data.__setitem__(0, 1)),  # dressed up as a version 1 token
    ):
        response = client.get(_payload_rewritten(url, change))
        assert response.status_code == 403 and response.json()["code"] == "link_invalid"
    # Signed under another salt (not a media token of ours): refused too.
    foreign = signing.dumps(
        [2, str(owner.pk), "r", str(rendition.pk), int(time.time()) + 60, 0, 320],
        salt="another-salt",
        compress=False,
    )
    assert client.get(url.replace(_token(url), foreign)).status_code == 403


# --- which variants a ceiling admits ----------------------------------------------------------


def _recorded(*kbps):
    return {"variants": [{"bitrate": k * 1000, "playlist": f"{k}k/index.m3u8"} for k in kbps]}


@pytest.mark.parametrize(
    ("ceiling", "admitted"),
    [
        (None, [64, 128, 256]),
        (320, [64, 128, 256]),
        (256, [64, 128, 256]),
        (160, [64, 128]),
        (128, [64, 128]),
        (96, [64]),
        (32, [64]),  # under the lowest rung: the lowest still plays
    ],
)
def test_variants_within_a_ceiling(ceiling, admitted):
    variants = access.hls_variants(_recorded(256, 64, 128))  # recorded out of order
    within = access.hls_variants_within(variants, ceiling)
    assert [v.bitrate // 1000 for v in within] == admitted
    assert [v.folder for v in within] == [f"{k}k" for k in admitted]


def test_unusable_recorded_variants_are_left_out():
    details = {
        "variants": [
            {"bitrate": 64_000, "playlist": "64k/index.m3u8"},
            {"bitrate": "128000", "playlist": "128k/index.m3u8"},
            {"bitrate": 256_000, "playlist": "../elsewhere/index.m3u8"},
            {"bitrate": 256_000, "playlist": "/abs/index.m3u8"},
            {"bitrate": 256_000, "playlist": "256k/seg_00000.ts"},
            {"bitrate": 0, "playlist": "0k/index.m3u8"},
            {"playlist": "x/index.m3u8"},
            "256k/index.m3u8",
        ]
    }
    assert access.hls_variants(details) == [access.HlsVariant("64k/index.m3u8", 64_000)]
    assert access.hls_variants({}) == access.hls_variants(None) == []
    assert access.hls_variants({"variants": "64k"}) == []
    assert access.hls_variants_within([], 160) == []


# --- issuing a limited link -------------------------------------------------------------------


def test_only_hls_renditions_with_recorded_variants_can_be_limited(owner):
    rendition = _ladder(owner)
    mp3 = RenditionFactory(asset=rendition.asset, kind=Rendition.Kind.MP3_160)
    with pytest.raises(ValueError):
        audio_url_sign(user=owner, obj=mp3, hls_max_kbps=160)
    with pytest.raises(ValueError):
        audio_url_sign(user=owner, obj=rendition.asset, hls_max_kbps=160)
    for bad in (0, -1, True, "160", 160.0):
        with pytest.raises(ValueError):
            audio_url_sign(user=owner, obj=rendition, hls_max_kbps=bad)
    unrecorded = _ladder(owner, details={"master": "master.m3u8"})
    with pytest.raises(MediaUnavailable):
        audio_url_sign(user=owner, obj=unrecorded, hls_max_kbps=160)
    # Unlimited links to it are still issued, as before.
    plain = access.token_read(_token(audio_url_sign(user=owner, obj=unrecorded)))
    assert plain.hls_max_kbps is None


# --- serving a limited link -------------------------------------------------------------------


def test_the_master_lists_only_the_admitted_variants(owner, client):
    rendition = _ladder(owner)
    limited = audio_url_sign(user=owner, obj=rendition, hls_max_kbps=160)
    master = client.get(limited)
    assert master.status_code == 200
    assert master["Content-Type"] == "application/vnd.apple.mpegurl"
    assert master["Cache-Control"] == "private, no-store"
    assert _uris(master) == ["64k/index.m3u8", "128k/index.m3u8"]
    text = master.content.decode()
    assert text.count("#EXT-X-STREAM-INF") == 2 and "256k" not in text
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in text  # other tags stay
    every = ["64k/index.m3u8", "128k/index.m3u8", "256k/index.m3u8"]
    assert _uris(client.get(audio_url_sign(user=owner, obj=rendition))) == every
    premium = client.get(audio_url_sign(user=owner, obj=rendition, hls_max_kbps=320))
    assert _uris(premium) == every


def test_the_limit_follows_the_recorded_bitrates_not_the_playlist(owner, client):
    """A master whose BANDWIDTH claims the 256k rung is small is still limited by what the
    pipeline recorded encoding it."""
    rendition = _ladder(owner, master=_master(lambda kbps: 300_000 - kbps * 1000))
    assert _uris(client.get(audio_url_sign(user=owner, obj=rendition, hls_max_kbps=96))) == [
        "64k/index.m3u8"
    ]


def test_under_the_lowest_rung_the_lowest_plays(owner, client):
    rendition = _ladder(owner)
    url = audio_url_sign(user=owner, obj=rendition, hls_max_kbps=32)
    base = url.rsplit("/", 1)[0]
    assert _uris(client.get(url)) == ["64k/index.m3u8"]
    assert client.get(f"{base}/64k/index.m3u8").status_code == 200
    assert client.get(f"{base}/128k/index.m3u8").status_code == 403


def test_rungs_above_the_limit_are_refused_with_that_token(owner, client):
    rendition = _ladder(owner)
    url = audio_url_sign(user=owner, obj=rendition, hls_max_kbps=160)
    base = url.rsplit("/", 1)[0]
    for allowed in ("64k/index.m3u8", "128k/index.m3u8"):
        assert client.get(f"{base}/{allowed}").status_code == 200, allowed
    segment = client.get(f"{base}/128k/seg_00001.ts", HTTP_RANGE="bytes=0-9")
    assert segment.status_code == 206 and b"".join(segment.streaming_content) == SEGMENT[:10]
    for refused in (
        "256k/index.m3u8",
        "256k/seg_00000.ts",
        "64k/../256k/seg_00001.ts",
        "128k/../256k/index.m3u8",
    ):
        response = client.get(f"{base}/{refused}")
        assert response.status_code == 403, refused
        assert response.json() == {
            "detail": "This link does not lead to that file.",
            "code": "link_invalid",
        }
    # HEAD is refused the same way (no size or existence leaks).
    assert client.head(f"{base}/256k/seg_00000.ts").status_code == 403
    # The premium link to the same rendition plays the top rung.
    premium = audio_url_sign(user=owner, obj=rendition, hls_max_kbps=320).rsplit("/", 1)[0]
    assert client.get(f"{premium}/256k/seg_00000.ts").status_code == 200


def test_files_outside_every_variant_folder_are_refused_to_a_limited_token(owner, client):
    rendition = _ladder(owner)
    default_storage.save(f"{rendition.folder}/stray.ts", ContentFile(SEGMENT))
    limited = audio_url_sign(user=owner, obj=rendition, hls_max_kbps=160).rsplit("/", 1)[0]
    unlimited = audio_url_sign(user=owner, obj=rendition).rsplit("/", 1)[0]
    assert client.get(f"{limited}/stray.ts").status_code == 403
    assert client.get(f"{unlimited}/stray.ts").status_code == 200


def test_with_x_accel_the_limited_master_is_still_rewritten_by_django(owner, client, settings):
    settings.MEDIA_ACCEL_REDIRECT = True
    settings.MEDIA_ACCEL_PREFIX = "/protected-media/"
    rendition = _ladder(owner)
    url = audio_url_sign(user=owner, obj=rendition, hls_max_kbps=160)
    base = url.rsplit("/", 1)[0]
    master = client.get(url)
    assert "X-Accel-Redirect" not in master
    assert _uris(master) == ["64k/index.m3u8", "128k/index.m3u8"]
    segment = client.get(f"{base}/128k/seg_00000.ts")
    assert segment["X-Accel-Redirect"] == f"/protected-media/{rendition.folder}/128k/seg_00000.ts"
    assert client.get(f"{base}/256k/seg_00000.ts").status_code == 403
    # Without a ceiling the master goes to nginx untouched, as before.
    plain = client.get(audio_url_sign(user=owner, obj=rendition))
    assert plain["X-Accel-Redirect"] == f"/protected-media/{rendition.folder}/master.m3u8"


def test_the_access_log_names_the_ceiling(owner, client, caplog):
    caplog.set_level("INFO", logger="audio.access")
    rendition = _ladder(owner)
    base = audio_url_sign(user=owner, obj=rendition, hls_max_kbps=160).rsplit("/", 1)[0]
    client.get(f"{base}/256k/index.m3u8")
    record = [r for r in caplog.records if r.name == "audio.access"][-1]
    assert (record.media_outcome, record.media_max_kbps) == ("refused:outside", 160)


def test_on_s3_the_limited_master_is_filtered_and_segments_presigned(owner, s3):  # noqa: F811
    rendition = _ladder(owner)
    assert default_storage.exists(f"{rendition.folder}/256k/seg_00000.ts")
    client = Client()
    url = audio_url_sign(user=owner, obj=rendition, hls_max_kbps=160)
    assert url.startswith("/media/s/")
    base = url.rsplit("/", 1)[0]
    assert _uris(client.get(url)) == ["64k/index.m3u8", "128k/index.m3u8"]
    variant = client.get(f"{base}/128k/index.m3u8")
    assert variant.status_code == 200
    segments = m3u8.loads(variant.content.decode()).segments
    assert all(s.uri.startswith("https://") and "X-Amz-Signature" in s.uri for s in segments)
    assert all(f"{rendition.folder}/128k/seg_" in s.uri for s in segments)
    for refused in ("256k/index.m3u8", "256k/seg_00000.ts"):
        assert client.get(f"{base}/{refused}").status_code == 403, refused
    premium = audio_url_sign(user=owner, obj=rendition, hls_max_kbps=320)
    assert len(_uris(client.get(premium))) == 3
