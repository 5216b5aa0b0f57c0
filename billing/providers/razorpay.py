"""Razorpay: orders and checkout parameters, payment signatures, captures, refunds, Route
direct transfers to musicians' linked accounts (payouts) and webhooks.

Webhooks carry ``X-Razorpay-Signature``: the hex HMAC-SHA256 of the raw body with the webhook
secret, checked with the SDK's ``utility.verify_webhook_signature`` (which *raises*
``SignatureVerificationError`` on a mismatch). Each delivery carries ``X-Razorpay-Event-Id``,
the key events are stored once under. Razorpay's signature has no timestamp; an event whose
``created_at`` is older than ``RAZORPAY_WEBHOOK_MAX_AGE_SECONDS`` is refused as stale.
"""

import json
import logging
import time
from collections.abc import Mapping

import razorpay
import requests
from django.conf import settings
from django.urls import reverse
from razorpay.errors import BadRequestError, GatewayError, ServerError, SignatureVerificationError

from billing.errors import ProviderError, TransferFailed, WebhookRejected
from billing.providers import base
from billing.providers.base import (
    CheckoutStart,
    PaymentProvider,
    PaymentUpdate,
    ProviderEvent,
    ProviderRefund,
    ProviderTransfer,
    RefundUpdate,
    TransferUpdate,
    VerifiedEvent,
)

logger = logging.getLogger(__name__)
TIMEOUT_SECONDS = 15

_session: requests.Session | None = None


def session() -> requests.Session:
    """The requests Session the SDK sends through. Tests mount a fake adapter on theirs."""
    global _session
    if _session is None:
        _session = requests.Session()
    return _session


def client() -> razorpay.Client:
    if not (settings.RAZORPAY_KEY_ID and settings.RAZORPAY_KEY_SECRET):
        raise ProviderError("Razorpay is not configured.", code="not_configured")
    sdk = razorpay.Client(
        session=session(), auth=(settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET)
    )
    sdk.set_app_details({"title": "Encore", "version": "1.0"})
    return sdk


def _call(description: str, function, *args, **kwargs):
    kwargs.setdefault("timeout", TIMEOUT_SECONDS)
    try:
        return function(*args, **kwargs)
    except (
        BadRequestError,
        GatewayError,
        ServerError,
        requests.RequestException,
        ValueError,
    ) as error:
        logger.warning("razorpay %s failed: %s", description, error)
        raise ProviderError(f"Razorpay could not complete the request: {error}") from error


def verify_payment_signature(*, order_id: str, payment_id: str, signature: str) -> bool:
    """Whether the checkout's callback (order id, payment id, signature) is Razorpay's."""
    try:
        client().utility.verify_payment_signature(
            {
                "razorpay_order_id": order_id,
                "razorpay_payment_id": payment_id,
                "razorpay_signature": signature,
            }
        )
    except SignatureVerificationError:
        return False
    return True


def transfer_status(entity: Mapping) -> tuple[str, str]:
    """A transfer entity's state as a payout status, and the reason when it failed."""
    state = entity.get("status") or entity.get("transfer_status") or ""
    error = entity.get("error") if isinstance(entity.get("error"), Mapping) else {}
    reason = str(error.get("description") or error.get("reason") or "")
    if state == "processed":
        return "paid", ""
    if state in ("reversed", "partially_reversed"):
        return "reversed", reason
    if state == "failed":
        return "failed", reason or "Razorpay could not make the transfer."
    return "processing", ""  # created, pending


def _transfer(entity: Mapping) -> ProviderTransfer:
    status, reason = transfer_status(entity)
    if status == "failed":
        raise TransferFailed(f"Razorpay could not make the transfer: {reason}")
    return ProviderTransfer(id=str(entity["id"]), status=status)


