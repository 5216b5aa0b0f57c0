"""The media pipeline's data: assets, their renditions, analysis, quality reports and the record
of pipeline steps (which makes every step idempotent per content hash, step and version).

Writes go through ``audio.services``; these classes only hold data and database invariants.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

PITCH_CHOICES = [
    (name, name) for name in ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
]


def original_upload_to(instance, filename):
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"audio/{instance.pk}/original.{extension}"


def rendition_upload_to(instance, filename):
    return f"audio/{instance.asset_id}/{filename}"


class AudioAsset(models.Model):
    """One uploaded recording and the state of its processing."""

    class Purpose(models.TextChoices):
        CATALOG = "catalog", "Catalog song"
        PREVIEW = "preview", "Order preview"
        DELIVERY = "delivery", "Order delivery"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        """The container, as recognised from the file's content."""

        MP3 = "mp3", "MP3"
        WAV = "wav", "WAV"
        M4A = "m4a", "M4A (AAC/ALAC)"
        AAC = "aac", "AAC (ADTS)"
        FLAC = "flac", "FLAC"
        OGG = "ogg", "Ogg (Vorbis/Opus)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="audio_assets"
    )
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    original = models.FileField(upload_to=original_upload_to, max_length=255)
    original_name = models.CharField(
        max_length=255, blank=True, help_text="The uploader's file name, for display only."
    )
    format = models.CharField(max_length=8, choices=Format.choices)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField(help_text="Bytes of the original.")

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    failure_code = models.CharField(max_length=40, blank=True)
    failure_reason = models.TextField(blank=True)
    current_step = models.CharField(max_length=40, blank=True)
    progress = models.FloatField(default=0.0)

    duration = models.FloatField(null=True, blank=True, help_text="Seconds.")
    codec = models.CharField(max_length=32, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    bitrate = models.PositiveIntegerField(null=True, blank=True, help_text="Bits per second.")

    preview_max_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Previews only: cut the preview after this many seconds."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="audio_asset_owner_idx"),
            # Failed assets are few; listings leave them out by this index.
            models.Index(
                fields=["status"], name="audio_asset_failed_idx", condition=Q(status="failed")
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(purpose__in=["catalog", "preview", "delivery"]),
                name="audio_asset_purpose_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "processing", "ready", "failed"]),
                name="audio_asset_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(format__in=["mp3", "wav", "m4a", "aac", "flac", "ogg"]),
                name="audio_asset_format_valid",
            ),
            # A failed asset says why; any other state carries no failure.
            models.CheckConstraint(
                condition=(Q(status="failed") & ~Q(failure_reason=""))
                | (~Q(status="failed") & Q(failure_reason="") & Q(failure_code="")),
                name="audio_asset_failure_reason_iff_failed",
            ),
            models.CheckConstraint(
                condition=Q(progress__gte=0) & Q(progress__lte=1), name="audio_asset_progress_range"
            ),
            models.CheckConstraint(
                condition=Q(duration__isnull=True) | Q(duration__gte=0),
                name="audio_asset_duration_positive",
            ),
        ]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.original_name or self.pk}"


class Rendition(models.Model):
    """A file derived from an asset (or, for HLS, a folder of playlists and segments)."""

    class Kind(models.TextChoices):
        MP3_96 = "mp3_96", "MP3 96 kbps"
        MP3_160 = "mp3_160", "MP3 160 kbps"
        MP3_320 = "mp3_320", "MP3 320 kbps"
        HLS = "hls", "HLS AAC ladder"
        FLAC = "flac", "FLAC (lossless)"
        PREVIEW_MP3 = "preview_mp3", "Watermarked preview MP3"
        DELIVERY_MP3 = "delivery_mp3", "Delivery MP3 320 kbps"
        DELIVERY_WAV = "delivery_wav", "Delivery WAV 16-bit/44.1 kHz"
        DELIVERY_FLAC = "delivery_flac", "Delivery FLAC"

    asset = models.ForeignKey(AudioAsset, on_delete=models.CASCADE, related_name="renditions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    file = models.FileField(
        upload_to=rendition_upload_to, max_length=255, help_text="For HLS: the master playlist."
    )
    folder = models.CharField(
        max_length=255,
        blank=True,
        help_text="For HLS: the storage folder of playlists and segments.",
    )
    content_type = models.CharField(max_length=64)
    bitrate = models.PositiveIntegerField(
        null=True, blank=True, help_text="Bits per second (HLS: top rung)."
    )
    size = models.PositiveBigIntegerField(help_text="Bytes (HLS: every file together).")
    duration = models.FloatField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    loudness_lufs = models.FloatField(null=True, blank=True)
    true_peak_dbtp = models.FloatField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["asset", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["asset", "kind"], name="audio_rendition_one_per_kind"),
            models.CheckConstraint(
                condition=Q(kind="hls", folder__gt="") | (~Q(kind="hls") & Q(folder="")),
                name="audio_rendition_folder_iff_hls",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.asset_id}"

    @property
    def is_hls(self) -> bool:
        return self.kind == self.Kind.HLS


