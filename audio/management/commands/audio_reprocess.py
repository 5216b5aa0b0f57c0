"""Reprocess audio assets in bulk, with a progress bar.

    manage.py audio_reprocess --status failed
    manage.py audio_reprocess --purpose catalog --force render      # remake catalog renditions
    manage.py audio_reprocess --asset <uuid> --inline               # here, without a worker

Finished steps are skipped unless forced (``--force`` names steps: probe, qc, analyse, render,
or sub-steps such as render.hls; ``--force all`` reruns everything). Without ``--inline`` the
chains are queued for the workers.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from audio.models import AudioAsset
from audio.pipeline.steps import STEP_VERSIONS
from audio.services import audio_asset_process

STEP_NAMES = sorted({name.split(".")[0] for name in STEP_VERSIONS} | set(STEP_VERSIONS))


class ProgressBar:
    """A plain-text bar: redrawn in place on a terminal, one line per tenth otherwise."""

    def __init__(self, stream, total: int, *, width: int = 30, interactive: bool = False):
        self.stream, self.total, self.width, self.interactive = stream, total, width, interactive
        self.started = time.monotonic()
        self._last_tenth = -1

    def update(self, done: int, note: str = "") -> None:
        fraction = done / self.total if self.total else 1.0
        tenth = int(fraction * 10)
        if not self.interactive and tenth == self._last_tenth and done != self.total:
            return
        self._last_tenth = tenth
        filled = int(round(fraction * self.width))
        elapsed = time.monotonic() - self.started
        eta = elapsed / done * (self.total - done) if done else 0.0
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total} "
            f"{fraction:4.0%} {elapsed:5.1f}s eta {eta:5.1f}s {note}"
        ).rstrip()
        if self.interactive:
            self.stream.write("\r" + line.ljust(100), ending="")
            if done == self.total:
                self.stream.write("")
        else:
            self.stream.write(line)
        self.stream.flush()


class Command(BaseCommand):
    help = "Run the media pipeline again for the selected assets (finished steps are skipped)."

    def add_arguments(self, parser):
        parser.add_argument("--asset", action="append", default=[], help="Asset id (repeatable).")
        parser.add_argument("--purpose", choices=AudioAsset.Purpose.values)
        parser.add_argument("--status", choices=AudioAsset.Status.values)
        parser.add_argument("--owner", help="Owner's email address.")
        parser.add_argument(
            "--force",
            action="append",
            default=[],
            metavar="STEP",
            help=f"Redo this step even if done (repeatable): {', '.join(STEP_NAMES)} or all.",
        )
        parser.add_argument(
            "--inline", action="store_true", help="Process here instead of queueing."
        )
        parser.add_argument("--limit", type=int, help="At most this many assets.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Only list what would be reprocessed."
        )

    def handle(self, *args, **options):
        force = list(options["force"])
        if "all" in force:
            force = sorted({name.split(".")[0] for name in STEP_VERSIONS})
        unknown = [name for name in force if name not in STEP_NAMES]
        if unknown:
            raise CommandError(
                f"Unknown step(s): {', '.join(unknown)}. Choose from {', '.join(STEP_NAMES)}."
            )
        assets = AudioAsset.objects.order_by("created_at")
        if options["asset"]:
            assets = assets.filter(pk__in=options["asset"])
        if options["purpose"]:
            assets = assets.filter(purpose=options["purpose"])
        if options["status"]:
            assets = assets.filter(status=options["status"])
        if options["owner"]:
            assets = assets.filter(owner__email__iexact=options["owner"])
        if not any(options[key] for key in ("asset", "purpose", "status", "owner")):
            self.stdout.write("No filter given: every asset is selected.")
        ids = list(
            assets.values_list("pk", flat=True)[: options["limit"]]
            if options["limit"]
            else assets.values_list("pk", flat=True)
        )
        if not ids:
            self.stdout.write("Nothing to reprocess.")
            return
        if options["dry_run"]:
            for asset_id in ids:
                self.stdout.write(str(asset_id))
            self.stdout.write(f"{len(ids)} asset(s) would be reprocessed.")
            return

        bar = ProgressBar(self.stdout, len(ids), interactive=self.stdout.isatty())
        bar.update(0)
        outcomes = {}
        for done, asset_id in enumerate(ids, start=1):
            asset = AudioAsset.objects.get(pk=asset_id)
            audio_asset_process(asset=asset, force_steps=force, inline=options["inline"])
            if options["inline"]:
                status = (
                    AudioAsset.objects.filter(pk=asset_id).values_list("status", flat=True).first()
                )
            else:
                status = "queued"
            outcomes[status] = outcomes.get(status, 0) + 1
            bar.update(done, note=str(asset_id)[:8])
        summary = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items()))
        self.stdout.write(self.style.SUCCESS(f"Reprocessed {len(ids)} asset(s): {summary}."))
