"""Make what the showcase needs and is missing: Discover (with the musicians' moderation
workflow), the occasion pages, and a page for every listed musician. Safe to run any number of
times; run it after `migrate` on a deployment that has musicians from before the showcase."""

from django.core.management.base import BaseCommand

from cms.models import ArtistPage
from cms.services import showcase_tree_ensure


class Command(BaseCommand):
    help = "Create the showcase pages that are missing (Discover, occasions, musicians' pages)."

    def handle(self, *args, **options):
        before = ArtistPage.objects.count()
        showcase_tree_ensure()
        made = ArtistPage.objects.count() - before
        self.stdout.write(f"Showcase ready: {made} musician page(s) made.")
