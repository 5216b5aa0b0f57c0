"""Stripe: Checkout Sessions for listener subscriptions, the billing portal, Connect transfers
to musicians (payouts), and webhooks.

Webhooks are verified with ``stripe.Webhook.construct_event`` on the raw body (the
``Stripe-Signature`` header: ``t=<timestamp>,v1=<HMAC-SHA256 of "<t>.<body>">``, with the
tolerance ``BILLING_WEBHOOK_TOLERANCE_SECONDS``). Handled: checkout.session.completed,
customer.subscription.created / updated / deleted / trial_will_end, invoice.paid and
invoice.payment_failed, transfer.created and transfer.reversed; other types are stored and
ignored.

Both shapes of the API are read: subscription periods on the subscription (before 2025-03) or
on its items (after), an invoice's subscription at the top level or under ``parent``.
"""

import json
import logging
from collections.abc import Mapping

import stripe
from django.conf import settings
from django.utils import timezone

from billing import plans
from billing.errors import Invalid, ProviderError, TransferFailed, WebhookRejected
from billing.models import SUBSCRIPTION_STATUS_ORDER, SubscriptionStatus
from billing.providers import base
from billing.providers.base import (
    CheckoutCompleted,
    CheckoutStart,
    InvoiceUpdate,
    PaymentProvider,
    ProviderEvent,
    ProviderTransfer,
    SubscriptionSnapshot,
    SubscriptionUpdate,
    TransferUpdate,
    VerifiedEvent,
)

logger = logging.getLogger(__name__)

STATUS_MAP = {
    "incomplete": SubscriptionStatus.INCOMPLETE,
    "trialing": SubscriptionStatus.TRIALING,
    "active": SubscriptionStatus.ACTIVE,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.PAST_DUE,
    "paused": SubscriptionStatus.PAST_DUE,
    "canceled": SubscriptionStatus.CANCELED,
    "incomplete_expired": SubscriptionStatus.CANCELED,
}

_http_client: stripe.HTTPClient | None = None


def http_client() -> stripe.HTTPClient | None:
    """The HTTP client the SDK uses (None: the SDK's default). Tests replace this."""
    return _http_client


def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise ProviderError("Stripe is not configured.", code="not_configured")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY, http_client=http_client(), max_network_retries=2
    )


