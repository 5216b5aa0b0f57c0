"""The sandbox takes money only where it is switched on, and a deployment cannot start with the
published secret key.

- docker-compose's environment (DEBUG off, a real host) refuses to start without SECRET_KEY or
  with a published development key, and names the fix;
- with nothing configured, paying answers 503 ``payments_not_configured`` (API) or says so on
  the page, and records nothing;
- ``make serve`` (and so ``make run``) switches the sandbox on for the web server and the worker;
  ``BILLING_SANDBOX=true`` or ``BILLING_PROVIDER=sandbox`` in the settings takes payments there.
"""

import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.test import Client

from billing import providers
from billing.errors import PaymentsNotConfigured
from billing.models import CheckoutSession, Payment, SandboxCheckout
from billing.providers import sandbox
from orders import services as order_services
from orders.models import Order, OrderStatus
from tests.billing.conftest import post_sandbox
from tests.billing.factories import no_provider_keys
from tests.orders.factories import OrderFactory, PackageFactory, brief, service_brief

ROOT = Path(__file__).resolve().parents[2]

SHOW_PROVIDERS = (
    "import django; django.setup(); from billing import providers; "
    "print(providers.sandbox_enabled(), providers.payments_configured(), "
    "providers.subscriptions_configured())"
)


def compose_environment(**host) -> dict[str, str]:
    """The environment docker-compose gives web, worker and beat, for a host environment."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    pattern = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")

    def expand(value) -> str:
        return pattern.sub(lambda m: host.get(m.group(1)) or m.group(2) or "", str(value))

    return {name: expand(value) for name, value in compose["x-app"]["environment"].items()}


def start_django(environment: dict[str, str], tmp_path, code: str = SHOW_PROVIDERS):
    """Start Django as a service process does, in that environment only."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "ENCORE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def no_provider(settings):
    """A deployment with no provider keys and the sandbox off (its default)."""
    no_provider_keys(settings)
    settings.BILLING_SANDBOX = False


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- starting up ----------------------------------------------------------------------------


@pytest.mark.parametrize("secret_key", ["", "dev-only-insecure-secret-key-change-me"])
def test_the_compose_services_refuse_to_start_without_a_secret_key(tmp_path, secret_key):
    started = start_django(compose_environment(SECRET_KEY=secret_key), tmp_path)
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert "Set SECRET_KEY to a long random secret" in started.stderr
    assert "secrets.token_urlsafe" in started.stderr
    assert "web" in started.stderr  # the host that makes it a deployment


def test_the_compose_services_start_with_a_secret_key_and_take_no_sandbox_payments(tmp_path):
    started = start_django(compose_environment(SECRET_KEY=secrets.token_urlsafe(50)), tmp_path)
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["False", "False", "False"]


def test_the_compose_services_take_sandbox_payments_only_when_told_to(tmp_path):
    environment = compose_environment(SECRET_KEY=secrets.token_urlsafe(50), BILLING_SANDBOX="true")
    started = start_django(environment, tmp_path)
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["True", "True", "True"]


@pytest.mark.parametrize(
    "environment",
    [
        {},  # a fresh clone: DEBUG off, this machine only
        {"DEBUG": "true", "ALLOWED_HOSTS": "dev.example.test"},
    ],
)
def test_the_embedded_key_still_runs_on_this_machine_or_with_debug(tmp_path, environment):
    started = start_django(environment, tmp_path)
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["False", "False", "False"]


@pytest.mark.parametrize(("host_value", "expected"), [(None, "true"), ("false", "false")])
def test_make_serve_runs_the_web_server_and_the_worker_with_the_sandbox_on(
    tmp_path, host_value, expected
):
    """`make serve` (which `make run` ends with) starts daphne and the Celery worker with
    BILLING_SANDBOX=true, unless the environment says otherwise. Stand-in programs record
    what they were started with."""
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    record = tmp_path / "started"
    for program, pause in (("celery", 0), ("daphne", 1)):
        script = bin_dir / program
        script.write_text(
            f'#!/bin/sh\necho "{program} BILLING_SANDBOX=$BILLING_SANDBOX" >> {record}\n'
            f"sleep {pause}\n"
        )
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BILLING_", "MAKE"))}
    env["REDIS_URL"] = "redis://127.0.0.1:1/0"  # no embedded Redis for this
    if host_value is not None:
        env["BILLING_SANDBOX"] = host_value
    finished = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "serve", f"VENV={tmp_path / 'venv'}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0, finished.stderr
    assert sorted(record.read_text().splitlines()) == [
        f"celery BILLING_SANDBOX={expected}",
        f"daphne BILLING_SANDBOX={expected}",
    ]


# --- paying without a provider --------------------------------------------------------------


def test_without_a_provider_subscribing_answers_that_payments_are_not_configured(
    no_provider, token_client
):
    response = token_client.post(
        "/api/subscriptions/subscribe", {"plan": "premium_individual"}, format="json"
    )
    assert response.status_code == 503
    assert response.json()["code"] == "payments_not_configured"
    assert "Payments are not configured" in response.json()["detail"]
    assert not CheckoutSession.objects.exists()


