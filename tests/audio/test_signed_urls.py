"""Signed media URLs: a short-lived bearer capability for one object, like an S3 presigned URL.

Every request below is made WITHOUT a session or API token, as a phone's media player, a
download manager or a client following a redirect makes it: the signed URL alone grants access.
"""

import base64
import json
import logging
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from accounts.services import api_token_issue
from audio import access
from audio.errors import MediaUnavailable
from audio.models import AudioAsset, Rendition
from audio.signing import audio_url_sign
from tests.audio.factories import AudioAssetFactory, RenditionFactory
from tests.factories import UserFactory

CONTENT = bytes(range(256)) * 16  # 4096 bytes, every offset recognisable


@pytest.fixture
def owner(db):
    return UserFactory()


@pytest.fixture
def asset(owner):
    return AudioAssetFactory(owner=owner)


@pytest.fixture
def client():
    """No cookie, no token: nothing but the URL."""
    return Client()


@pytest.fixture
def access_log(caplog):
    caplog.set_level(logging.INFO, logger="audio.access")
    return lambda: [r for r in caplog.records if r.name == "audio.access"]


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_signed_url_works_with_no_cookie_or_token(asset, owner, client):
    url = audio_url_sign(user=owner, obj=asset)
    assert url.startswith("/media/s/") and url.endswith("/original.mp3")
    response = client.get(url)
    assert response.status_code == 200
    assert _body(response) == CONTENT
    assert response["Content-Type"] == "audio/mpeg"
    assert response["Content-Length"] == "4096"
    assert response["Accept-Ranges"] == "bytes"
    assert response["Cache-Control"].startswith("private")


@pytest.mark.parametrize(
    ("header", "status", "first", "last"),
    [
        ("bytes=0-99", 206, 0, 99),
        ("bytes=100-", 206, 100, 4095),
        ("bytes=-500", 206, 3596, 4095),  # suffix: the last 500 bytes
        ("bytes=-10000", 206, 0, 4095),  # a suffix longer than the file is the whole file
        ("bytes=4000-9999", 206, 4000, 4095),  # the end is clamped
        ("bytes=4095-4095", 206, 4095, 4095),
        ("bytes=4096-", 416, None, None),  # starts past the end
        ("bytes=5000-6000", 416, None, None),
        ("bytes=-0", 416, None, None),
        ("bytes=10-5", 200, 0, 4095),  # invalid: ignored
        ("bytes=0-1,5-9", 200, 0, 4095),  # several ranges: ignored
        ("items=0-10", 200, 0, 4095),  # another unit: ignored
    ],
)
def test_range_requests(asset, owner, client, header, status, first, last):
    response = client.get(audio_url_sign(user=owner, obj=asset), HTTP_RANGE=header)
    assert response.status_code == status
    if status == 416:
        assert response["Content-Range"] == "bytes */4096"
        return
    body = _body(response)
    assert body == CONTENT[first : last + 1]
    assert response["Content-Length"] == str(last - first + 1)
    if status == 206:
        assert response["Content-Range"] == f"bytes {first}-{last}/4096"
    else:
        assert "Content-Range" not in response


def test_head_and_if_range(asset, owner, client):
    url = audio_url_sign(user=owner, obj=asset)
    head = client.head(url)
    assert head.status_code == 200 and head["Content-Length"] == "4096" and head.content == b""
    etag = head["ETag"]
    matching = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert matching.status_code == 206
    stale = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"something-else"')
    assert stale.status_code == 200 and _body(stale) == CONTENT


def test_expired_urls_are_refused(asset, owner, client, monkeypatch):
    url = audio_url_sign(user=owner, obj=asset, expires_in=30)
    assert client.get(url).status_code == 200
    later = time.time() + 31
    monkeypatch.setattr(access.time, "time", lambda: later)
    refused = client.get(url)
    assert refused.status_code == 403
    assert refused.json() == {
        "detail": "This link has expired. Ask for a new one.",
        "code": "link_expired",
    }


def _flip(text: str, position: int) -> str:
    return text[:position] + ("A" if text[position] != "A" else "B") + text[position + 1 :]


def test_tampered_urls_are_refused(asset, owner, client):
    url = audio_url_sign(user=owner, obj=asset)
    _, _, _, token, filename = url.split("/")
    # Change one character of the signature, then of the payload.
    for position in (len(token) - 3, 5):
        refused = client.get(f"/media/s/{_flip(token, position)}/{filename}")
        assert refused.status_code == 403
        assert refused.json()["code"] == "link_invalid"
    # A valid signature moved onto a payload naming another object.
    other = AudioAssetFactory(owner=owner)
    forged = access.Grant(
        issued_to=str(owner.pk), kind="a", object_id=str(other.pk), expires_at=int(time.time()) + 60
    )
    payload = access.token_make(forged).split(":")[0]
    assert client.get(f"/media/s/{payload}:{token.split(':', 1)[1]}/{filename}").status_code == 403
    assert client.get(f"/media/s/garbage/{filename}").status_code == 403


