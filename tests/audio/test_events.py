import asyncio

from asgiref.sync import async_to_sync
from celery.contrib.testing.worker import TestWorkController
from celery.signals import worker_init, worker_process_init
from channels.layers import get_channel_layer
from django.db import connection

from accounts.realtime import user_group_name
from audio import analysis, registry
from audio.models import AudioAsset
from audio.services import audio_asset_create
from tests.audio.conftest import upload_of


def test_progress_events_reach_the_owners_group(user, sources, run_on_commit):
    layer = get_channel_layer()

    async def join():
        channel = await layer.new_channel()
        await layer.group_add(user_group_name(user.pk), channel)
        return channel

    async def drain(channel):
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), 0.2))
            except TimeoutError:
                return messages

    channel = async_to_sync(join)()
    with run_on_commit():
        asset = audio_asset_create(
            owner=user, upload=upload_of(sources.music_mp3), purpose="preview"
        )
    messages = async_to_sync(drain)(channel)
    events = [m["event"] for m in messages if m["type"] == "user.event"]
    assert events, "no progress was pushed"
    assert all(e["type"] == "audio.progress" and e["asset_id"] == str(asset.pk) for e in events)
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and progress[-1] == 1.0
    assert events[-1]["status"] == "ready"
    steps = [e["step"] for e in events if e["status"] == "done"]
    assert steps == ["probe", "qc", "analyse", "render.preview"]


def test_the_purposes_handler_hears_the_outcome_inside_the_transaction(
    user, sources, tmp_path, run_on_commit
):
    heard = []

    def handler(*, asset, outcome):
        heard.append((asset.pk, outcome, connection.in_atomic_block, asset.status))

    registry.asset_outcome_handler_register(purpose="preview", handler=handler)
    try:
        with run_on_commit():
            ok = audio_asset_create(
                owner=user, upload=upload_of(sources.music_mp3), purpose="preview"
            )
            audio_asset_create(owner=user, upload=upload_of(sources.music_mp3), purpose="catalog")
        cut = tmp_path / "cut.mp3"
        cut.write_bytes(sources.long_mp3.read_bytes()[:150_000])
        with run_on_commit():
            bad = audio_asset_create(owner=user, upload=upload_of(cut), purpose="preview")
    finally:
        registry.asset_outcome_handler_unregister(purpose="preview", handler=handler)
    assert heard == [
        (ok.pk, "ready", True, AudioAsset.Status.READY),
        (bad.pk, "failed", True, AudioAsset.Status.FAILED),
    ]


def test_worker_processes_warm_librosa_on_start(monkeypatch, settings):
    calls = []
    monkeypatch.setattr(analysis, "warm_up", lambda: calls.append("warm") or 0.0)
    worker_process_init.send(sender=None)
    assert calls == ["warm"]

    class PreforkWorker:
        pool_cls = "celery.concurrency.prefork:TaskPool"

    class SoloWorker:
        pool_cls = "solo"

    worker_init.send(sender=PreforkWorker())  # children warm themselves
    assert calls == ["warm"]
    worker_init.send(sender=SoloWorker())
    assert calls == ["warm", "warm"]
    worker_init.send(sender=TestWorkController.__new__(TestWorkController))  # test workers skip
    assert calls == ["warm", "warm"]
    settings.AUDIO_WARM_ON_WORKER_START = False
    worker_process_init.send(sender=None)
    assert calls == ["warm", "warm"]