def test_without_a_provider_a_commission_is_refused_and_nothing_is_kept(no_provider, token_client):
    package = PackageFactory()
    response = token_client.post("/api/orders", {"package": package.pk, **brief()}, format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "payments_not_configured"
    assert not Order.objects.exists() and not Payment.objects.exists()


def test_without_a_provider_the_balance_cannot_be_paid(no_provider, db, api_client):
    order = OrderFactory(status=OrderStatus.DELIVERED)
    api_client.force_authenticate(order.customer)
    response = api_client.post(f"/api/orders/{order.pk}/pay_balance", format="json")
    assert response.status_code == 503
    assert response.json()["code"] == "payments_not_configured"
    assert not Payment.objects.exists()
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED


def test_a_deposit_left_in_the_sandbox_cannot_be_paid_once_the_sandbox_is_off(settings, user):
    order = order_services.order_place(
        customer=user, package=PackageFactory(), **service_brief()
    )  # the sandbox is on in the tests, as under make run
    settings.BILLING_SANDBOX = False
    response = logged_in(user).post(f"/orders/{order.pk}/pay_deposit/")
    assert response.status_code == 503
    assert "Payments are not configured" in response.content.decode()
    assert not SandboxCheckout.objects.exists()


def test_without_a_provider_the_plans_page_says_so_and_offers_no_checkout(no_provider, user):
    client = logged_in(user)
    page = client.get("/billing/plans/").content.decode()
    assert "Payments are not configured on this site yet" in page
    assert 'action="/billing/subscribe/"' not in page
    followed = client.post("/billing/subscribe/", {"plan": "premium_individual"}, follow=True)
    assert followed.redirect_chain[-1][0] == "/billing/plans/"
    assert "Payments are not configured on this site yet" in followed.content.decode()
    assert not CheckoutSession.objects.exists()


def test_without_the_sandbox_its_pages_and_webhooks_are_not_there(no_provider, user, client):
    checkout = SandboxCheckout.objects.create(
        id="cs_sbx_left", kind="payment", amount=100, currency="INR"
    )
    assert client.get(f"/billing/sandbox/checkout/{checkout.id}/").status_code == 404
    response = post_sandbox(client, "payment.captured", {"id": "pay_sbx_1", "checkout": "cs"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_configured"


# --- the sandbox switched on ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("switch", "stripe_key"),
    [
        ({"BILLING_SANDBOX": True}, ""),  # make run, the tests
        ({"BILLING_PROVIDER": "sandbox"}, "sk_test_x"),  # the sandbox even with keys set
    ],
)
def test_with_the_sandbox_switched_on_subscribing_goes_to_its_checkout(
    no_provider, settings, token_client, switch, stripe_key
):
    settings.STRIPE_SECRET_KEY = stripe_key
    for name, value in switch.items():
        setattr(settings, name, value)
    response = token_client.post(
        "/api/subscriptions/subscribe", {"plan": "premium_individual"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["provider"] == "sandbox"
    assert "/billing/sandbox/checkout/cs_sbx_" in response.json()["checkout_url"]


def test_with_the_sandbox_on_a_commission_is_paid_through_it(
    settings, token_client, django_capture_on_commit_callbacks
):
    settings.BILLING_SANDBOX = True
    response = token_client.post(
        "/api/orders", {"package": PackageFactory().pk, **brief()}, format="json"
    )
    assert response.status_code == 201
    order = Order.objects.get(pk=response.json()["id"])
    checkout = SandboxCheckout.objects.get()
    with django_capture_on_commit_callbacks(execute=True):  # its signed webhook, in process
        sandbox.checkout_complete(checkout_id=checkout.id, outcome="success")
    order.refresh_from_db()
    assert order.status == OrderStatus.MATCHING
    assert Payment.objects.get().status == "captured"


@pytest.mark.parametrize(
    ("sandbox_on", "forced", "razorpay", "stripe", "payments", "subscriptions"),
    [
        (False, False, False, False, None, None),
        (True, False, False, False, "sandbox", "sandbox"),
        (False, False, True, False, "razorpay", None),
        (True, False, True, False, "razorpay", "sandbox"),
        (False, False, True, True, "razorpay", "stripe"),
        (False, True, True, True, "sandbox", "sandbox"),
    ],
)
def test_which_provider_takes_what(
    no_provider, settings, sandbox_on, forced, razorpay, stripe, payments, subscriptions
):
    settings.BILLING_SANDBOX = sandbox_on
    settings.BILLING_PROVIDER = "sandbox" if forced else "auto"
    settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET = (
        ("rzp", "secret") if razorpay else ("", "")
    )
    settings.STRIPE_SECRET_KEY = "sk_test" if stripe else ""
    for name, configured, expected in (
        (providers.payment_provider_name, providers.payments_configured, payments),
        (providers.subscription_provider_name, providers.subscriptions_configured, subscriptions),
    ):
        assert configured() is (expected is not None)
        if expected is None:
            with pytest.raises(PaymentsNotConfigured):
                name()
        else:
            assert name() == expected
    assert providers.sandbox_enabled() is ("sandbox" in (payments, subscriptions))
