"""Receiving provider webhooks: verify, store once, process in a transaction, retry.

1. The provider verifies the signature on the **raw body** (forged, tampered or stale:
   WebhookRejected, nothing stored, the endpoint answers 400).
2. The event is stored once per (provider, event id), a unique constraint: a duplicate
   delivery finds the row and does nothing more (the endpoint answers 200).
3. It is processed inside one transaction: the provider says what it means in billing's words
   (a normalised event: PaymentUpdate, RefundUpdate, TransferUpdate, CheckoutCompleted,
   SubscriptionUpdate, InvoiceUpdate; see billing.providers.base) and ``webhook_apply`` hands
   that to the one service it concerns (services only move state forward and post to the
   ledger under idempotency keys).
4. A processing failure rolls that transaction back and is recorded on the event (attempts,
   error, next attempt with exponential backoff); the beat task ``billing.retry_failed_webhooks``
   tries again. Staff can replay any event (``webhook_replay``): processing is idempotent.
"""

import logging
from collections.abc import Mapping
from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.db import DataError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from wagtail.log_actions import log

from billing import providers
from billing.errors import Forbidden, NotFound, WebhookRejected
from billing.models import WebhookEvent, WebhookStatus
from billing.providers.base import (
    CheckoutCompleted,
    InvoiceUpdate,
    PaymentUpdate,
    ProviderEvent,
    RefundUpdate,
    SubscriptionUpdate,
    TransferUpdate,
)
from billing.services import payments, payouts, refunds, renewals, subscriptions

logger = logging.getLogger(__name__)
RETRY_BASE_SECONDS = 30
RETRY_MAX_SECONDS = 3600


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)))


def webhook_receive(
    *, provider: str, body: bytes, headers: Mapping[str, str]
) -> tuple[WebhookEvent, bool]:
    """Verify, store and process one delivery. Returns (event, created): created is False for a
    duplicate. Raises NotFound (unknown or unconfigured provider) or WebhookRejected."""
    implementation = providers.for_webhooks(provider)
    verified = implementation.webhook_verify(body=body, headers=headers)
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                provider=provider,
                event_id=verified.event_id[:120],
                event_type=verified.event_type[:100],
                payload=verified.payload,
                occurred_at=verified.occurred_at,
            )
    except DataError:
        # e.g. a NUL character, which PostgreSQL's jsonb cannot hold
        raise WebhookRejected("The webhook body cannot be stored.", code="malformed") from None
    except IntegrityError:
        existing = WebhookEvent.objects.filter(
            provider=provider, event_id=verified.event_id[:120]
        ).first()
        if existing is None:  # pragma: no cover - the constraint fired for another reason
            raise
        return existing, False
    return webhook_process(event=event), True


def webhook_process(*, event: WebhookEvent, force: bool = False) -> WebhookEvent:
    """Apply a stored event in one transaction. Already processed: nothing happens (unless
    `force`, a replay). A failure is recorded and scheduled for a retry; it never escapes."""
    now = timezone.now()
    try:
        with transaction.atomic():
            locked = WebhookEvent.objects.select_for_update().get(pk=event.pk)
            if locked.status in (WebhookStatus.PROCESSED, WebhookStatus.IGNORED) and not force:
                return locked
            update = providers.get(locked.provider).webhook_event(event=locked)
            handled = update is not None and webhook_apply(provider=locked.provider, update=update)
            locked.status = WebhookStatus.PROCESSED if handled else WebhookStatus.IGNORED
            locked.attempts += 1
            locked.processed_at = now
            locked.last_error = ""
            locked.next_attempt_at = None
            locked.save(
                update_fields=[
                    "status",
                    "attempts",
                    "processed_at",
                    "last_error",
                    "next_attempt_at",
                ]
            )
            return locked
    except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
        logger.warning(
            "%s webhook %s (%s) failed: %r", event.provider, event.event_id, event.event_type, error
        )
        attempts = (
            WebhookEvent.objects.filter(pk=event.pk).values_list("attempts", flat=True).first() or 0
        ) + 1
        retry_at = (
            now + retry_delay(attempts)
            if attempts < settings.BILLING_WEBHOOK_MAX_ATTEMPTS
            else None
        )
        WebhookEvent.objects.filter(pk=event.pk).update(
            status=WebhookStatus.FAILED,
            attempts=F("attempts") + 1,
            last_error=f"{type(error).__name__}: {error}"[:4000],
            next_attempt_at=retry_at,
        )
        return WebhookEvent.objects.get(pk=event.pk)


def webhook_apply(*, provider: str, update: ProviderEvent) -> bool:
    """Apply one normalised provider event through the service it concerns, in the caller's
    transaction. False: it is about nothing of ours (stored as ignored)."""
    match update:
        case PaymentUpdate():
            result = payments.payment_record_event(provider=provider, **asdict(update))
        case RefundUpdate():
            result = refunds.refund_record_event(provider=provider, **asdict(update))
        case TransferUpdate():
            result = payouts.payout_record_event(provider=provider, **asdict(update))
        case CheckoutCompleted():
            result = subscriptions.subscription_checkout_completed(
                provider=provider, **asdict(update)
            )
        case SubscriptionUpdate():
            result = subscriptions.subscription_sync(
                provider=provider,
                snapshot=update.snapshot,
                version_at=update.version_at,
                version_seq=update.version_seq,
            )
            if update.trial_will_end and result is not None:
                subscriptions.subscription_trial_will_end(
                    provider=provider,
                    provider_subscription_id=update.snapshot.provider_subscription_id,
                    trial_end=update.snapshot.trial_end,
                )
        case InvoiceUpdate(paid=True):
            result = renewals.subscription_invoice_paid(provider=provider, **_invoice(update))
        case InvoiceUpdate(paid=False):
            result = renewals.subscription_invoice_failed(provider=provider, **_invoice(update))
        case _:
            raise TypeError(f"not a provider event: {update!r}")
    return result is not None


def _invoice(update: InvoiceUpdate) -> dict:
    fields = asdict(update)
    del fields["paid"]
    return fields


def webhooks_retry_due(*, now=None, limit: int = 200) -> int:
    """Process again the failed events whose next attempt is due (beat task). Returns how many
    succeeded."""
    now = now or timezone.now()
    due = WebhookEvent.objects.filter(
        status=WebhookStatus.FAILED, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "received_at")[:limit]
    succeeded = 0
    for event in due:
        if webhook_process(event=event).status != WebhookStatus.FAILED:
            succeeded += 1
    return succeeded


def webhook_replay(*, event_id, actor) -> WebhookEvent:
    """Staff: process a stored event again (idempotent: a processed one changes nothing)."""
    if not getattr(actor, "is_staff", False):
        raise Forbidden("Only staff can replay webhook events.")
    event = WebhookEvent.objects.filter(pk=event_id).first()
    if event is None:
        raise NotFound("No such webhook event.")
    with transaction.atomic():
        WebhookEvent.objects.filter(pk=event.pk).update(replayed_at=timezone.now())
        # Who replayed it, and what it was before, in Wagtail's log (the event's history).
        log(
            event,
            "billing.webhook_replay",
            user=actor,
            data={"status_before": event.status, "attempts_before": event.attempts},
        )
    logger.info("webhook event %s replayed by %s", event.pk, actor.pk)
    return webhook_process(event=event, force=True)
