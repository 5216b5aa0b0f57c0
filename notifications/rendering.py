"""Turning an event and its context into the words each channel sends."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from notifications import formatting
from notifications.catalogue import EventType

SITE_NAME = "Encore"
SMS_MAX_CHARS = 1600  # Twilio's limit for one message body


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class RenderedInApp:
    title: str
    body: str
    link: str


def absolute_url(url: str) -> str:
    """Links in mail and texts must be absolute; in-app links may stay relative."""
    if not url or "://" in url:
        return url
    return settings.SITE_URL.rstrip("/") + "/" + url.lstrip("/")


def _name(recipient) -> str:
    return recipient.display_name or recipient.email.split("@", 1)[0]


def template_context(event_type: EventType, recipient, stored: dict, **extra) -> dict:
    """The context every template of `event_type` gets (see notifications.catalogue)."""
    context: dict = {}
    for key, value in stored.items():
        if key.endswith("_at") and isinstance(value, str):
            moment = parse_datetime(value)
            context[key] = moment or value
            if moment is not None:
                context.setdefault(key[:-3], formatting.when(moment))
        else:
            context[key] = value
    if "amount_minor" in context and "currency" in context:
        context.setdefault("amount", formatting.money(context["amount_minor"], context["currency"]))
    if isinstance(context.get("url"), str):
        context["url"] = absolute_url(context["url"])
    context.setdefault("name", _name(recipient))
    context.update(
        recipient=recipient,
        event=event_type,
        site_name=SITE_NAME,
        site_url=settings.SITE_URL.rstrip("/"),
        preferences_url=absolute_url(reverse("notifications:preferences")),
        **extra,
    )
    return context


def render_text(template_name: str, context: dict) -> str:
    """Render a plain-text template: no HTML escaping, surrounding blank space trimmed."""
    template = get_template(template_name).template  # the engine's own Template
    text = template.render(Context(context, autoescape=False))
    return re.sub(r"\n[ \t]*\n(?:[ \t]*\n)+", "\n\n", text).strip()


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def render_email(event_type: EventType, context: dict) -> RenderedEmail:
    return RenderedEmail(
        subject=_one_line(render_text(event_type.template("subject"), context)),
        text=render_text(event_type.template("text"), context) + "\n",
        html=render_to_string(event_type.template("html"), context),
    )


def render_sms(event_type: EventType, context: dict) -> str:
    return render_text(event_type.template("sms"), context)[:SMS_MAX_CHARS]


def render_in_app(event_type: EventType, stored: dict, context: dict) -> RenderedInApp:
    lines = render_text(event_type.template("in_app"), context).splitlines()
    title = _one_line(lines[0]) if lines else event_type.label
    body = "\n".join(lines[1:]).strip()
    link = stored.get("url") if isinstance(stored.get("url"), str) else ""
    return RenderedInApp(title=title[:200], body=body, link=(link or "")[:500])


def whatsapp_variables(event_type: EventType, context: dict) -> dict[str, str]:
    """Values for an approved template's ``{{1}}``, ``{{2}}``..., from the event's context."""
    return {
        str(position): str(context.get(key, ""))[:1024]
        for position, key in enumerate(event_type.whatsapp_variables, start=1)
    }
