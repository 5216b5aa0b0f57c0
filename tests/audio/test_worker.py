"""The chain through a real Celery worker and Redis (services run: DATABASE_URL + REDIS_URL)."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_prerun
from django.conf import settings

import config.celery
from audio.models import AudioAsset
from audio.services import audio_asset_create
from tests.audio.conftest import upload_of
from tests.factories import UserFactory


@pytest.mark.services
def test_the_chain_runs_through_a_real_worker_and_redis(transactional_db, sources):
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    app = config.celery.app
    seen = []

    def record(sender=None, task=None, **kwargs):
        seen.append((task.name, task.request.is_eager, task.request.hostname))

    task_prerun.connect(record, weak=False)
    user = UserFactory()
    try:
        with start_worker(
            app, perform_ping_check=False, pool="solo", concurrency=1, shutdown_timeout=30
        ):
            app.conf.task_always_eager = False
            asset = audio_asset_create(
                owner=user, upload=upload_of(sources.music_mp3), purpose="preview"
            )
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                asset.refresh_from_db()
                if asset.status in (AudioAsset.Status.READY, AudioAsset.Status.FAILED):
                    break
                time.sleep(0.2)
    finally:
        task_prerun.disconnect(record)
    assert asset.status == AudioAsset.Status.READY, asset.failure_reason
    assert [name for name, _, _ in seen] == [
        "audio.probe",
        "audio.qc",
        "audio.analyse",
        "audio.render",
        "audio.finalize",
    ]
    assert all(not eager and hostname for _, eager, hostname in seen)
    assert asset.renditions.filter(kind="preview_mp3").exists()
