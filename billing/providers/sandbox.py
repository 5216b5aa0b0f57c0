"""The sandbox: a real payment provider that runs inside Encore, for local use.

Like Django's console email backend it stands in for the real service without any account:
its checkout page lets the payer succeed, fail or leave, and it reports what happened the way
Stripe and Razorpay do, with **signed webhooks** to ``/api/billing/webhooks/sandbox``. The
signature is an HMAC-SHA256 over ``"<timestamp>.<raw body>"`` with ``SANDBOX_WEBHOOK_SECRET``,
sent as ``Encore-Sandbox-Signature: t=<timestamp>,v1=<hex>`` and checked with a tolerance, so
everything after the boundary is the production code path.

Webhooks leave once the sandbox's own transaction commits. With ``SANDBOX_WEBHOOK_URL`` set the
Celery task ``billing.sandbox_deliver_webhook`` POSTs them over HTTP (retried with backoff);
otherwise the signed body goes to the same service the endpoint calls, in process. Both sit
above the providers, so they are handed in (``connect``, called from config/wiring.py).

Transfers to musicians (payouts) go to sandbox accounts (``sbx_...``): each is accepted at once
and settled by a ``transfer.processed`` webhook; an account whose id ends in ``_fail`` refuses
them, to try the unhappy path.

The tables ``SandboxCheckout`` and ``SandboxSubscription`` are the sandbox's side of the
boundary (what Stripe keeps on its servers). Renewals, trial reminders and cancellations at
period end happen in ``advance`` (beat task ``billing.sandbox_advance``); the "my subscription"
page offers controls to trigger a renewal, a failed renewal or the trial reminder at once.
"""

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from billing import plans
from billing.errors import NotFound, TransferFailed, WebhookRejected
from billing.models import CheckoutKind, SandboxCheckout, SandboxSubscription
from billing.providers import base
from billing.providers.base import (
    CheckoutCompleted,
    CheckoutStart,
    InvoiceUpdate,
    PaymentProvider,
    PaymentUpdate,
    ProviderEvent,
    ProviderRefund,
    ProviderTransfer,
    RefundUpdate,
    SubscriptionSnapshot,
    SubscriptionUpdate,
    TransferUpdate,
    VerifiedEvent,
)
from billing.providers.config import sandbox_enabled

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Encore-Sandbox-Signature"
TRIAL_REMINDER = timedelta(days=3)
PERIOD = timedelta(days=30)


