"""The channels' providers: Django's email backend, and Twilio for SMS and WhatsApp.

Each sender returns a :class:`SendResult` or raises :class:`TransientError` (worth retrying:
timeouts, 5xx, throttling) or :class:`PermanentError` (retrying cannot help: an invalid or
unsubscribed number, a refused address, a missing template).

Without ``TWILIO_ACCOUNT_SID``/``TWILIO_AUTH_TOKEN`` (or without a sender for the channel) SMS
and WhatsApp are written to the log instead, and the delivery is recorded as ``logged`` with
provider ``log``.
"""

import json
import logging
import smtplib
from dataclasses import dataclass
from datetime import timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from notifications.catalogue import EventType
from notifications.models import Channel, DeliveryStatus, WhatsAppInbound
from notifications.rendering import RenderedEmail, absolute_url

logger = logging.getLogger(__name__)

WHATSAPP_WINDOW = timedelta(hours=24)
# Twilio error codes that are worth another try although their HTTP status is a 4xx.
TWILIO_TRANSIENT_CODES = {20429, 20500, 20503, 30001}


class DeliveryError(Exception):
    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = str(code or "")


class TransientError(DeliveryError):
    """The provider may accept the same message later: retry with backoff."""


class PermanentError(DeliveryError):
    """The provider will never accept this message: do not retry."""


@dataclass(frozen=True)
class SendResult:
    status: str
    provider: str
    to: str
    provider_id: str = ""


# --- email ----------------------------------------------------------------------------------


def email_provider_name() -> str:
    """``smtp``, ``console``, ``locmem``...: the module of the configured backend."""
    parts = settings.EMAIL_BACKEND.rsplit(".", 2)
    return parts[-2] if len(parts) >= 2 else settings.EMAIL_BACKEND


def send_email(*, to: str, rendered: RenderedEmail, unsubscribe_url: str = "") -> SendResult:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "encore.local"
    message_id = make_msgid(domain=domain)
    headers = {"Message-ID": message_id}
    if unsubscribe_url:
        # RFC 2369 + RFC 8058: mail clients show an unsubscribe button that POSTs here.
        headers["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers,
    )
    message.attach_alternative(rendered.html, "text/html")
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _message in error.recipients.values()]
        if codes and all(400 <= code < 500 for code in codes):
            raise TransientError(f"recipient deferred: {error.recipients}", code=codes[0]) from None
        raise PermanentError(
            f"recipient refused: {error.recipients}", code=codes[0] if codes else ""
        ) from None
    except smtplib.SMTPServerDisconnected as error:
        raise TransientError(f"SMTP server disconnected: {error}") from None
    except smtplib.SMTPResponseException as error:
        text = f"SMTP {error.smtp_code}: {error.smtp_error!r}"
        if 400 <= error.smtp_code < 500:
            raise TransientError(text, code=error.smtp_code) from None
        raise PermanentError(text, code=error.smtp_code) from None
    except (TimeoutError, ConnectionError, OSError) as error:
        raise TransientError(f"mail server unreachable: {error}") from None
    return SendResult(
        status=DeliveryStatus.SENT, provider=email_provider_name(), to=to, provider_id=message_id
    )


# --- Twilio ---------------------------------------------------------------------------------

_http_client: HttpClient | None = None


def http_client() -> HttpClient:
    """The HTTP client the Twilio SDK uses (tests replace this boundary with a fake)."""
    global _http_client
    if _http_client is None:
        _http_client = TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS)
    return _http_client


def twilio_client() -> Client:
    return Client(
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client()
    )


def _sender(channel: str) -> dict:
    """``from_`` / ``messaging_service_sid`` for a channel; empty when there is none."""
    if channel == Channel.WHATSAPP and settings.TWILIO_WHATSAPP_FROM:
        number = settings.TWILIO_WHATSAPP_FROM.removeprefix("whatsapp:")
        return {"from_": f"whatsapp:{number}"}
    if channel == Channel.SMS and settings.TWILIO_SMS_FROM:
        return {"from_": settings.TWILIO_SMS_FROM}
    if settings.TWILIO_MESSAGING_SERVICE_SID:
        return {"messaging_service_sid": settings.TWILIO_MESSAGING_SERVICE_SID}
    return {}


def twilio_configured(channel: str) -> bool:
    return bool(settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN and _sender(channel))


def status_callback_url() -> str:
    """Where Twilio reports status changes; empty when the site is not reachable from outside."""
    if settings.TWILIO_STATUS_CALLBACK_URL:
        return settings.TWILIO_STATUS_CALLBACK_URL
    url = absolute_url(reverse("notifications:twilio_status"))
    host = urlsplit(url).hostname or ""
    if host in {"127.0.0.1", "localhost", "::1", "testserver"} or host.endswith(".localhost"):
        return ""
    return url


def whatsapp_window_open(phone_number: str, *, now=None) -> bool:
    """Has this number written to us on WhatsApp in the last 24 hours?"""
    now = now or timezone.now()
    return WhatsAppInbound.objects.filter(
        phone_number=phone_number, last_inbound_at__gt=now - WHATSAPP_WINDOW
    ).exists()


def _twilio_error(error: Exception) -> DeliveryError:
    status = getattr(error, "status", None) or 0
    code = getattr(error, "code", None)
    message = getattr(error, "msg", None) or getattr(error, "title", None) or str(error)
    text = f"Twilio {status} (code {code}): {message}"
    if status >= 500 or status == 429 or code in TWILIO_TRANSIENT_CODES:
        return TransientError(text, code=code or status)
    return PermanentError(text, code=code or status)


def send_twilio(
    *,
    channel: str,
    to: str,
    body: str,
    content_sid: str = "",
    content_variables: dict | None = None,
) -> SendResult:
    """Send an SMS or a WhatsApp message (free-form `body`, or an approved template)."""
    address = f"whatsapp:{to}" if channel == Channel.WHATSAPP else to
    if not twilio_configured(channel):
        if content_sid:
            detail = f"template {content_sid} {json.dumps(content_variables or {})}"
        else:
            detail = body
        logger.info("%s (log only, Twilio not configured) to %s: %s", channel, to, detail)
        return SendResult(status=DeliveryStatus.LOGGED, provider="log", to=address)

    params: dict = {"to": address, **_sender(channel)}
    callback = status_callback_url()
    if callback:
        params["status_callback"] = callback
    if content_sid:
        params["content_sid"] = content_sid
        params["content_variables"] = json.dumps(content_variables or {})
    else:
        params["body"] = body
    try:
        message = twilio_client().messages.create(**params)
    except (TwilioRestException, TwilioServiceException) as error:
        raise _twilio_error(error) from None
    except (requests.Timeout, requests.ConnectionError) as error:
        raise TransientError(f"Twilio unreachable: {error}") from None
    return SendResult(
        status=DeliveryStatus.SENT, provider="twilio", to=address, provider_id=message.sid or ""
    )


def whatsapp_template(event_type: EventType) -> str:
    """The approved Content SID for an event, or '' when none is configured."""
    return settings.TWILIO_WHATSAPP_CONTENT_SIDS.get(event_type.name, "")
