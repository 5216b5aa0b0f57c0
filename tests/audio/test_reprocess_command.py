from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audio.models import AudioAsset, PipelineStep
from audio.services import audio_asset_create
from tests.audio.conftest import upload_of


def test_reprocess_runs_selected_assets_with_a_progress_bar(user, sources, run_on_commit, settings):
    settings.AUDIO_HLS_BITRATES_KBPS = (64,)
    assets = [
        audio_asset_create(
            owner=user,
            upload=upload_of(sources.music_mp3),
            purpose="preview",
            start_processing=False,
        )
        for _ in range(3)
    ]
    AudioAsset.objects.filter(pk=assets[2].pk).update(status="ready")  # not selected below
    out = StringIO()
    with run_on_commit():
        call_command("audio_reprocess", "--status", "pending", "--inline", stdout=out)
    text = out.getvalue()
    assert "[" + "#" * 30 + "] 2/2 100%" in text
    assert "[" + "." * 30 + "] 0/2" in text
    assert "Reprocessed 2 asset(s): 2 ready." in text
    statuses = dict(AudioAsset.objects.values_list("pk", "status"))
    assert statuses[assets[0].pk] == statuses[assets[1].pk] == "ready"
    assert (
        statuses[assets[2].pk] == "ready"
        and not PipelineStep.objects.filter(asset=assets[2]).exists()
    )


def test_force_reruns_a_step_and_dry_run_only_lists(user, sources, run_on_commit):
    with run_on_commit():
        asset = audio_asset_create(
            owner=user, upload=upload_of(sources.music_mp3), purpose="preview"
        )
    before = PipelineStep.objects.get(asset=asset, step="render.preview").started_at
    out = StringIO()
    call_command("audio_reprocess", "--asset", str(asset.pk), "--dry-run", stdout=out)
    assert f"{asset.pk}\n1 asset(s) would be reprocessed." in out.getvalue()
    with run_on_commit():
        call_command(
            "audio_reprocess",
            "--asset",
            str(asset.pk),
            "--force",
            "render",
            "--inline",
            stdout=StringIO(),
        )
    rerun = PipelineStep.objects.get(asset=asset, step="render.preview")
    assert rerun.started_at > before
    assert (
        PipelineStep.objects.get(asset=asset, step="probe").started_at < before
    )  # not forced: kept


def test_unknown_steps_are_refused(db):
    with pytest.raises(CommandError):
        call_command("audio_reprocess", "--force", "dance", stdout=StringIO())


def test_without_inline_the_chains_are_queued(user, sources, run_on_commit, monkeypatch):
    started = []
    monkeypatch.setattr(
        "audio.services.pipeline_start",
        lambda asset_id, inline=False: started.append((asset_id, inline)),
    )
    asset = audio_asset_create(
        owner=user, upload=upload_of(sources.music_mp3), purpose="catalog", start_processing=False
    )
    out = StringIO()
    with run_on_commit():
        call_command("audio_reprocess", "--owner", user.email, stdout=out)
    assert started == [(str(asset.pk), False)]
    assert "1 queued" in out.getvalue()