def _payload_rewritten(url: str, change) -> str:
    """The URL with its signed payload edited by ``change``, its signature kept."""
    prefix, token, filename = url.rsplit("/", 2)
    payload, stamp, signature = token.split(":")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(data)
    edited = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode())
    return f"{prefix}/{edited.decode().rstrip('=')}:{stamp}:{signature}/{filename}"


def test_the_person_and_the_expiry_cannot_be_rewritten(asset, owner, client):
    url = audio_url_sign(user=owner, obj=asset, expires_in=30)
    assert client.get(url).status_code == 200
    someone = UserFactory()
    for change in (
        lambda data: data.__setitem__(1, str(someone.pk)),  # issued to someone else
        lambda data: data.__setitem__(1, ""),  # issued to nobody
        lambda data: data.__setitem__(4, data[4] + 3600),  # an hour longer
        lambda data: data.__setitem__(5, 1),  # made a download
    ):
        assert client.get(_payload_rewritten(url, change)).status_code == 403


def test_a_url_names_one_object_only(owner, client):
    asset = AudioAssetFactory(owner=owner)
    rendition = RenditionFactory(asset=asset, kind=Rendition.Kind.MP3_160)
    neighbour = RenditionFactory(asset=AudioAssetFactory(owner=owner), kind=Rendition.Kind.MP3_160)
    url = audio_url_sign(user=owner, obj=rendition)
    assert client.get(url).status_code == 200
    base, filename = url.rsplit("/", 1)
    assert filename == "mp3_160.mp3"
    for path in (
        "original.mp3",  # a file of the same asset, but not the signed object
        "mp3_320.mp3",
        f"../{neighbour.asset_id}/mp3_160.mp3",  # another asset's file of the same name
        f"{filename}/",
        f"sub/{filename}",
    ):
        refused = client.get(f"{base}/{path}")
        assert refused.status_code in (403, 404), path
    refused = client.get(f"{base}/original.mp3")
    assert refused.status_code == 403 and refused.json()["code"] == "link_invalid"