class RazorpayProvider(PaymentProvider):
    name = "razorpay"
    supports_payments = True
    captures_manually = True
    payout_account_pattern = r"acc_[A-Za-z0-9]{14}"
    payout_account_example = "acc_CPRsN1LkFccllA"

    def payment_checkout(self, *, payment, checkout, success_url, cancel_url) -> CheckoutStart:
        notes = {
            "encore_payment_id": str(payment.pk),
            "purpose": payment.purpose,
            "reference": payment.reference,
        }
        order = _call(
            "order",
            client().order.create,
            {
                "amount": payment.amount,
                "currency": payment.currency,
                "receipt": str(payment.pk).replace("-", "")[:40],
                "notes": notes,
                "payment_capture": 1,
            },
        )
        site = settings.SITE_URL.rstrip("/")
        payer = payment.payer
        params = {
            "key": settings.RAZORPAY_KEY_ID,
            "order_id": order["id"],
            "amount": payment.amount,
            "currency": payment.currency,
            "name": "Encore",
            "description": payment.description or payment.purpose.replace("_", " "),
            "prefill": {
                "name": payer.display_name if payer else "",
                "email": payer.email if payer else "",
            },
            "notes": notes,
            "callback_url": site
            + reverse("billing:razorpay_callback", kwargs={"checkout_id": checkout.pk}),
            "cancel_url": cancel_url,
        }
        url = site + reverse("billing:razorpay_checkout", kwargs={"checkout_id": checkout.pk})
        return CheckoutStart(url=url, provider_session_id=order["id"], client_params=params)

    def payment_capture(self, *, payment) -> dict:
        sdk = client()
        try:
            return sdk.payment.capture(
                payment.provider_payment_id,
                payment.amount,
                {"currency": payment.currency},
                timeout=TIMEOUT_SECONDS,
            )
        except BadRequestError as error:
            # Auto-capture (or an earlier attempt) may have got there first: ask how it stands.
            entity = _call("payment fetch", sdk.payment.fetch, payment.provider_payment_id)
            if entity.get("status") == "captured":
                return entity
            raise ProviderError(f"Razorpay refused the capture: {error}") from error
        except (GatewayError, ServerError, requests.RequestException) as error:
            raise ProviderError(f"Razorpay could not capture the payment: {error}") from error

    def refund_create(self, *, refund) -> ProviderRefund:
        answer = _call(
            "refund",
            client().payment.refund,
            refund.payment.provider_payment_id,
            {
                "amount": refund.amount,
                "speed": "normal",
                "receipt": str(refund.pk).replace("-", "")[:40],
                "notes": {"encore_refund_id": str(refund.pk)},
            },
        )
        status = "processed" if answer.get("status") == "processed" else "pending"
        return ProviderRefund(id=answer["id"], status=status)

    def transfer_create(self, *, payout, idempotency_key: str) -> ProviderTransfer:
        """A direct transfer from the platform's balance to the musician's linked account,
        made once per idempotency key (Razorpay's ``X-Transfer-Idempotency``)."""
        try:
            entity = client().transfer.create(
                {
                    "account": payout.destination,
                    "amount": payout.amount,
                    "currency": payout.currency,
                    "notes": {"encore_payout_id": str(payout.pk)},
                },
                headers={"X-Transfer-Idempotency": idempotency_key},
                timeout=TIMEOUT_SECONDS,
            )
        except BadRequestError as error:
            raise TransferFailed(f"Razorpay refused the transfer: {error}") from error
        except (GatewayError, ServerError, requests.RequestException, ValueError) as error:
            logger.warning("razorpay transfer %s: no clear answer: %s", payout.pk, error)
            raise ProviderError(f"Razorpay did not answer the transfer clearly: {error}") from error
        return _transfer(entity)

    def transfer_fetch(self, *, payout) -> ProviderTransfer:
        entity = _call("transfer fetch", client().transfer.fetch, payout.provider_transfer_id)
        return _transfer(entity)

    # --- webhooks ----------------------------------------------------------------------------
    def webhook_configured(self) -> bool:
        return bool(settings.RAZORPAY_WEBHOOK_SECRET)

    def webhook_verify(self, *, body: bytes, headers: Mapping[str, str]) -> VerifiedEvent:
        headers = base.lower_headers(headers)
        signature = headers.get("x-razorpay-signature")
        event_id = headers.get("x-razorpay-event-id")
        if not signature:
            raise WebhookRejected("The signature header is missing.", code="missing_signature")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookRejected("The webhook body is not UTF-8.", code="malformed") from None
        try:
            # The SDK's check needs no API keys: a bare Utility with the webhook secret.
            razorpay.Utility().verify_webhook_signature(
                text, signature, settings.RAZORPAY_WEBHOOK_SECRET
            )
        except SignatureVerificationError:
            raise WebhookRejected(
                "The webhook signature is not valid.", code="invalid_signature"
            ) from None
        if not event_id:
            raise WebhookRejected("X-Razorpay-Event-Id is missing.", code="missing_event_id")
        try:
            payload = json.loads(text)
            event_type = str(payload["event"])
            created_at = int(payload["created_at"])
            if not isinstance(payload.get("payload"), dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise WebhookRejected(
                "The webhook body is not a Razorpay event.", code="malformed"
            ) from None
        now = time.time()
        if now - created_at > settings.RAZORPAY_WEBHOOK_MAX_AGE_SECONDS or (
            created_at - now > settings.BILLING_WEBHOOK_TOLERANCE_SECONDS
        ):
            raise WebhookRejected("The webhook is too old.", code="stale_signature")
        return VerifiedEvent(
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            occurred_at=base.from_timestamp(created_at),
        )

    def webhook_event(self, *, event) -> ProviderEvent | None:
        kind = event.event_type
        entities = event.payload.get("payload") or {}
        payment = (entities.get("payment") or {}).get("entity") or {}
        if kind in ("payment.authorized", "payment.captured", "payment.failed", "order.paid"):
            if not payment:
                return None
            return PaymentUpdate(
                status="captured" if kind == "order.paid" else kind.split(".")[1],
                provider_order_id=payment.get("order_id") or "",
                provider_payment_id=payment["id"],
                amount=payment.get("amount"),
                currency=payment.get("currency"),
                failure_reason=payment.get("error_description") or "",
            )
        if kind in ("refund.created", "refund.processed", "refund.failed"):
            refund = (entities.get("refund") or {}).get("entity") or {}
            if not refund:
                return None
            notes = refund.get("notes") if isinstance(refund.get("notes"), dict) else {}
            return RefundUpdate(
                provider_refund_id=refund["id"],
                status={"refund.failed": "failed", "refund.processed": "processed"}.get(
                    kind, "pending"
                ),
                amount=refund.get("amount"),
                currency=refund.get("currency"),
                provider_payment_id=refund.get("payment_id") or payment.get("id") or "",
                provider_order_id=payment.get("order_id") or "",
                encore_refund_id=notes.get("encore_refund_id", ""),
            )
        if kind in ("transfer.processed", "transfer.failed", "transfer.reversed"):
            transfer = (entities.get("transfer") or {}).get("entity") or {}
            if not transfer:
                return None
            _state, reason = transfer_status(transfer)
            notes = transfer.get("notes") if isinstance(transfer.get("notes"), dict) else {}
            return TransferUpdate(
                provider_transfer_id=transfer["id"],
                status={"transfer.failed": "failed", "transfer.reversed": "reversed"}.get(
                    kind, "paid"
                ),
                encore_payout_id=notes.get("encore_payout_id", ""),
                reason=reason,
            )
        return None