def _call(description: str, function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except stripe.StripeError as error:
        logger.warning("stripe %s failed: %s", description, error)
        message = getattr(error, "user_message", None) or "Stripe could not complete the request."
        raise ProviderError(message) from error


def _id(value) -> str:
    """An id, whether Stripe sent the id or the expanded object."""
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return str(value or "")


def _plain(obj) -> Mapping:
    """A StripeObject (an API answer) as the plain dict a webhook payload is."""
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else obj


def snapshot(obj: Mapping) -> SubscriptionSnapshot:
    obj = _plain(obj)
    items = ((obj.get("items") or {}).get("data")) or []
    item = items[0] if items else {}
    price = item.get("price") or {}
    metadata = obj.get("metadata") or {}
    # The price says which plan it is now (it may have changed in the portal).
    plan = plans.plan_for_stripe_price(_id(price)) or metadata.get("encore_plan")
    unit_amount = price.get("unit_amount")
    quantity = item.get("quantity") or 1
    status = STATUS_MAP.get(obj.get("status"), SubscriptionStatus.INCOMPLETE)
    period_start = base.from_timestamp(
        obj.get("current_period_start") or item.get("current_period_start")
    )
    return SubscriptionSnapshot(
        provider_subscription_id=obj["id"],
        status=status,
        customer_id=_id(obj.get("customer")),
        plan=plan if plan in plans.PLANS else None,
        user_id=metadata.get("encore_user"),
        amount=int(unit_amount) * int(quantity) if unit_amount is not None else None,
        currency=(price.get("currency") or "").upper() or None,
        trial_end=base.from_timestamp(obj.get("trial_end")),
        current_period_start=period_start,
        current_period_end=base.from_timestamp(
            obj.get("current_period_end") or item.get("current_period_end")
        ),
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
        canceled_at=base.from_timestamp(obj.get("canceled_at")),
        ended_at=base.from_timestamp(obj.get("ended_at")),
        started_at=base.from_timestamp(obj.get("start_date")),
        # Stripe opens the next period and then fails to charge it: unpaid since its start.
        past_due_since=period_start if status == SubscriptionStatus.PAST_DUE else None,
    )


def tie_breaker(snap: SubscriptionSnapshot) -> int:
    """Stripe stamps events to the second: snapshots of the same second are ordered by how far
    along they are, so every arrival order ends on the same one."""
    return SUBSCRIPTION_STATUS_ORDER[snap.status] * 2 + int(snap.cancel_at_period_end)


def _invoice_subscription(obj: Mapping) -> tuple[str, dict]:
    details = ((obj.get("parent") or {}).get("subscription_details")) or {}
    legacy = obj.get("subscription_details") or {}
    subscription = _id(obj.get("subscription")) or _id(details.get("subscription"))
    metadata = details.get("metadata") or legacy.get("metadata") or {}
    return subscription, dict(metadata)


class StripeProvider(PaymentProvider):
    name = "stripe"
    supports_subscriptions = True
    payout_account_pattern = r"acct_[A-Za-z0-9]{8,64}"
    payout_account_example = "acct_1032D82eZvKYlo2C"

    def subscription_checkout(
        self, *, checkout, user, plan, trial_days, customer_id, success_url, cancel_url
    ) -> CheckoutStart:
        price_id = settings.STRIPE_PRICE_IDS.get(plan)
        if not price_id:
            raise Invalid(
                f"The {plan} plan has no Stripe price configured.", code="plan_unavailable"
            )
        metadata = {
            "encore_user": str(user.pk),
            "encore_plan": plan,
            "encore_checkout": str(checkout.pk),
        }
        subscription_data: dict = {"metadata": metadata}
        if trial_days:
            subscription_data["trial_period_days"] = trial_days
        params: dict = {
            "mode": "subscription",
            "line_items": [{"price": price_id, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": str(user.pk),
            "metadata": metadata,
            "subscription_data": subscription_data,
        }
        if customer_id:
            params["customer"] = customer_id
        else:
            params["customer_email"] = user.email
        session = _call(
            "checkout session",
            client().v1.checkout.sessions.create,
            params=params,
            options={"idempotency_key": f"encore-checkout-{checkout.pk}"},
        )
        return CheckoutStart(url=session.url, provider_session_id=session.id)

    def subscription_cancel(self, *, subscription, at_period_end: bool) -> SubscriptionSnapshot:
        subscriptions = client().v1.subscriptions
        if at_period_end:
            answer = _call(
                "cancel at period end",
                subscriptions.update,
                subscription.provider_subscription_id,
                params={"cancel_at_period_end": True},
            )
        else:
            answer = _call("cancel", subscriptions.cancel, subscription.provider_subscription_id)
        return snapshot(answer)

    def subscription_resume(self, *, subscription) -> SubscriptionSnapshot:
        answer = _call(
            "resume",
            client().v1.subscriptions.update,
            subscription.provider_subscription_id,
            params={"cancel_at_period_end": False},
        )
        return snapshot(answer)

    def tie_breaker(self, snapshot: SubscriptionSnapshot) -> int:
        return tie_breaker(snapshot)

    def portal_url(self, *, subscription, return_url: str) -> str:
        if not subscription.provider_customer_id:
            raise Invalid(
                "There is no Stripe customer for this subscription yet.", code="no_customer"
            )
        session = _call(
            "billing portal",
            client().v1.billing_portal.sessions.create,
            params={"customer": subscription.provider_customer_id, "return_url": return_url},
        )
        return session.url

    # --- payouts -----------------------------------------------------------------------------
    def transfer_create(self, *, payout, idempotency_key: str) -> ProviderTransfer:
        """A Connect transfer to the musician's account. Stripe keeps the answer to a key, a
        server error included, so a retry after a refusal or a 5xx takes a new key; before it,
        the payout's transfer group is searched, so a transfer made behind an error is found
        rather than made twice."""
        sdk = client()
        group = f"payout_{payout.pk}"
        if payout.attempts > 1:
            found = _call(
                "transfer lookup", sdk.v1.transfers.list, params={"transfer_group": group}
            )
            for transfer in found.data:
                if not transfer.reversed:
                    return ProviderTransfer(id=transfer.id, status="paid")
        try:
            transfer = sdk.v1.transfers.create(
                params={
                    "amount": payout.amount,
                    "currency": payout.currency.lower(),
                    "destination": payout.destination,
                    "transfer_group": group,
                    "description": "Encore payout",
                    "metadata": {"encore_payout_id": str(payout.pk)},
                },
                options={"idempotency_key": f"encore-payout-{idempotency_key}"},
            )
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.IdempotencyError) as error:
            logger.warning("stripe transfer %s: no clear answer: %s", payout.pk, error)
            raise ProviderError("Stripe did not answer the transfer clearly.") from error
        except stripe.StripeError as error:
            message = getattr(error, "user_message", None) or str(error)
            raise TransferFailed(f"Stripe did not make the transfer: {message}") from error
        return ProviderTransfer(id=transfer.id, status="paid")

    def transfer_fetch(self, *, payout) -> ProviderTransfer:
        transfer = _call(
            "transfer fetch", client().v1.transfers.retrieve, payout.provider_transfer_id
        )
        return ProviderTransfer(id=transfer.id, status="reversed" if transfer.reversed else "paid")

    # --- webhooks ----------------------------------------------------------------------------
    def webhook_configured(self) -> bool:
        return bool(settings.STRIPE_WEBHOOK_SECRET)

    def webhook_verify(self, *, body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        headers = base.lower_headers(headers)
        try:
            payload_text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookRejected("The webhook body is not UTF-8.", code="malformed") from None
        try:
            event = stripe.Webhook.construct_event(
                payload_text,
                headers.get("stripe-signature"),
                settings.STRIPE_WEBHOOK_SECRET,
                tolerance=settings.BILLING_WEBHOOK_TOLERANCE_SECONDS,
            )
        except stripe.SignatureVerificationError as error:
            stale = "tolerance" in str(error).lower()
            raise WebhookRejected(
                "The webhook signature is too old."
                if stale
                else "The webhook signature is not valid.",
                code="stale_signature" if stale else "invalid_signature",
            ) from None
        except (ValueError, TypeError, AttributeError, KeyError):
            raise WebhookRejected(
                "The webhook body is not a Stripe event.", code="malformed"
            ) from None
        payload = json.loads(payload_text)
        data = payload.get("data")
        created = payload.get("created")
        if (
            not isinstance(payload.get("id"), str)
            or not isinstance(payload.get("type"), str)
            or not isinstance(data, dict)
            or not isinstance(data.get("object"), dict)
            or not isinstance(created, int | None)
        ):
            raise WebhookRejected("The webhook body is not a Stripe event.", code="malformed")
        try:
            occurred_at = base.from_timestamp(created)
        except ValueError:
            raise WebhookRejected("The event's time is not valid.", code="malformed") from None
        return VerifiedEvent(
            event_id=str(event["id"]),
            event_type=str(event["type"]),
            payload=payload,
            occurred_at=occurred_at,
        )

    def webhook_event(self, *, event) -> ProviderEvent | None:
        obj = event.payload["data"]["object"]
        kind = event.event_type
        if kind == "checkout.session.completed":
            if obj.get("mode") != "subscription":
                return None
            return CheckoutCompleted(
                provider_session_id=obj["id"],
                provider_subscription_id=_id(obj.get("subscription")),
                customer_id=_id(obj.get("customer")),
                metadata=dict(obj.get("metadata") or {}),
            )
        if kind in (
            "customer.subscription.created",
            "customer.subscription.updated",
            "customer.subscription.deleted",
            "customer.subscription.trial_will_end",
        ):
            snap = snapshot(obj)
            return SubscriptionUpdate(
                snapshot=snap,
                version_at=event.occurred_at or timezone.now(),
                version_seq=tie_breaker(snap),
                trial_will_end=kind.endswith("trial_will_end"),
            )
        if kind in ("invoice.paid", "invoice.payment_failed"):
            subscription_id, metadata = _invoice_subscription(obj)
            paid = kind == "invoice.paid"
            return InvoiceUpdate(
                paid=paid,
                invoice_id=obj["id"],
                provider_subscription_id=subscription_id,
                amount=int(obj.get("amount_paid" if paid else "amount_due") or 0),
                currency=(obj.get("currency") or "").upper(),
                metadata=metadata,
                customer_id=_id(obj.get("customer")),
                attempt=int(obj.get("attempt_count") or 1),
            )
        if kind in ("transfer.created", "transfer.reversed"):
            if kind == "transfer.reversed" and not obj.get("reversed"):
                # A partial reversal is a staff's decision at Stripe: stored, not acted on.
                return None
            return TransferUpdate(
                provider_transfer_id=obj["id"],
                status="reversed" if kind == "transfer.reversed" else "paid",
                encore_payout_id=str((obj.get("metadata") or {}).get("encore_payout_id", "")),
            )
        return None