def test_nobody_s_session_or_token_matters(asset, owner):
    """A bearer URL: the holder's cookie or API token (theirs, someone else's, a bad one) plays
    no part."""
    url = audio_url_sign(user=owner, obj=asset)
    stranger = Client()
    stranger.force_login(UserFactory())
    assert stranger.get(url).status_code == 200
    mine = Client()
    mine.force_login(owner)
    assert mine.get(url).status_code == 200
    assert Client().get(url, HTTP_AUTHORIZATION="Token nonsense").status_code == 200
    token = api_token_issue(user=UserFactory())
    assert Client().get(url, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    public = audio_url_sign(user=None, obj=asset)  # public material: issued to nobody
    assert Client().get(public).status_code == 200


def test_the_issued_to_person_is_in_the_access_log(asset, owner, client, access_log, monkeypatch):
    url = audio_url_sign(user=owner, obj=asset, expires_in=30)
    assert client.get(url, HTTP_RANGE="bytes=0-9").status_code == 206
    (served,) = access_log()
    assert served.issued_to == str(owner.pk)
    assert served.media_object == f"a:{asset.pk}" and served.media_status == 206
    assert served.media_outcome == "served"
    assert f"issued_to={owner.pk}" in served.getMessage()
    assert "range=bytes=0-9" in served.getMessage()

    # Refusals are logged too, with the person when the signature held.
    later = time.time() + 31
    monkeypatch.setattr(access.time, "time", lambda: later)
    assert client.get(url).status_code == 403
    expired = access_log()[-1]
    assert (expired.issued_to, expired.media_outcome) == (str(owner.pk), "refused:expired")
    assert client.get(f"/media/s/garbage/{url.rsplit('/', 1)[1]}").status_code == 403
    garbage = access_log()[-1]
    assert (garbage.issued_to, garbage.media_outcome) == (None, "refused:invalid")


def test_downloads_get_a_friendly_name(owner, client):
    asset = AudioAssetFactory(owner=owner, original_name="Our Wedding Song (final).wav")
    response = client.get(audio_url_sign(user=owner, obj=asset, download=True))
    assert response["Content-Disposition"] == 'attachment; filename="Our Wedding Song _final_.mp3"'
    asset = AudioAssetFactory(owner=owner, original_name="Canción de boda.wav")
    response = client.get(audio_url_sign(user=owner, obj=asset, download=True))
    assert response["Content-Disposition"] == (
        'attachment; filename="Canci_n de boda.mp3"; '
        "filename*=UTF-8''Canci%C3%B3n%20de%20boda.mp3"
    )


def test_x_accel_redirect_hands_the_bytes_to_nginx(owner, client, settings, access_log):
    settings.MEDIA_ACCEL_REDIRECT = True
    asset = AudioAssetFactory(owner=owner)
    name = default_storage.save(f"audio/{asset.pk}/la canción #1.mp3", ContentFile(CONTENT))
    rendition = RenditionFactory(asset=asset, kind=Rendition.Kind.MP3_320, file=name)
    url = audio_url_sign(user=owner, obj=rendition)
    response = client.get(url, HTTP_RANGE="bytes=0-10")
    assert response.status_code == 200  # nginx answers the range
    assert (
        response["X-Accel-Redirect"]
        == f"/protected-media/audio/{asset.pk}/la%20canci%C3%B3n%20%231.mp3"
    )
    assert response["Content-Type"] == "audio/mpeg"
    assert response.content == b""
    assert access_log()[-1].issued_to == str(owner.pk)
    assert client.get(url.replace("/la%20", "/le%20")).status_code == 403
    assert client.head(url)["X-Accel-Redirect"] == response["X-Accel-Redirect"]


def _hls_rendition(asset):
    folder = f"audio/{asset.pk}/hls"
    files = {
        "master.m3u8": b"#EXTM3U\n"
        b'#EXT-X-STREAM-INF:BANDWIDTH=70400,CODECS="mp4a.40.2"\n64k/index.m3u8\n',
        "64k/index.m3u8": b"#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
        b"#EXTINF:5.99,\nseg_00000.ts\n#EXT-X-ENDLIST\n",
        "64k/seg_00000.ts": CONTENT,
    }
    for relative, data in files.items():
        default_storage.save(f"{folder}/{relative}", ContentFile(data))
    return RenditionFactory(
        asset=asset,
        kind=Rendition.Kind.HLS,
        file=f"{folder}/master.m3u8",
        folder=folder,
        content_type="application/vnd.apple.mpegurl",
    )


def test_hls_playlists_and_segments_share_the_token(owner, client, access_log):
    rendition = _hls_rendition(AudioAssetFactory(owner=owner))
    url = audio_url_sign(user=owner, obj=rendition)
    assert url.endswith("/master.m3u8")
    base = url.rsplit("/", 1)[0]
    master = client.get(url)
    assert master.status_code == 200 and master["Content-Type"] == "application/vnd.apple.mpegurl"
    assert b"64k/index.m3u8" in _body(master)
    assert client.get(f"{base}/64k/index.m3u8").status_code == 200
    segment = client.get(f"{base}/64k/seg_00000.ts", HTTP_RANGE="bytes=-100")
    assert segment.status_code == 206 and segment["Content-Type"] == "video/mp2t"
    assert client.get(f"{base}/64k/seg_00009.ts").status_code == 404
    for outside in (
        "../original.mp3",
        "64k/../../original.mp3",
        "%2e%2e/original.mp3",
        "64k/notes.txt",
    ):
        assert client.get(f"{base}/{outside}").status_code in (403, 404), outside
        assert client.get(f"{base}/{outside}").status_code != 200
    served = [r for r in access_log() if r.media_outcome == "served"]
    assert {r.media_file for r in served} >= {"master.m3u8", "64k/index.m3u8", "64k/seg_00000.ts"}
    assert {r.issued_to for r in access_log()} == {str(owner.pk)}


def test_blocked_deliveries_are_not_handed_out(owner, client):
    asset = AudioAssetFactory(owner=owner, purpose=AudioAsset.Purpose.DELIVERY)
    rendition = RenditionFactory(
        asset=asset, kind=Rendition.Kind.DELIVERY_WAV, content_type="audio/wav"
    )
    url = audio_url_sign(user=owner, obj=rendition)
    assert client.get(url).status_code == 200
    AudioAsset.objects.filter(pk=asset.pk).update(
        status="failed", failure_reason="blocked", failure_code="qc_failed"
    )
    rendition.refresh_from_db()
    with pytest.raises(MediaUnavailable):
        audio_url_sign(user=owner, obj=rendition)
    refused = client.get(url)
    assert refused.status_code == 403 and refused.json()["code"] == "media_unavailable"


def test_lifetime_is_short_capped_and_must_be_positive(asset, owner, settings):
    """Long enough to play the track through (TTL + duration), never past the cap (an hour by
    default): a bearer capability must not live long."""
    settings.AUDIO_SIGNED_URL_TTL_SECONDS = 600
    issued = time.time()
    grant = access.token_read(audio_url_sign(user=owner, obj=asset).split("/")[3])
    assert 600 + 3 - 1 <= grant.expires_at - issued <= 600 + 3 + 1
    assert grant.issued_to == str(owner.pk)
    capped = access.token_read(
        audio_url_sign(user=owner, obj=asset, expires_in=10**6).split("/")[3]
    )
    assert capped.expires_at <= time.time() + 3600
    settings.AUDIO_SIGNED_URL_MAX_TTL_SECONDS = 100
    url = audio_url_sign(user=owner, obj=asset, expires_in=10**6)
    grant = access.token_read(url.split("/")[3])
    assert grant.expires_at <= time.time() + 100
    with pytest.raises(ValueError):
        audio_url_sign(user=owner, obj=asset, expires_in=0)


def test_post_is_not_allowed(asset, owner, client):
    assert client.post(audio_url_sign(user=owner, obj=asset)).status_code == 405
