"""Idempotent demo data: the accounts every newcomer can log in with, the home page, the demo
musicians' profiles and packages, the demo customer's commissions in every state, and the
streaming catalog (about 30 songs by the demo musicians)."""

import contextlib
import logging
import time

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from cms.management.commands import _demo_catalog as demo_catalog
from cms.management.commands import _demo_orders as demo
from cms.management.commands import _demo_showcase as demo_showcase
from cms.pages import home_page_blocks_ensure, home_page_ensure
from cms.services import showcase_tree_ensure
from orders.models import OrderStatus

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

# What each state means for the person looking at the demo.
STATE_NOTES = {
    OrderStatus.PLACED: "deposit unpaid",
    OrderStatus.MATCHING: "offered, waiting for an answer",
    OrderStatus.IN_REVIEW: "a draft to listen to",
    OrderStatus.REVISION_REQUESTED: "the musician's turn",
    OrderStatus.DELIVERED: "balance due",
    OrderStatus.DISPUTED: "for staff to resolve",
}


# Every save logs a Wagtail reference-index task (and each page a Wagtail line) and every
# pipeline step a Celery line at INFO; in the seed's output they would bury the progress
# lines (shown again with -v 2).
CHATTY_LOGGERS = ("django_tasks", "celery.app.trace", "wagtail")


@contextlib.contextmanager
def loggers_quiet(names, *, enabled: bool):
    loggers = [logging.getLogger(name) for name in names] if enabled else []
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def demo_user(local: str) -> User | None:
    return User.objects.filter(email__iexact=f"{local}@{DEMO_DOMAIN}").first()


class Command(BaseCommand):
    help = "Create (or keep) the demo accounts, pages and orders. Safe to run any number of times."

    def add_arguments(self, parser):
        parser.add_argument(
            "--songs",
            type=int,
            default=None,
            help=f"Publish at most this many catalog songs now (all {demo_catalog.song_count()} "
            "by default).",
        )

    def handle(self, *args, **options):
        with loggers_quiet(CHATTY_LOGGERS, enabled=options["verbosity"] < 2):
            self._handle(songs=options["songs"])

    def _handle(self, *, songs=None):
        started = time.monotonic()
        with transaction.atomic():
            home = home_page_ensure()
            created = []
            for local, name, musician, staff in DEMO_PEOPLE:
                if demo_user(local) is not None:
                    continue
                # Demo passwords are deliberately simple, so they skip the strength rules
                # by being set directly rather than through user_create's validation.
                user = User.objects.create_user(
                    email=f"{local}@{DEMO_DOMAIN}",
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
        self._commissions()
        self._showcase()
        self._catalog(limit=songs)
        self.stdout.write(f"seed_demo took {time.monotonic() - started:.1f} s.")

    def _commissions(self):
        musicians = {
            local: user
            for local in demo.PROFILES
            if (user := demo_user(local)) is not None and user.is_musician
        }
        customer = demo_user("customer")
        if len(musicians) != len(demo.PROFILES) or customer is None:
            self.stdout.write("Demo commissions skipped: a demo account is missing or changed.")
            return
        self.stdout.write("Demo musicians' profiles and packages:")
        with transaction.atomic():
            made = demo.musicians_seed(musicians, log=self.stdout.write)
        if not made:
            self.stdout.write("  All already there; nothing changed.")

        reason = demo.why_orders_cannot_be_seeded()
        if reason:
            self.stdout.write(f"Demo orders skipped: {reason}.")
            return
        self.stdout.write(f"Demo orders of {customer.email}:")
        outcomes = demo.orders_seed(customer=customer, musicians=musicians, log=self.stdout.write)
        if not any(outcome.actions for outcome in outcomes):
            self.stdout.write("  All already in their state; nothing changed.")
        for outcome in outcomes:
            order = outcome.order
            if order is None:
                title, status, who = outcome.spec.recipient, "-", ""
            else:
                title, status = order.title, order.status
                who = order.musician.display_name if order.musician_id else "no musician yet"
                note = STATE_NOTES.get(status)
                who = f"{who} ({note})" if note else who
            line = f"  {status:<19} {title:<34} {who}"
            if outcome.problem:
                self.stdout.write(self.style.WARNING(f"{line}  -- not finished: {outcome.problem}"))
            else:
                self.stdout.write(line)

    def _showcase(self):
        """Discover, the occasion pages, the home page's blocks and a page per musician."""
        self.stdout.write("Showcase pages:")
        showcase_tree_ensure()
        home_page_blocks_ensure()
        musicians = {
            local: user
            for local in demo_showcase.PAGES
            if (user := demo_user(local)) is not None and user.is_musician
        }
        if not demo_showcase.showcase_seed(musicians, log=self.stdout.write):
            self.stdout.write("  All already there; nothing changed.")

    def _catalog(self, *, limit):
        musicians = {
            local: user
            for local in demo_catalog.CATALOG
            if (user := demo_user(local)) is not None and user.is_musician
        }
        self.stdout.write("Demo catalog (the worker makes each song's renditions):")
        published = demo_catalog.catalog_seed(musicians, limit=limit, log=self.stdout.write)
        if not published:
            self.stdout.write("  All already there; nothing changed.")
