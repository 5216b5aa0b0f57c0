"""Webhook throughput on PostgreSQL: fresh events versus duplicates, through the endpoint.

    .venv/bin/python bench/webhooks.py [events]     (default 500)

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/encore_bench): a scratch
database, created and migrated when missing; the script refuses a database whose name does not
say "bench". Each event is a signed sandbox ``payment.captured`` posted to
``/api/billing/webhooks/sandbox`` with Django's test client (the whole HTTP stack, without a
socket): a fresh one is verified, stored and processed (payment captured, ledger transaction
posted, escrow credited); a duplicate is verified and recognised as already stored. Prints
both rates and their ratio.
"""

import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/encore_bench"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ["BILLING_PROVIDER"] = "sandbox"  # the sandbox endpoint is on whatever keys are set
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def ensure_database(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        sys.exit(f"bench/webhooks.py measures PostgreSQL; DATABASE_URL is {parts.scheme}://")
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to write benchmark rows into {name!r}: use a database named *bench*")
    import psycopg

    admin = parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    return name


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    name = ensure_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from billing.models import Payment, PaymentStatus, WebhookEvent
    from billing.providers import sandbox

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"database {name} ({connection.vendor}) migrated in {time.perf_counter() - started:.1f}s")

    run = uuid.uuid4().hex[:8]
    client = Client()

    def prepare(count: int, label: str) -> list[str]:
        payments = Payment.objects.bulk_create(
            [
                Payment(
                    provider="sandbox",
                    purpose="order_deposit",
                    reference=f"bench-{run}-{label}-{i}",
                    amount=10_000 + i,
                    currency="INR",
                    provider_order_id=f"cs_bench_{run}_{label}_{i}",
                )
                for i in range(count)
            ]
        )
        return [
            sandbox.event_body(
                "payment.captured",
                {
                    "id": f"pay_bench_{run}_{label}_{i}",
                    "object": "payment",
                    "checkout": payment.provider_order_id,
                    "amount": payment.amount,
                    "currency": "INR",
                    "status": "captured",
                },
                event_id=f"evt_bench_{run}_{label}_{i}",
            )
            for i, payment in enumerate(payments)
        ]

    def deliver(bodies: list[str], *, duplicate: bool) -> list[float]:
        timings = []
        for body in bodies:
            raw = body.encode()
            header = sandbox.sign(raw)  # signed at delivery, as the provider does
            began = time.perf_counter()
            response = client.post(
                "/api/billing/webhooks/sandbox",
                data=raw,
                content_type="application/json",
                HTTP_ENCORE_SANDBOX_SIGNATURE=header,
            )
            timings.append(time.perf_counter() - began)
            if response.status_code != 200 or response.json()["duplicate"] is not duplicate:
                sys.exit(f"unexpected answer {response.status_code}: {response.content[:200]!r}")
        return timings

    deliver(prepare(30, "warm"), duplicate=False)  # imports, URL resolver, connection
    bodies = prepare(events, "run")

    fresh = deliver(bodies, duplicate=False)
    duplicate = deliver(bodies, duplicate=True)

    processed = WebhookEvent.objects.filter(event_id__startswith=f"evt_bench_{run}_run_").count()
    captured = Payment.objects.filter(
        reference__startswith=f"bench-{run}-run-", status=PaymentStatus.CAPTURED
    ).count()
    assert processed == events and captured == events, (processed, captured)

    def rate(timings):
        return len(timings) / sum(timings)

    def p50_ms(timings):
        return statistics.median(timings) * 1000

    print(f"events per run: {events} (sandbox payment.captured, signed, via the endpoint)")
    print(f"fresh:     {rate(fresh):8.1f} events/s   p50 {p50_ms(fresh):6.2f} ms")
    print(f"duplicate: {rate(duplicate):8.1f} events/s   p50 {p50_ms(duplicate):6.2f} ms")
    print(f"ratio duplicate/fresh: {rate(duplicate) / rate(fresh):.2f}x")


if __name__ == "__main__":
    main()
