"""Notification pages (htmx-enhanced), one-click unsubscribe and Twilio's webhooks."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from twilio.request_validator import RequestValidator, get_signature_algorithm

from notifications import selectors, services
from notifications.models import Channel, Notification
from notifications.rendering import absolute_url

PAGE_SIZE = 20
CHANGED = "notifications:changed"  # htmx event: the bell refreshes itself on it


def _safe_redirect(request, target: str, default: str):
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    site = settings.SITE_URL.rstrip("/")
    if target.startswith(site + "/"):
        return redirect(target[len(site) :])
    return redirect(default)


def _list_context(request) -> dict:
    unread_only = request.GET.get("show") == "unread"
    paginator = Paginator(
        selectors.notifications_for(user=request.user, unread_only=unread_only), PAGE_SIZE
    )
    return {
        "page": paginator.get_page(request.GET.get("page")),
        "unread_only": unread_only,
        "unread": selectors.unread_count(user=request.user),
    }


@login_required
@require_GET
def notification_list(request):
    template = "notifications/_list.html" if request.htmx else "notifications/list.html"
    return render(request, template, _list_context(request))


@login_required
@require_POST
def mark_read(request, notification_id):
    try:
        notification = services.notification_mark_read(
            user=request.user, notification_id=notification_id
        )
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None
    if request.htmx:
        response = render(request, "notifications/_item.html", {"notification": notification})
        response["HX-Trigger"] = CHANGED
        return response
    return _safe_redirect(request, request.POST.get("next", ""), "notifications:list")


@login_required
@require_POST
def mark_all_read(request):
    marked = services.notifications_mark_all_read(user=request.user)
    if request.htmx:
        response = render(request, "notifications/_list.html", _list_context(request))
        response["HX-Trigger"] = CHANGED
        return response
    if marked:
        messages.success(request, "All your notifications are marked read.")
    return redirect("notifications:list")


@login_required
@require_GET
def open_notification(request, notification_id):
    """Follow a notification's link, marking it read on the way."""
    try:
        notification = services.notification_mark_read(
            user=request.user, notification_id=notification_id
        )
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None
    return _safe_redirect(request, notification.link, "notifications:list")


@require_GET
def bell(request):
    """The bell alone, for htmx to swap in. A logged-out page gets 204: htmx leaves it be."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(request, "notifications/_bell.html")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    matrix = selectors.preference_matrix(user=request.user)
    if request.method == "POST":
        changes = [
            (row["event"], cell["channel"], f"{row['event']}:{cell['channel']}" in request.POST)
            for row in matrix
            for cell in row["channels"]
            # Locked and unavailable ones are shown disabled (not submitted): left as they are.
            if not cell["locked"] and cell["available"]
        ]
        services.preferences_update(user=request.user, changes=changes)
        messages.success(request, "Your notification settings are saved.")
        return redirect("notifications:preferences")
    channels = [(channel.value, channel.label) for channel in Channel]
    groups: dict[str, list] = {}
    for row in matrix:
        by_channel = {cell["channel"]: cell for cell in row["channels"]}
        row["cells"] = [by_channel.get(value) for value, _label in channels]
        groups.setdefault(row["group"], []).append(row)
    return render(
        request,
        "notifications/preferences.html",
        {
            "groups": groups,
            "channels": channels,
            "phone_verified": request.user.phone_verified,
        },
    )


@csrf_exempt  # one-click (RFC 8058): mail clients POST without a CSRF token; the link is signed
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    """Works without logging in. GET asks for confirmation (link scanners must not
    unsubscribe anyone); POST, from the page or a mail client's button, turns the email off."""
    try:
        if request.method == "POST":
            person, event_type = services.unsubscribe(token=token)
        else:
            person, event_type = services.unsubscribe_check(token=token)
    except services.InvalidUnsubscribe as error:
        return render(request, "notifications/unsubscribe.html", {"error": str(error)}, status=400)
    return render(
        request,
        "notifications/unsubscribe.html",
        {"person": person, "event_type": event_type, "done": request.method == "POST"},
    )


# --- Twilio webhooks ------------------------------------------------------------------------


def _twilio_signature_valid(request, *extra_urls: str) -> bool:
    """X-Twilio-Signature is an HMAC of the full URL Twilio called and the POSTed fields.

    The URL is taken as the public one (SITE_URL, what Twilio was given) and as this request
    saw it (behind a proxy they can differ); both need the auth token to forge.
    """
    signature = request.headers.get("X-Twilio-Signature", "")
    if not settings.TWILIO_AUTH_TOKEN or not signature:
        return False
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    algorithm = get_signature_algorithm(request.headers.get("X-Twilio-Webhooks-Signature-Settings"))
    urls = {request.build_absolute_uri(), absolute_url(request.get_full_path()), *extra_urls}
    return any(validator.validate(url, request.POST, signature, algorithm) for url in urls if url)


@csrf_exempt
@require_POST
def twilio_status(request):
    """Twilio's status callback: queued -> sent -> delivered (or failed) for a message."""
    if not _twilio_signature_valid(request, settings.TWILIO_STATUS_CALLBACK_URL):
        return HttpResponseForbidden("Invalid signature.")
    services.delivery_status_record(
        provider="twilio",
        provider_id=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@csrf_exempt
@require_POST
def twilio_inbound(request):
    """Incoming messages (configure it as the WhatsApp sender's webhook): a message from a
    person opens WhatsApp's 24-hour window for free-form replies."""
    if not _twilio_signature_valid(request):
        return HttpResponseForbidden("Invalid signature.")
    sender = request.POST.get("From", "")
    if sender.startswith("whatsapp:"):
        services.whatsapp_inbound_record(phone_number=sender.removeprefix("whatsapp:")[:16])
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
