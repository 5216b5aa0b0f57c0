"""How the studio words the media pipeline's steps and checks. The step names are the ones
``audio.progress`` events carry; js/studio.js reads the same words from ``studio_step_labels``
so a step reads alike before and after a live update."""

from django import template
from django.utils.html import json_script

register = template.Library()

STEP_LABELS = {
    "queued": "Waiting its turn",
    "probe": "Reading the file",
    "qc": "Checking the quality",
    "analyse": "Listening for tempo, key and mood",
    "render": "Making the listening copies",
    "render.mp3": "Making the MP3s",
    "render.hls": "Making the streaming copies",
    "render.flac": "Making the lossless copy",
    "render.preview": "Making the watermarked preview",
    "render.delivery": "Making MP3, WAV and FLAC",
    "qc.delivery": "Checking the finals",
    "finalize": "Ready",
    "pipeline": "Processing",
}
CHECK_LABELS = {
    "sample_rate": "Sample rate",
    "clipping": "Clipping",
    "leading_silence": "Silence at the start",
    "trailing_silence": "Silence at the end",
    "loudness": "Loudness",
    "normalised_loudness": "Loudness after normalising",
    "true_peak": "True peak",
    "duration_match": "Same length as the master",
    "lossless_match": "Lossless copies match",
}


@register.filter
def step_label(step: str) -> str:
    return STEP_LABELS.get(step, STEP_LABELS.get(step.split(".")[0], "Processing"))


@register.filter
def check_label(name: str) -> str:
    return CHECK_LABELS.get(name, name.replace("_", " ").replace(".", " ").capitalize())


@register.filter
def asset_state(asset) -> str:
    """Where an asset's processing stands, as the progress line says it."""
    if asset.status == "ready":
        return "Ready"
    if asset.status == "failed":
        return f"Failed: {asset.failure_reason}"
    if not asset.current_step:
        return STEP_LABELS["queued"]
    return f"{step_label(asset.current_step)} ({round(asset.progress * 100)}%)"


@register.filter
def seconds(value) -> str:
    """142.3 -> 2:22"""
    if value is None:
        return ""
    minutes, rest = divmod(round(value), 60)
    return f"{minutes}:{rest:02d}"


@register.simple_tag
def studio_step_labels():
    return json_script(STEP_LABELS, "studio-step-labels")
