"""Idempotent demo data: the accounts every newcomer can log in with, and the home page."""

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from cms.pages import home_page_ensure

DEMO_PASSWORD = "encore-demo"
DEMO_DOMAIN = "demo.encore.test"

DEMO_PEOPLE = [
    # (local part, display name, musician, staff)
    ("admin", "Ada Admin", False, True),
    ("listener", "Leo Listener", False, False),
    ("customer", "Cora Customer", False, False),
    ("musician", "Mira Musician", True, False),
    ("musician2", "Theo Tunesmith", True, False),
]


class Command(BaseCommand):
    help = "Create (or keep) the demo accounts and pages. Safe to run any number of times."

    def handle(self, *args, **options):
        with transaction.atomic():
            home = home_page_ensure()
            created = []
            for local, name, musician, staff in DEMO_PEOPLE:
                email = f"{local}@{DEMO_DOMAIN}"
                if User.objects.filter(email__iexact=email).exists():
                    continue
                # Demo passwords are deliberately simple, so they skip the strength rules
                # by being set directly rather than through user_create's validation.
                user = User.objects.create_user(
                    email=email,
                    password=DEMO_PASSWORD,
                    display_name=name,
                    is_musician=musician,
                    is_staff=staff,
                    is_superuser=staff,
                )
                created.append(user)
        self.stdout.write(self.style.SUCCESS(f"Home page: {home.title} ({home.url_path})"))
        self.stdout.write(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for local, name, musician, staff in DEMO_PEOPLE:
            role = "admin" if staff else ("musician" if musician else local.rstrip("0123456789"))
            email = f"{local}@{DEMO_DOMAIN}"
            self.stdout.write(f"  {email:<30} {role:<9} {name}")
        if created:
            self.stdout.write(self.style.SUCCESS(f"Created {len(created)} account(s)."))
        else:
            self.stdout.write("All demo accounts already existed; nothing changed.")