class AudioAnalysis(models.Model):
    """What the analyser heard (see ``audio.analysis`` for every formula)."""

    class Mode(models.TextChoices):
        MAJOR = "major", "Major"
        MINOR = "minor", "Minor"

    class Mood(models.TextChoices):
        HAPPY = "happy", "Happy"
        TENSE = "tense", "Tense"
        CALM = "calm", "Calm"
        SAD = "sad", "Sad"

    asset = models.OneToOneField(AudioAsset, on_delete=models.CASCADE, related_name="analysis")
    sha256 = models.CharField(max_length=64, db_index=True)
    analyser_version = models.PositiveIntegerField()
    tempo_bpm = models.FloatField(null=True, blank=True)
    tempo_alt_bpm = models.FloatField(null=True, blank=True)
    key = models.CharField(max_length=2, choices=PITCH_CHOICES, blank=True)
    mode = models.CharField(max_length=5, choices=Mode.choices, blank=True)
    key_confidence = models.FloatField(default=0.0)
    loudness_lufs = models.FloatField(null=True, blank=True)
    peak_dbfs = models.FloatField(null=True, blank=True)
    energy = models.FloatField(default=0.0)
    danceability = models.FloatField(default=0.0)
    acousticness = models.FloatField(default=0.0)
    valence = models.FloatField(default=0.0)
    mood = models.CharField(max_length=8, choices=Mood.choices)
    analysed_seconds = models.FloatField()
    window_start = models.FloatField(default=0.0)
    features = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "audio analyses"
        constraints = [
            models.CheckConstraint(
                condition=Q(key="", mode="") | (~Q(key="") & ~Q(mode="")),
                name="audio_analysis_key_with_mode",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{name}__gte": 0}) & Q(**{f"{name}__lte": 1}),
                    name=f"audio_analysis_{name}_range",
                )
                for name in ("key_confidence", "energy", "danceability", "acousticness", "valence")
            ],
            models.CheckConstraint(
                condition=Q(tempo_bpm__isnull=True) | Q(tempo_bpm__gt=0),
                name="audio_analysis_tempo_positive",
            ),
        ]

    def __str__(self):
        return f"Analysis of {self.asset_id}"

    def as_api_dict(self) -> dict:
        """The ``analysis`` object of a song in the HTTP API."""
        return {
            "tempo_bpm": self.tempo_bpm,
            "tempo_alt_bpm": self.tempo_alt_bpm,
            "key": self.key or None,
            "mode": self.mode or None,
            "key_confidence": self.key_confidence,
            "loudness_lufs": self.loudness_lufs,
            "energy": self.energy,
            "danceability": self.danceability,
            "acousticness": self.acousticness,
            "valence": self.valence,
            "mood": self.mood,
        }


class CheckStatus(models.TextChoices):
    PASSED = "passed", "Passed"
    WARNING = "warning", "Warning"
    FAILED = "failed", "Failed"


class QualityReport(models.Model):
    """The quality checks of one stage: the source as uploaded, or the delivery set made from it."""

    class Stage(models.TextChoices):
        SOURCE = "source", "Source"
        DELIVERY = "delivery", "Delivery set"

    asset = models.ForeignKey(AudioAsset, on_delete=models.CASCADE, related_name="quality_reports")
    stage = models.CharField(max_length=16, choices=Stage.choices)
    status = models.CharField(max_length=8, choices=CheckStatus.choices)
    blocking = models.BooleanField(
        default=False, help_text="A failed check here stops the asset (deliveries)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["asset", "stage"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "stage"], name="audio_quality_report_one_per_stage"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["passed", "warning", "failed"]),
                name="audio_quality_report_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.get_stage_display()} QC of {self.asset_id}: {self.status}"


class QualityCheck(models.Model):
    report = models.ForeignKey(QualityReport, on_delete=models.CASCADE, related_name="checks")
    name = models.CharField(max_length=40)
    status = models.CharField(max_length=8, choices=CheckStatus.choices)
    measured = models.FloatField(null=True, blank=True)
    threshold = models.FloatField(null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["report", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "name"], name="audio_quality_check_unique_name"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["passed", "warning", "failed"]),
                name="audio_quality_check_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.name}: {self.status}"


class PipelineStep(models.Model):
    """One step of the pipeline for one asset; ``done`` rows make re-runs skip finished work.

    Unique per (asset, step, version); the asset's content hash is recorded with it, so a step is
    idempotent per (sha256, step, version). Raising a step's version re-runs it everywhere.
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    asset = models.ForeignKey(AudioAsset, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=40)
    version = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    attempts = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asset", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "step", "version"], name="audio_pipeline_step_once"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["running", "done", "failed"]),
                name="audio_pipeline_step_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.step} v{self.version} of {self.asset_id}: {self.status}"
