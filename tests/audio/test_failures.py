import pytest

from audio import analysis, storage, tasks, transcode
from audio.errors import ProcessingFailed
from audio.models import AudioAsset, PipelineStep
from audio.pipeline.analyse import audio_asset_analyse
from audio.services import audio_asset_create, audio_asset_delete, audio_asset_process
from tests.audio.conftest import media_files, upload_of


@pytest.fixture
def retries(monkeypatch):
    """Record every retry the tasks decide on (eager runs retry inline, workers via the broker)."""
    calls = []
    real = tasks.retry_countdown

    def spy(attempt):
        calls.append(attempt)
        return real(attempt)

    monkeypatch.setattr(tasks, "retry_countdown", spy)
    return calls


def test_a_truncated_mp3_fails_cleanly_without_retry(
    user, sources, tmp_path, run_on_commit, retries, progress_events
):
    data = sources.long_mp3.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) * 2 // 5])  # the upload was cut off at 40 %
    with run_on_commit():
        asset = audio_asset_create(owner=user, upload=upload_of(cut), purpose="catalog")
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.FAILED
    assert asset.failure_code == "truncated"
    assert asset.failure_reason.startswith("The file ends early: its header announces 20.0 s")
    assert "cut off" in asset.failure_reason
    assert retries == []
    probe_step = PipelineStep.objects.get(asset=asset, step="probe")
    assert probe_step.status == "failed" and probe_step.attempts == 1
    assert not PipelineStep.objects.filter(asset=asset).exclude(step="probe").exists()
    assert not asset.renditions.exists()
    failed = [e for _, e in progress_events if e["status"] == "failed"]
    assert failed and failed[-1]["reason"] == asset.failure_reason and failed[-1]["step"] == "probe"


def test_transient_storage_errors_are_retried_then_succeed(
    user, sources, run_on_commit, retries, monkeypatch, settings
):
    settings.AUDIO_HLS_BITRATES_KBPS = (64,)
    real = storage.put_file
    failures = {"left": 2}

    def flaky(*args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise OSError("storage is briefly unavailable")
        return real(*args, **kwargs)

    # The original is stored before the pipeline: patch only once the chain runs.
    asset = audio_asset_create(
        owner=user, upload=upload_of(sources.music_mp3), purpose="catalog", start_processing=False
    )
    monkeypatch.setattr(storage, "put_file", flaky)
    with run_on_commit():
        audio_asset_process(asset=asset)
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.READY, asset.failure_reason
    assert retries == [0, 1]
    assert PipelineStep.objects.get(asset=asset, step="render.mp3").attempts == 3


def test_persistent_transient_errors_fail_after_bounded_retries(
    user, sources, run_on_commit, retries, monkeypatch, settings
):
    settings.AUDIO_HLS_BITRATES_KBPS = (64,)
    asset = audio_asset_create(
        owner=user, upload=upload_of(sources.music_mp3), purpose="catalog", start_processing=False
    )

    def down(*args, **kwargs):
        raise OSError("storage is down")

    monkeypatch.setattr(storage, "put_file", down)
    with run_on_commit():
        audio_asset_process(asset=asset)
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.FAILED
    assert asset.failure_code == "unavailable"
    assert "try again later" in asset.failure_reason
    assert len(retries) == tasks.render.max_retries == 3


def test_a_corrupt_input_never_retries_even_in_render(
    user, sources, run_on_commit, retries, monkeypatch
):
    def broken(*args, **kwargs):
        raise ProcessingFailed("We could not make the MP3 versions.", detail="Invalid data found")

    monkeypatch.setattr(transcode, "mp3_ladder", broken)
    with run_on_commit():
        asset = audio_asset_create(
            owner=user, upload=upload_of(sources.music_mp3), purpose="catalog"
        )
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.FAILED
    assert asset.failure_reason == "We could not make the MP3 versions."
    assert retries == []
    assert PipelineStep.objects.get(asset=asset, step="render.mp3").error == "Invalid data found"


def test_finished_steps_are_skipped_and_forced_steps_rerun(
    user, sources, run_on_commit, monkeypatch, settings
):
    settings.AUDIO_HLS_BITRATES_KBPS = (64,)
    calls = []
    for name in ("mp3_ladder", "hls_ladder"):
        real = getattr(transcode, name)
        monkeypatch.setattr(
            transcode,
            name,
            lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k),
        )
    real_analyse = analysis.analyse_file
    monkeypatch.setattr(
        analysis,
        "analyse_file",
        lambda *a, **k: calls.append("analyse") or real_analyse(*a, **k),
    )

    with run_on_commit():
        asset = audio_asset_create(
            owner=user, upload=upload_of(sources.music_mp3), purpose="catalog"
        )
    assert calls == ["analyse", "mp3_ladder", "hls_ladder"]
    first_files = sorted(asset.renditions.values_list("file", flat=True))

    calls.clear()
    with run_on_commit():
        audio_asset_process(asset=asset)  # a duplicate run: nothing is redone
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.READY and calls == []

    with run_on_commit():
        audio_asset_process(asset=asset, force_steps=["render.hls"])
    asset.refresh_from_db()
    assert asset.status == AudioAsset.Status.READY and calls == ["hls_ladder"]
    assert sorted(asset.renditions.values_list("file", flat=True)) == first_files
    assert PipelineStep.objects.filter(asset=asset, step="render.hls").count() == 1


def test_same_content_reuses_the_analysis(user, sources, run_on_commit, monkeypatch, settings):
    settings.AUDIO_HLS_BITRATES_KBPS = (64,)
    with run_on_commit():
        first = audio_asset_create(
            owner=user, upload=upload_of(sources.music_mp3), purpose="catalog"
        )
    monkeypatch.setattr(analysis, "analyse_file", lambda *a, **k: pytest.fail("analysed twice"))
    with run_on_commit():
        second = audio_asset_create(
            owner=user, upload=upload_of(sources.music_mp3), purpose="preview"
        )
    second.refresh_from_db()
    assert second.status == AudioAsset.Status.READY
    assert second.analysis.tempo_bpm == first.analysis.tempo_bpm
    assert second.steps.get(step="analyse").result["reused_from"] == str(first.pk)


def test_an_asset_deleted_mid_way_stops_the_chain(
    user, sources, run_on_commit, monkeypatch, settings
):
    asset = audio_asset_create(
        owner=user, upload=upload_of(sources.music_mp3), purpose="catalog", start_processing=False
    )

    def delete_then_analyse(*, asset):
        audio_asset_delete(asset=asset)
        return audio_asset_analyse(asset=asset)

    monkeypatch.setattr(tasks, "audio_asset_analyse", delete_then_analyse)
    with run_on_commit():
        audio_asset_process(asset=asset)
    assert not AudioAsset.objects.filter(pk=asset.pk).exists()
    assert media_files(settings) == []


def test_tasks_are_configured_for_safe_delivery():
    for task, name in (
        (tasks.probe, "audio.probe"),
        (tasks.quality_check, "audio.qc"),
        (tasks.analyse, "audio.analyse"),
        (tasks.render, "audio.render"),
        (tasks.finalize, "audio.finalize"),
    ):
        assert task.name == name
        assert task.acks_late is True
        assert task.max_retries == 3
        assert 0 < task.soft_time_limit < task.time_limit
    assert 0 < tasks.retry_countdown(0) <= 15 and tasks.retry_countdown(10) <= 600
