import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from audio import access
from audio.errors import MediaUnavailable
from audio.models import AudioAsset, Rendition
from audio.services import audio_url_sign
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
def client_for(owner):
    def make(user=owner):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_owner_gets_the_whole_file_without_range(asset, owner, client_for):
    url = audio_url_sign(user=owner, obj=asset)
    assert url.startswith("/media/s/") and url.endswith("/original.mp3")
    response = client_for().get(url)
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
def test_range_requests(asset, owner, client_for, header, status, first, last):
    response = client_for().get(audio_url_sign(user=owner, obj=asset), HTTP_RANGE=header)
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


def test_head_and_if_range(asset, owner, client_for):
    client = client_for()
    url = audio_url_sign(user=owner, obj=asset)
    head = client.head(url)
    assert head.status_code == 200 and head["Content-Length"] == "4096" and head.content == b""
    etag = head["ETag"]
    matching = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert matching.status_code == 206
    stale = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"something-else"')
    assert stale.status_code == 200 and _body(stale) == CONTENT


def test_expired_urls_are_refused(asset, owner, client_for, monkeypatch):
    url = audio_url_sign(user=owner, obj=asset, expires_in=30)
    client = client_for()
    assert client.get(url).status_code == 200
    later = time.time() + 31
    monkeypatch.setattr(access.time, "time", lambda: later)
    assert client.get(url).status_code == 403


def test_tampered_urls_are_refused(asset, owner, client_for):
    url = audio_url_sign(user=owner, obj=asset)
    _, _, _, token, filename = url.split("/")
    client = client_for()
    # Change one character of the signature, then of the payload.
    for position in (len(token) - 3, 5):
        flipped = (
            token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
        )
        assert client.get(f"/media/s/{flipped}/{filename}").status_code == 403
    # Point a valid token at another file of the same storage.
    other = AudioAssetFactory(owner=owner)
    forged = access.Grant(
        user_id=str(owner.pk), kind="a", object_id=str(other.pk), expires_at=int(time.time()) + 60
    )
    payload = access.token_make(forged).split(":")[0]
    assert client.get(f"/media/s/{payload}:{token.split(':', 1)[1]}/{filename}").status_code == 403
    # A path that is not the signed object's file.
    assert client.get(f"/media/s/{token}/mp3_320.mp3").status_code == 403
    assert client.get(f"/media/s/garbage/{filename}").status_code == 403


def test_urls_are_bound_to_their_user(asset, owner, client_for):
    url = audio_url_sign(user=owner, obj=asset)
    assert client_for(UserFactory()).get(url).status_code == 403
    assert client_for(None).get(url).status_code == 403
    bearer = audio_url_sign(user=None, obj=asset)  # public material: no user binding
    assert client_for(None).get(bearer).status_code == 200


def test_api_token_authentication_works_for_native_clients(asset, owner):
    from accounts.services import api_token_issue

    url = audio_url_sign(user=owner, obj=asset)
    token = api_token_issue(user=owner)
    assert Client().get(url, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    assert Client().get(url, HTTP_AUTHORIZATION="Token nonsense").status_code == 403


def test_downloads_get_a_friendly_name(owner, client_for):
    asset = AudioAssetFactory(owner=owner, original_name="Our Wedding Song (final).wav")
    response = client_for().get(audio_url_sign(user=owner, obj=asset, download=True))
    assert response["Content-Disposition"].startswith(
        'attachment; filename="Our Wedding Song _final_.mp3"'
    )
    asset = AudioAssetFactory(owner=owner, original_name="Canción de boda.wav")
    response = client_for().get(audio_url_sign(user=owner, obj=asset, download=True))
    assert response["Content-Disposition"] == (
        'attachment; filename="Canci_n de boda.mp3"; '
        "filename*=UTF-8''Canci%C3%B3n%20de%20boda.mp3"
    )


def test_x_accel_redirect_hands_the_bytes_to_nginx(owner, client_for, settings):
    settings.MEDIA_ACCEL_REDIRECT = True
    asset = AudioAssetFactory(owner=owner)
    name = default_storage.save(f"audio/{asset.pk}/la canción #1.mp3", ContentFile(CONTENT))
    rendition = RenditionFactory(asset=asset, kind=Rendition.Kind.MP3_320, file=name)
    url = audio_url_sign(user=owner, obj=rendition)
    response = client_for().get(url, HTTP_RANGE="bytes=0-10")
    assert response.status_code == 200  # nginx answers the range
    assert (
        response["X-Accel-Redirect"]
        == f"/protected-media/audio/{asset.pk}/la%20canci%C3%B3n%20%231.mp3"
    )
    assert response["Content-Type"] == "audio/mpeg"
    assert response.content == b""
    assert client_for(UserFactory()).get(url).status_code == 403


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


def test_hls_playlists_and_segments_share_the_token(owner, client_for):
    rendition = _hls_rendition(AudioAssetFactory(owner=owner))
    url = audio_url_sign(user=owner, obj=rendition)
    assert url.endswith("/master.m3u8")
    base = url.rsplit("/", 1)[0]
    client = client_for()
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


def test_blocked_deliveries_are_not_handed_out(owner, client_for):
    asset = AudioAssetFactory(owner=owner, purpose=AudioAsset.Purpose.DELIVERY)
    rendition = RenditionFactory(
        asset=asset, kind=Rendition.Kind.DELIVERY_WAV, content_type="audio/wav"
    )
    url = audio_url_sign(user=owner, obj=rendition)
    assert client_for().get(url).status_code == 200
    AudioAsset.objects.filter(pk=asset.pk).update(
        status="failed", failure_reason="blocked", failure_code="qc_failed"
    )
    rendition.refresh_from_db()
    with pytest.raises(MediaUnavailable):
        audio_url_sign(user=owner, obj=rendition)
    assert client_for().get(url).status_code == 403


def test_lifetime_is_capped_and_must_be_positive(asset, owner, settings):
    settings.AUDIO_SIGNED_URL_MAX_TTL_SECONDS = 100
    url = audio_url_sign(user=owner, obj=asset, expires_in=10**6)
    grant = access.token_read(url.split("/")[3])
    assert grant.expires_at <= time.time() + 100
    with pytest.raises(ValueError):
        audio_url_sign(user=owner, obj=asset, expires_in=0)


def test_post_is_not_allowed(asset, owner, client_for):
    assert client_for().post(audio_url_sign(user=owner, obj=asset)).status_code == 405