# --- signing --------------------------------------------------------------------------------


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(body: bytes, *, secret: str | None = None, timestamp: int | None = None) -> str:
    """The signature header for `body`, as the sandbox sends it."""
    secret = secret or settings.SANDBOX_WEBHOOK_SECRET
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify(body: bytes, header: str | None, *, secret: str, tolerance: int, now=None) -> int:
    """Check a signature header; return its timestamp. Raises WebhookRejected."""
    if not header:
        raise WebhookRejected("The signature header is missing.", code="missing_signature")
    timestamp = None
    signatures = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookRejected("The signature header is malformed.", code="invalid_signature")
    expected = _digest(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise WebhookRejected("The webhook signature does not match.", code="invalid_signature")
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise WebhookRejected("The webhook signature is too old.", code="stale_signature")
    return timestamp


# --- sending webhooks -----------------------------------------------------------------------


def _new_id(prefix: str) -> str:
    return f"{prefix}_sbx_{uuid.uuid4().hex}"


def _ts(value) -> int | None:
    return int(value.timestamp()) if value else None


def event_body(event_type: str, obj: dict, *, event_id: str | None = None, created=None) -> str:
    return json.dumps(
        {
            "id": event_id or _new_id("evt"),
            "object": "event",
            "type": event_type,
            "created": int(time.time()) if created is None else int(created),
            "data": {"object": obj},
        },
        separators=(",", ":"),
        sort_keys=True,
    )


class _Transport:
    """Where the sandbox's webhooks go: ``receive(provider=, body=, headers=)`` is the webhook
    service (in process); ``send_over_http(body)`` schedules a Celery task that calls
    ``deliver(body)`` on the worker."""

    receive: Callable[..., object] | None = None
    send_over_http: Callable[[str], object] | None = None


def connect(*, receive: Callable[..., object], send_over_http: Callable[[str], object]) -> None:
    """Hand the sandbox what its webhooks reach (config/wiring.py does, when Django starts)."""
    _Transport.receive = receive
    _Transport.send_over_http = send_over_http


def _connected(name: str) -> Callable[..., object]:
    target = getattr(_Transport, name)
    if target is None:
        raise RuntimeError(
            "The sandbox's webhooks are not connected: config/wiring.py connects them when "
            "Django starts (django.setup())."
        )
    return target


def _send_later(body: str) -> None:
    """After the commit: over HTTP through a Celery task (retried) when SANDBOX_WEBHOOK_URL is
    set; otherwise straight into the webhook service, in this process. In process matters in
    the embedded mode: each process has its own local-memory cache, and the entitlements a
    change invalidates are cached by the web process that serves the person."""
    if settings.SANDBOX_WEBHOOK_URL:
        transaction.on_commit(lambda: _connected("send_over_http")(body), robust=True)
    else:
        transaction.on_commit(lambda: deliver(body), robust=True)


def emit(event_type: str, obj: dict) -> str:
    """Send a webhook once the current transaction commits (now when there is none)."""
    body = event_body(event_type, obj)
    _send_later(body)
    return body


class DeliveryFailed(Exception):
    pass


def deliver(body: str) -> None:
    """Sign `body` now and hand it to Encore's webhook endpoint (HTTP or in process)."""
    raw = body.encode()
    header = sign(raw)
    url = settings.SANDBOX_WEBHOOK_URL
    if url:
        if not url.startswith(("http://", "https://")):
            raise ValueError("SANDBOX_WEBHOOK_URL must be an http(s) URL")
        try:
            response = requests.post(
                url,
                data=raw,
                headers={"Content-Type": "application/json", SIGNATURE_HEADER: header},
                timeout=10,
            )
        except requests.RequestException as error:
            raise DeliveryFailed(str(error)) from error
        if response.status_code >= 500 or response.status_code == 429:
            raise DeliveryFailed(f"HTTP {response.status_code}")
        if response.status_code >= 300:
            logger.error("sandbox webhook refused: HTTP %s %s", response.status_code, response.text)
        return
    try:
        _connected("receive")(
            provider="sandbox",
            body=raw,
            headers={SIGNATURE_HEADER: header, "Content-Type": "application/json"},
        )
    except WebhookRejected:
        logger.exception("sandbox webhook refused by our own endpoint")


# --- the sandbox's objects, as its webhooks and API answers show them -----------------------


def subscription_object(sub: SandboxSubscription) -> dict:
    return {
        "id": sub.id,
        "object": "subscription",
        "customer": sub.customer_id,
        "plan": sub.plan,
        "amount": sub.amount,
        "currency": sub.currency,
        "status": sub.status,
        "trial_end": _ts(sub.trial_end),
        "current_period_start": _ts(sub.current_period_start),
        "current_period_end": _ts(sub.current_period_end),
        "cancel_at_period_end": sub.cancel_at_period_end,
        "canceled_at": _ts(sub.canceled_at),
        "ended_at": _ts(sub.ended_at),
        "start_date": _ts(sub.created_at),
        "metadata": sub.metadata,
        "sequence": sub.sequence,
    }


def snapshot_from_object(obj: dict, *, created=None) -> SubscriptionSnapshot:
    """A snapshot from a subscription object; with `created` (an API answer) it carries the
    sandbox's own version of that state, the one its webhook for the change carries too."""
    metadata = obj.get("metadata") or {}
    version = None
    if created is not None:
        version = (base.from_timestamp(created), int(obj.get("sequence") or 0))
    return SubscriptionSnapshot(
        provider_subscription_id=obj["id"],
        status=obj["status"],
        customer_id=obj.get("customer") or "",
        plan=obj.get("plan") or metadata.get("encore_plan"),
        user_id=metadata.get("encore_user"),
        amount=obj.get("amount"),
        currency=(obj.get("currency") or "").upper() or None,
        trial_end=base.from_timestamp(obj.get("trial_end")),
        current_period_start=base.from_timestamp(obj.get("current_period_start")),
        current_period_end=base.from_timestamp(obj.get("current_period_end")),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        canceled_at=base.from_timestamp(obj.get("canceled_at")),
        ended_at=base.from_timestamp(obj.get("ended_at")),
        started_at=base.from_timestamp(obj.get("start_date")),
        past_due_since=(
            base.from_timestamp(obj.get("current_period_start"))
            if obj.get("status") == "past_due"
            else None
        ),
        version=version,
    )


def _invoice_object(sub: SandboxSubscription, *, paid: bool, now) -> dict:
    sub.invoice_count += 1
    return {
        "id": f"in_sbx_{sub.id.split('_')[-1][:16]}_{sub.invoice_count}",
        "object": "invoice",
        "subscription": sub.id,
        "customer": sub.customer_id,
        "amount": sub.amount,
        "currency": sub.currency,
        "status": "paid" if paid else "open",
        "attempt_count": 1,
        "metadata": sub.metadata,
        "created": _ts(now),
    }


def _changed(sub: SandboxSubscription, event_type: str = "subscription.updated") -> int:
    """Record a change and send its webhook; returns the event's time."""
    sub.sequence += 1
    sub.save()
    created = int(time.time())
    body = event_body(event_type, subscription_object(sub), created=created)
    _send_later(body)
    return created


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


# --- the checkout page ----------------------------------------------------------------------


def checkout_get(checkout_id: str) -> SandboxCheckout:
    checkout = SandboxCheckout.objects.filter(pk=checkout_id).first()
    if checkout is None:
        raise NotFound("This checkout does not exist.")
    return checkout


def checkout_complete(*, checkout_id: str, outcome: str) -> tuple[SandboxCheckout, str | None]:
    """The payer's choice on the checkout page. Returns the checkout and where to send the
    payer next (None: stay on the page, the card was declined and they may try again)."""
    if outcome not in ("success", "failure", "cancel"):
        raise ValueError(f"unknown outcome {outcome!r}")
    now = timezone.now()
    with transaction.atomic():
        checkout = SandboxCheckout.objects.select_for_update().filter(pk=checkout_id).first()
        if checkout is None:
            raise NotFound("This checkout does not exist.")
        if checkout.status == SandboxCheckout.Status.SUCCEEDED:
            return checkout, checkout.success_url  # a second click: nothing happens twice
        if checkout.status == SandboxCheckout.Status.CANCELLED:
            return checkout, checkout.cancel_url
        if outcome == "cancel":
            # Like Stripe and Razorpay: leaving does not close the checkout, the payer may
            # come back to it (and nothing is sent).
            return checkout, checkout.cancel_url
        if outcome == "failure":
            if checkout.kind == CheckoutKind.PAYMENT:
                emit(
                    "payment.failed",
                    {
                        "id": _new_id("pay"),
                        "object": "payment",
                        "checkout": checkout.id,
                        "amount": checkout.amount,
                        "currency": checkout.currency,
                        "status": "failed",
                        "error": "The card was declined (sandbox).",
                        "metadata": checkout.metadata,
                    },
                )
            return checkout, None
        if checkout.kind == CheckoutKind.PAYMENT:
            checkout.payment_id = _new_id("pay")
            emit(
                "payment.captured",
                {
                    "id": checkout.payment_id,
                    "object": "payment",
                    "checkout": checkout.id,
                    "amount": checkout.amount,
                    "currency": checkout.currency,
                    "status": "captured",
                    "metadata": checkout.metadata,
                },
            )
        else:
            sub = _subscription_start(checkout, now)
            checkout.subscription_id = sub.id
        checkout.status = SandboxCheckout.Status.SUCCEEDED
        checkout.completed_at = now
        checkout.save(update_fields=["status", "completed_at", "payment_id", "subscription_id"])
        return checkout, checkout.success_url


def _subscription_start(checkout: SandboxCheckout, now) -> SandboxSubscription:
    trial = checkout.trial_days > 0
    period_end = now + (timedelta(days=checkout.trial_days) if trial else PERIOD)
    sub = SandboxSubscription.objects.create(
        id=_new_id("sub"),
        customer_id=f"cus_sbx_{checkout.metadata.get('encore_user', '').replace('-', '')}",
        plan=checkout.plan,
        amount=checkout.amount,
        currency=checkout.currency,
        status="trialing" if trial else "active",
        trial_end=period_end if trial else None,
        current_period_start=now,
        current_period_end=period_end,
        metadata={k: v for k, v in checkout.metadata.items() if k != "encore_checkout"},
        sequence=1,
    )
    emit(
        "checkout.completed",
        {
            "id": checkout.id,
            "object": "checkout",
            "mode": "subscription",
            "subscription": sub.id,
            "customer": sub.customer_id,
            "metadata": checkout.metadata,
        },
    )
    emit("subscription.created", subscription_object(sub))
    if not trial:
        emit("invoice.paid", _invoice_object(sub, paid=True, now=now))
        sub.save(update_fields=["invoice_count"])
    return sub


# --- renewals, failures, reminders ----------------------------------------------------------


def _renew(sub: SandboxSubscription, now) -> None:
    """Charge for the next period (or, when past due, the period that went unpaid)."""
    if sub.fail_next_renewal:
        _fail_renewal(sub, now)
        return
    if sub.status != "past_due":
        sub.current_period_start = now
        sub.current_period_end = now + PERIOD
    sub.status = "active"
    emit("invoice.paid", _invoice_object(sub, paid=True, now=now))
    _changed(sub)


def _fail_renewal(sub: SandboxSubscription, now) -> None:
    """Like Stripe: the next period opens, its charge fails, the subscription is past due."""
    if sub.status != "past_due":
        sub.current_period_start = now
        sub.current_period_end = now + PERIOD
    sub.status = "past_due"
    emit("invoice.payment_failed", _invoice_object(sub, paid=False, now=now))
    _changed(sub)


def _end(sub: SandboxSubscription, now) -> int:
    sub.status = "canceled"
    sub.canceled_at = sub.canceled_at or now
    sub.ended_at = now
    return _changed(sub, "subscription.deleted")


def advance(*, now=None) -> int:
    """What the clock brings: trial reminders 3 days ahead, renewals (or failures, or the end
    of a subscription cancelled at period end) when a period is over. Returns events sent."""
    now = now or timezone.now()
    count = 0
    candidates = SandboxSubscription.objects.filter(status__in=["trialing", "active"]).values_list(
        "pk", flat=True
    )
    for pk in list(candidates):
        with transaction.atomic():
            sub = SandboxSubscription.objects.select_for_update().get(pk=pk)
            if sub.status not in ("trialing", "active"):
                continue
            if (
                sub.status == "trialing"
                and sub.trial_end
                and not sub.trial_reminder_sent
                and sub.trial_end - TRIAL_REMINDER <= now < sub.trial_end
            ):
                sub.trial_reminder_sent = True
                _changed(sub, "subscription.trial_will_end")
                count += 1
            if sub.current_period_end <= now:
                if sub.cancel_at_period_end:
                    _end(sub, now)
                else:
                    _renew(sub, now)
                count += 1
    return count


def control(*, subscription_id: str, action: str, now=None) -> SandboxSubscription:
    """The sandbox's test controls: renew now, fail the renewal now, or start the 3-day trial
    reminder now."""
    now = now or timezone.now()
    with transaction.atomic():
        sub = SandboxSubscription.objects.select_for_update().filter(pk=subscription_id).first()
        if sub is None or sub.status == "canceled":
            raise NotFound("This sandbox subscription is not running.")
        if action == "renew":
            sub.fail_next_renewal = False
            sub.trial_end = sub.trial_end if sub.status != "trialing" else now
            _renew(sub, now)
        elif action == "fail":
            sub.fail_next_renewal = True
            _fail_renewal(sub, now)
        elif action == "trial_ending":
            if sub.status != "trialing":
                raise NotFound("This subscription is not in its trial.")
            sub.trial_end = now + TRIAL_REMINDER
            sub.current_period_end = sub.trial_end
            sub.trial_reminder_sent = True
            _changed(sub, "subscription.trial_will_end")
        else:
            raise ValueError(f"unknown sandbox action {action!r}")
    return sub


# --- the provider ---------------------------------------------------------------------------


# Transfers to a sandbox account whose id ends like this fail, as a real provider's test
# accounts let you try the unhappy path.
FAILING_ACCOUNT_SUFFIX = "_fail"


class SandboxProvider(PaymentProvider):
    name = "sandbox"
    supports_payments = True
    supports_subscriptions = True
    payout_account_pattern = r"sbx_[A-Za-z0-9_]{3,60}"
    payout_account_example = "sbx_my_studio"

    def _checkout_url(self, checkout: SandboxCheckout) -> str:
        return _site(reverse("billing:sandbox_checkout", kwargs={"checkout_id": checkout.id}))

    def payment_checkout(self, *, payment, checkout, success_url, cancel_url) -> CheckoutStart:
        sandbox_checkout = SandboxCheckout.objects.create(
            id=_new_id("cs"),
            kind=CheckoutKind.PAYMENT,
            amount=payment.amount,
            currency=payment.currency,
            description=payment.description or payment.purpose.replace("_", " "),
            customer_email=payment.payer.email if payment.payer_id else "",
            metadata={"encore_payment_id": str(payment.pk), "encore_checkout": str(checkout.pk)},
            success_url=success_url,
            cancel_url=cancel_url,
        )
        return CheckoutStart(
            url=self._checkout_url(sandbox_checkout), provider_session_id=sandbox_checkout.id
        )

    def payment_capture(self, *, payment) -> dict:
        return {"id": payment.provider_payment_id, "status": "captured"}  # captured at once

    def refund_create(self, *, refund) -> ProviderRefund:
        payment = refund.payment
        refund_id = _new_id("rfnd")
        emit(
            "refund.processed",
            {
                "id": refund_id,
                "object": "refund",
                "payment": payment.provider_payment_id,
                "checkout": payment.provider_order_id,
                "amount": refund.amount,
                "currency": refund.currency,
                "status": "processed",
                "metadata": {"encore_refund_id": str(refund.pk)},
            },
        )
        return ProviderRefund(id=refund_id, status="processed")

    def transfer_create(self, *, payout, idempotency_key: str) -> ProviderTransfer:
        """Accepted at once and settled by a ``transfer.processed`` webhook, like Razorpay.
        The same idempotency key gives the same transfer."""
        if payout.destination.endswith(FAILING_ACCOUNT_SUFFIX):
            raise TransferFailed(
                f"The sandbox refuses transfers to accounts ending in {FAILING_ACCOUNT_SUFFIX}."
            )
        digest = hashlib.sha256(f"transfer:{idempotency_key}".encode()).hexdigest()[:32]
        transfer_id = f"trf_sbx_{digest}"
        emit(
            "transfer.processed",
            {
                "id": transfer_id,
                "object": "transfer",
                "destination": payout.destination,
                "amount": payout.amount,
                "currency": payout.currency,
                "status": "processed",
                "metadata": {"encore_payout_id": str(payout.pk)},
            },
        )
        return ProviderTransfer(id=transfer_id, status="processing")

    def subscription_checkout(
        self, *, checkout, user, plan, trial_days, customer_id, success_url, cancel_url
    ) -> CheckoutStart:
        plan_info = plans.get(plan)
        sandbox_checkout = SandboxCheckout.objects.create(
            id=_new_id("cs"),
            kind=CheckoutKind.SUBSCRIPTION,
            amount=plan_info.price(),
            currency=plan_info.price_currency(),
            description=f"{plan_info.name}, monthly",
            customer_email=user.email,
            plan=plan,
            trial_days=trial_days,
            metadata={
                "encore_user": str(user.pk),
                "encore_plan": plan,
                "encore_checkout": str(checkout.pk),
            },
            success_url=success_url,
            cancel_url=cancel_url,
        )
        return CheckoutStart(
            url=self._checkout_url(sandbox_checkout), provider_session_id=sandbox_checkout.id
        )

    def subscription_cancel(self, *, subscription, at_period_end: bool) -> SubscriptionSnapshot:
        now = timezone.now()
        with transaction.atomic():
            sub = (
                SandboxSubscription.objects.select_for_update()
                .filter(pk=subscription.provider_subscription_id)
                .first()
            )
            if sub is None:
                raise NotFound("The sandbox has no such subscription.")
            created = None
            if sub.status != "canceled":
                if at_period_end:
                    sub.cancel_at_period_end = True
                    sub.canceled_at = now
                    created = _changed(sub)
                else:
                    created = _end(sub, now)
        return snapshot_from_object(subscription_object(sub), created=created)

    def subscription_resume(self, *, subscription) -> SubscriptionSnapshot:
        with transaction.atomic():
            sub = (
                SandboxSubscription.objects.select_for_update()
                .filter(pk=subscription.provider_subscription_id)
                .first()
            )
            if sub is None:
                raise NotFound("The sandbox has no such subscription.")
            created = None
            if sub.status != "canceled" and sub.cancel_at_period_end:
                sub.cancel_at_period_end = False
                sub.canceled_at = None
                created = _changed(sub)
        return snapshot_from_object(subscription_object(sub), created=created)

    def portal_url(self, *, subscription, return_url: str) -> str:
        return _site(reverse("billing:subscription"))

    # --- webhooks ----------------------------------------------------------------------------
    def webhook_configured(self) -> bool:
        return sandbox_enabled()

    def webhook_verify(self, *, body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        headers = base.lower_headers(headers)
        verify(
            body,
            headers.get(SIGNATURE_HEADER.lower()),
            secret=settings.SANDBOX_WEBHOOK_SECRET,
            tolerance=settings.BILLING_WEBHOOK_TOLERANCE_SECONDS,
        )
        try:
            payload = json.loads(body)
            event_id, event_type = str(payload["id"]), str(payload["type"])
            if not isinstance(payload["data"]["object"], dict):
                raise TypeError
            occurred_at = base.from_timestamp(payload.get("created"))
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected(
                "The webhook body is not a sandbox event.", code="malformed"
            ) from None
        return VerifiedEvent(
            event_id=event_id, event_type=event_type, payload=payload, occurred_at=occurred_at
        )

    def webhook_event(self, *, event) -> ProviderEvent | None:
        obj = event.payload["data"]["object"]
        kind = event.event_type
        metadata = obj.get("metadata") or {}
        if kind in ("payment.captured", "payment.failed", "payment.authorized"):
            return PaymentUpdate(
                status=kind.split(".")[1],
                provider_order_id=obj.get("checkout") or "",
                provider_payment_id=obj["id"],
                amount=obj.get("amount"),
                currency=obj.get("currency"),
                failure_reason=obj.get("error") or "",
            )
        if kind in ("refund.processed", "refund.failed"):
            return RefundUpdate(
                provider_refund_id=obj["id"],
                status=kind.split(".")[1],
                amount=obj.get("amount"),
                currency=obj.get("currency"),
                provider_payment_id=obj.get("payment") or "",
                provider_order_id=obj.get("checkout") or "",
                encore_refund_id=metadata.get("encore_refund_id", ""),
            )
        if kind in ("transfer.processed", "transfer.failed", "transfer.reversed"):
            return TransferUpdate(
                provider_transfer_id=obj["id"],
                status={"transfer.failed": "failed", "transfer.reversed": "reversed"}.get(
                    kind, "paid"
                ),
                encore_payout_id=metadata.get("encore_payout_id", ""),
                reason=str(obj.get("error") or ""),
            )
        if kind == "checkout.completed":
            if obj.get("mode") != "subscription":
                return None
            return CheckoutCompleted(
                provider_session_id=obj["id"],
                provider_subscription_id=obj.get("subscription") or "",
                customer_id=obj.get("customer") or "",
                metadata=metadata,
            )
        if kind in (
            "subscription.created",
            "subscription.updated",
            "subscription.deleted",
            "subscription.trial_will_end",
        ):
            return SubscriptionUpdate(
                snapshot=snapshot_from_object(obj),
                version_at=event.occurred_at or timezone.now(),
                version_seq=int(obj.get("sequence") or 0),
                trial_will_end=kind == "subscription.trial_will_end",
            )
        if kind in ("invoice.paid", "invoice.payment_failed"):
            return InvoiceUpdate(
                paid=kind == "invoice.paid",
                invoice_id=obj["id"],
                provider_subscription_id=obj.get("subscription") or "",
                amount=int(obj.get("amount") or 0),
                currency=(obj.get("currency") or "").upper(),
                metadata=metadata,
                customer_id=obj.get("customer") or "",
                attempt=int(obj.get("attempt_count") or 1),
            )
        return None
