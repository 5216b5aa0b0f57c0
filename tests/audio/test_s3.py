"""The S3 path (django-storages S3Storage, private bucket, s3v4 presigned URLs) against moto.

moto accepts presigned URLs whatever their signature, so signature rejection is not tested here
(the Django-signed path covers tampering); these tests cover storage layout, presigning (with the
person a URL was issued to inside what is signed) and the HLS playlist rewriting.
"""

from urllib.parse import parse_qs, urlparse

import boto3
import m3u8
import pytest
import requests
from django.core.files.storage import default_storage
from django.test import Client
from moto import mock_aws

from audio import storage
from audio.models import AudioAsset, Rendition
from audio.services import audio_asset_create, audio_asset_delete
from audio.signing import ISSUED_TO_PARAMETER, audio_url_sign, presigned_url
from tests.audio.conftest import upload_of
from tests.factories import UserFactory

BUCKET = "encore-media-test"


@pytest.fixture
def s3(settings, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": BUCKET,
                    "region_name": "us-east-1",
                    "default_acl": "private",
                    "querystring_auth": True,
                    "querystring_expire": 300,
                    "signature_version": "s3v4",
                    "file_overwrite": False,
                },
            },
        }
        yield client


def _keys(client):
    listing = client.list_objects_v2(Bucket=BUCKET)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_catalog_pipeline_on_s3_with_presigned_and_rewritten_urls(
    user, sources, s3, run_on_commit, settings
):
    settings.AUDIO_HLS_BITRATES_KBPS = (64, 128)
    assert storage.is_s3(default_storage)
    with run_on_commit():
        asset = audio_asset_create(
            owner=user, upload=upload_of(sources.long_mp3), purpose="catalog"
        )
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.READY, asset.failure_reason
    keys = _keys(s3)
    prefix = f"audio/{asset.pk}/"
    assert f"{prefix}original.mp3" in keys
    assert {
        f"{prefix}mp3_96.mp3",
        f"{prefix}mp3_160.mp3",
        f"{prefix}mp3_320.mp3",
        f"{prefix}hls/master.m3u8",
        f"{prefix}hls/64k/index.m3u8",
        f"{prefix}hls/128k/seg_00003.ts",
    } <= set(keys)

    # A single file: an s3v4 presigned URL that serves the bytes to whoever holds it, and names
    # the person it was issued to (S3 writes it into its server access log).
    mp3 = asset.renditions.get(kind=Rendition.Kind.MP3_160)
    url = audio_url_sign(user=user, obj=mp3, expires_in=120)
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["120"]
    assert query["response-content-type"] == ["audio/mpeg"]
    assert query[ISSUED_TO_PARAMETER] == [str(user.pk)]
    assert "X-Amz-Signature" in query
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200
    assert fetched.content == s3.get_object(Bucket=BUCKET, Key=mp3.file.name)["Body"].read()

    # HLS: the playlists come through the signed view, segments are presigned S3 URLs.
    hls = asset.renditions.get(kind=Rendition.Kind.HLS)
    master_url = audio_url_sign(user=user, obj=hls)
    assert master_url.startswith("/media/s/")
    client = Client()
    client.force_login(user)
    master = m3u8.loads(client.get(master_url).content.decode())
    assert [p.uri for p in master.playlists] == ["64k/index.m3u8", "128k/index.m3u8"]
    base = master_url.rsplit("/", 1)[0]
    variant = client.get(f"{base}/64k/index.m3u8")
    assert variant.status_code == 200 and variant["Cache-Control"] == "private, no-store"
    playlist = m3u8.loads(variant.content.decode())
    assert playlist.is_endlist and len(playlist.segments) == 4
    for segment in playlist.segments:
        parsed = urlparse(segment.uri)
        assert parsed.scheme == "https" and parsed.path.endswith(".ts")
        assert "X-Amz-Signature" in parse_qs(parsed.query)
    first = requests.get(playlist.segments[0].uri, timeout=10)
    assert first.status_code == 200 and first.content[:1] == b"G"  # MPEG-TS sync byte
    assert parse_qs(urlparse(first.url).query)[ISSUED_TO_PARAMETER] == [str(user.pk)]
    # The playlist URL is a bearer capability too: a player without the session plays it.
    assert Client().get(master_url).status_code == 200
    tampered = master_url.replace("/master.m3u8", "/../original.mp3")
    assert Client().get(tampered).status_code in (403, 404)

    with run_on_commit():
        audio_asset_delete(asset=asset)
    assert not [key for key in _keys(s3) if key.startswith(prefix)]


def test_downloads_on_s3_set_the_disposition(user, sources, s3):
    asset = audio_asset_create(
        owner=user, upload=upload_of(sources.music_mp3), purpose="catalog", start_processing=False
    )
    url = audio_url_sign(user=user, obj=asset, download=True)
    query = parse_qs(urlparse(url).query)
    assert query["response-content-disposition"] == ['attachment; filename="music.mp3"']
    assert requests.get(url, timeout=10).content == sources.music_mp3.read_bytes()


def test_the_person_is_inside_what_s3_signs(user, s3):
    """The issued-to parameter is part of the signed query: two people get different signatures
    for the same object in the same second, so changing it breaks the URL. Other presigned URLs
    of the storage are left as they were."""
    store = default_storage
    key = "audio/issued-to/probe.mp3"
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"ID3")
    other = UserFactory()
    for _attempt in range(5):  # the URLs must be signed within the same second
        first = _query(presigned_url(store, key, expires_in=60, issued_to=str(user.pk)))
        second = _query(presigned_url(store, key, expires_in=60, issued_to=str(other.pk)))
        plain = _query(store.url(key, expire=60))
        if first["X-Amz-Date"] == second["X-Amz-Date"] == plain["X-Amz-Date"]:
            break
    assert first[ISSUED_TO_PARAMETER] == [str(user.pk)]
    assert second[ISSUED_TO_PARAMETER] == [str(other.pk)]
    assert ISSUED_TO_PARAMETER not in plain
    signatures = {q["X-Amz-Signature"][0] for q in (first, second, plain)}
    assert len(signatures) == 3


def _query(url: str) -> dict:
    return parse_qs(urlparse(url).query)
