"""Commission pages: the commission form, my orders, and the order page with its actions.

Thin: reads go through orders.selectors, changes through orders.services. The services' errors
(orders', billing's, the media pipeline's upload rejections) are shown as messages or on the
field they name, with their HTTP status, never as a 500. htmx enhances the steps, the actions
and the processing status; every form also works as a plain POST.
"""

import logging
import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseStopPolling, reswap, retarget

from audio.errors import MediaRejected, MediaUnavailable
from billing.errors import BillingError
from billing.selectors import payment_awaiting_capture
from orders import selectors, services
from orders.availability import musicians_availability
from orders.errors import Invalid, OrderError, TransitionConflict
from orders.forms import (
    FIELD_STEP,
    LAST_STEP,
    MATCH,
    STEP_TITLES,
    STEPS,
    CommissionForm,
)
from orders.models import (
    STAGES,
    DisputeStatus,
    LyricsChoice,
    MarketplaceSettings,
    MediaStatus,
    Occasion,
    OfferStatus,
    Order,
    OrderOffer,
    OrderStatus,
    RevisionStatus,
    Stage,
)
from orders.permissions import order_actions_for
from orders.services import chat
from orders.wording import availability_label, event_label, event_note, status_label

logger = logging.getLogger(__name__)

S = OrderStatus
PAGE_SIZE = 20
PACKAGES_SHOWN = 50
POLL_SECONDS = 3
EVIDENCE_MESSAGES_OFFERED = 30


FRAGMENT_HEADER = "X-Orders-Fragment"  # orders.js lets htmx swap these in on 4xx answers too


def _redirect(request, url: str):
    """Leave the page: htmx is told to load `url` itself (following a 302 inside an htmx
    request would swap the next page into the current one)."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


def _order_path(order) -> str:
    return reverse("orders:detail", kwargs={"order_id": order.pk})


# --- the commission form ------------------------------------------------------------------------


def _packages_for_form(request):
    """The packages the customer can pick (not their own), the one a link preselected, the
    musician a link picked (None without one), and whether the link picked the viewer
    themselves (a musician on their own card)."""
    queryset = (
        selectors.packages_for(request.user)
        .filter(active=True)
        .exclude(musician=request.user)
        .order_by("musician__display_name", "price", "created_at")
    )
    musician_id = _uuid(request.GET.get("musician"))
    if musician_id is not None:
        queryset = queryset.filter(musician_id=musician_id)
    packages = list(queryset[:PACKAGES_SHOWN])
    preselected = None
    package_id = _uuid(request.GET.get("package"))
    if package_id is not None:
        package = next((p for p in packages if p.pk == package_id), None)
        if package is None:
            package = (
                selectors.packages_for(request.user)
                .filter(pk=package_id, active=True)
                .exclude(musician=request.user)
                .first()
            )
            if package is not None:
                packages.insert(0, package)
        preselected = str(package.pk) if package is not None else None
    musician = None
    if musician_id is not None and musician_id != request.user.pk:
        musician = next(
            (p.musician for p in packages if p.musician_id == musician_id), None
        ) or selectors.musician_public(musician_id)
    own_card = musician_id == request.user.pk or (
        package_id is not None
        and preselected is None
        and selectors.packages_for(request.user)
        .filter(pk=package_id, musician=request.user)
        .exists()
    )
    return packages, preselected, musician, own_card


def _commission_form(request, data=None, *, initial=None):
    """The form with what it shows beside the fields: the packages on offer with their
    musicians' availability, and matching's delivery time for the step-1 date check."""
    packages, preselected, musician, own_card = _packages_for_form(request)
    musicians = [p.musician for p in packages] + ([musician] if musician is not None else [])
    availability = musicians_availability(musicians)
    if initial is not None:
        initial = {"package": preselected, **initial}
    form = CommissionForm(
        data,
        initial=initial,
        packages=packages,
        match_days=MarketplaceSettings.load().match_delivery_days,
        availability=availability,
    )
    form.own_card = own_card
    return form, musician, availability


def _picked(form, musician, availability) -> dict | None:
    """Who the customer is commissioning, named from step 1: the picked package's musician,
    or the musician a link picked; None while nobody is picked (or when matching)."""
    package = form.packages.get(form.picked())
    if package is not None:
        musician = package.musician
    elif musician is None or form.picked() == MATCH:
        return None
    free = availability.get(musician.pk)
    return {
        "musician": musician,
        "package": package,
        "available": free is None or free.available,
        "availability": availability_label(free) if free is not None else "",
    }


def _uuid(value):
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _summary(form) -> list[tuple[str, str]]:
    """The brief of steps 1 and 2 as the customer will check it before paying."""
    data = getattr(form, "cleaned_data", {}) or {}
    rows = []
    for field in (*STEPS[1], *STEPS[2]):
        value = data.get(field)
        if value in (None, "", []):
            continue
        if field == "occasion":
            value = Occasion(value).label
        elif field == "lyrics_choice":
            value = LyricsChoice(value).label
        elif field == "references":
            value = "\n".join(value)
        elif field == "occasion_date":
            value = date_format(value, "j F Y")
        rows.append((form[field].label, value))
    return rows


def _commission_render(
    request, form, *, step: int, show_errors: bool, status: int = 200, picked=None
):
    step_fields = STEPS[step]
    if not show_errors and form.is_bound:
        # A step shown for the first time is not wrong yet (Django would mark it invalid).
        for name in step_fields:
            form.errors.pop(name, None)
    carried = []
    for name in form.fields:
        if name in step_fields:
            continue
        value = form[name].value()
        if value in (None, ""):
            continue
        carried.append((name, value))
    fields = [form[name] for name in step_fields]
    context = {
        "form": form,
        "step": step,
        "steps": [(n, STEP_TITLES[n]) for n in STEPS],
        "step_title": STEP_TITLES[step],
        "last_step": LAST_STEP,
        "fields": fields,
        "has_errors": any(field.errors for field in fields),
        "error_count": sum(1 for field in fields if field.errors),
        "carried": carried,
        "summary": _summary(form) if step == LAST_STEP else [],
        "has_packages": bool(form.packages),
        "hidden_packages": form.hidden_note if step == LAST_STEP else "",
        "own_card": form.own_card,
        "picked": picked,
    }
    if request.htmx:
        response = render(request, "orders/_commission_form.html", context, status=status)
        response[FRAGMENT_HEADER] = "1"
        return response
    return render(request, "orders/new.html", context, status=status)


def _step_of(value) -> int | None:
    try:
        step = int(value)
    except (TypeError, ValueError):
        return None
    return step if step in STEPS else None


@login_required
@require_http_methods(["GET", "POST"])
def order_new(request):
    """The commission form. Each "Next" checks its step on the server; the last step places
    the order and sends the customer to pay the deposit. A single POST of every field (no
    ``step``) is placed at once, as the form does without JavaScript in one go."""
    if request.method == "GET":
        initial = {"lyrics_choice": LyricsChoice.MUSICIAN}
        # An occasion page's link names its occasion; anything else is ignored, not an error.
        if request.GET.get("occasion") in Occasion.values:
            initial["occasion"] = request.GET["occasion"]
        form, musician, availability = _commission_form(request, initial=initial)
        picked = _picked(form, musician, availability)
        return _commission_render(request, form, step=1, show_errors=False, picked=picked)

    form, musician, availability = _commission_form(request, request.POST)
    picked = _picked(form, musician, availability)
    step = _step_of(request.POST.get("step"))
    action = request.POST.get("action", "submit")
    if step is not None and action == "back":
        return _commission_render(
            request, form, step=max(1, step - 1), show_errors=False, picked=picked
        )
    if step is not None and step < LAST_STEP and action != "submit":
        wrong = form.first_step_with_errors(step)
        if wrong is not None:
            return _commission_render(
                request, form, step=wrong, show_errors=True, status=400, picked=picked
            )
        return _commission_render(request, form, step=step + 1, show_errors=False, picked=picked)

    if not form.is_valid():
        wrong = form.first_step_with_errors() or LAST_STEP
        return _commission_render(
            request, form, step=wrong, show_errors=True, status=400, picked=picked
        )
    try:
        order = services.order_place(customer=request.user, **form.place_arguments())
    except BillingError as error:
        messages.error(request, error.message)
        return _commission_render(
            request, form, step=LAST_STEP, show_errors=True, status=error.status, picked=picked
        )
    except OrderError as error:
        if error.field in form.fields:
            form.add_error(error.field, error.message)
            wrong = FIELD_STEP[error.field]
        else:
            messages.error(request, error.message)
            wrong = LAST_STEP
        return _commission_render(
            request, form, step=wrong, show_errors=True, status=error.status, picked=picked
        )
    try:
        checkout = services.order_deposit_checkout(
            order=order, actor=request.user, return_to=_order_path(order)
        )
    except (OrderError, BillingError) as error:
        logger.warning("deposit checkout of order %s could not start: %s", order.pk, error)
        messages.warning(
            request,
            f"Your order is saved, but the payment page could not open ({error.message}). "
            "Pay the deposit from this page.",
        )
        return _redirect(request, _order_path(order))
    return _redirect(request, checkout.url)


# --- my orders ----------------------------------------------------------------------------------


@login_required
@require_GET
def order_list(request):
    """My orders, as customer and as musician; for staff, every order (the selector scopes
    what each person may see), narrowed by status."""
    user = request.user
    show = request.GET.get("show", "all")
    mine = Q(customer=user) | Q(musician=user)
    if show == "commissioned":
        mine = Q(customer=user)
    elif show == "making":
        mine = Q(musician=user)
    else:
        show = "all"
        if user.is_staff:
            mine = Q()
    status = request.GET.get("status", "")
    if status not in S.values:
        status = ""
    queryset = selectors.orders_visible_to(user).filter(mine)
    if status:
        queryset = queryset.filter(status=status)
    queryset = queryset.prefetch_related(
        Prefetch(
            "offers",
            queryset=OrderOffer.objects.filter(musician=user, status=OfferStatus.PENDING),
            to_attr="my_pending_offers",
        )
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    unread = selectors.chat_unread_counts(user, [order.pk for order in page.object_list])
    rows = []
    for order in page.object_list:
        offer = order.my_pending_offers[0] if order.my_pending_offers else None
        role = _role(order, user)
        offer_over = offer is None or offer.expires_at <= now
        label = status_label(order.status, role, offer_over=offer_over)
        if role == "staff":
            who = f"Commissioned by {order.customer.display_name}"
            if order.musician_id is None:
                who += ", no musician yet"
            elif order.status == S.MATCHING:
                who += f", offered to {order.musician.display_name}"
            else:
                who += f" from {order.musician.display_name}"
        elif order.customer_id == user.pk:
            who = (
                f"Commissioned by you from {order.musician.display_name}"
                if order.musician_id and order.status != S.MATCHING
                else "Commissioned by you"
            )
        elif offer is not None:
            who = f"Offered to you by {order.customer.display_name}"
        else:
            who = f"You make it for {order.customer.display_name}"
        rows.append(
            {
                "order": order,
                "who": who,
                "offer": offer,
                "status": label,
                "unread": unread.get(order.pk, 0),
            }
        )
    return render(
        request,
        "orders/list.html",
        {
            "page": page,
            "rows": rows,
            "show": show,
            "status": status,
            "statuses": S.choices,
            "is_musician": user.is_musician,
            "is_staff": user.is_staff,
        },
    )


# --- the order page -----------------------------------------------------------------------------


def _review_of(order):
    try:
        return order.review
    except Order.review.RelatedObjectDoesNotExist:
        return None


def _fingerprint(status, stage, versions, deliveries, payments) -> str:
    """What the polling compares: it changes when anything the page shows moves on."""
    parts = [status, stage]
    parts += [f"v{number}:{state}" for number, state in versions]
    parts += [f"d{number}:{state}" for number, state in deliveries]
    parts += [f"p:{state}" for state in payments]
    return "|".join(parts)


def _pending(versions, deliveries, payments) -> bool:
    """Something the page waits for: a draft or finals in the pipeline, or a payment the
    provider authorized and is about to capture."""
    return (
        any(state == MediaStatus.PROCESSING for _, state in versions)
        or any(state == MediaStatus.PROCESSING for _, state in deliveries)
        or any(payment_awaiting_capture(state) for state in payments)
    )


def _role(order, user) -> str:
    if order.customer_id == user.pk:
        return "customer"
    if order.musician_id is not None and order.musician_id == user.pk:
        return "musician"
    return "staff"


def _next_stage_label(order) -> str:
    if order.stage not in STAGES:
        return Stage(STAGES[0]).label
    index = STAGES.index(order.stage)
    return Stage(STAGES[index + 1]).label if index + 1 < len(STAGES) else ""


def _downloads(order, user, role):
    """Fresh links on every view: to the customer once completed, to the musician once the
    finals passed QC. ([], note) when there are none to give."""
    ready = any(d.status == MediaStatus.READY for d in order.deliveries.all())
    if not ready or role == "staff":
        return []
    if role == "customer" and order.status != S.COMPLETED:
        return []
    try:
        links = services.order_downloads(order=order, user=user)
    except (OrderError, MediaUnavailable) as error:
        logger.info("no downloads for order %s: %s", order.pk, error)
        return []
    # The page links to order_download, which signs a fresh link on each click.
    return [
        {
            **link,
            "url": reverse("orders:download", kwargs={"order_id": order.pk, "fmt": link["format"]}),
        }
        for link in links
    ]


# Once the finals are delivered the drafts are no longer previews of a song to come: the
# note that the finals come without the watermark would promise what already happened.
FINISHED = (S.DELIVERED, S.COMPLETED, S.CANCELLED, S.REFUNDED)


def _previewing(order, deliveries) -> bool:
    """The versions are still previews: no finals are out (a dispute may follow delivery)."""
    return order.status not in FINISHED and not any(
        d.status == MediaStatus.READY for d in deliveries
    )


def _version_link(name: str, order, version) -> str:
    return reverse(name, kwargs={"order_id": order.pk, "number": version.number})


def order_detail_context(request, order, *, form_errors=None, form_values=None) -> dict:
    """Everything the order page shows, for whoever asks; the studio's workspace renders the
    same partials from it, so both ask the same rules."""
    user = request.user
    role = _role(order, user)
    events = list(order.events.all())
    for event in events:
        event.label = event_label(event.name, role)
        event.shown_note = event_note(event, order=order, role=role)
    versions = list(order.versions.all())
    deliveries = list(order.deliveries.all())
    revision_requests = list(order.revision_requests.all())
    pending_revision = next(
        (r for r in revision_requests if r.status == RevisionStatus.PENDING), None
    )
    my_offer = next(
        (
            o
            for o in order.offers.all()
            if o.musician_id == user.pk and o.status == OfferStatus.PENDING
        ),
        None,
    )
    disputes = list(order.disputes.all())
    open_dispute = next((d for d in disputes if d.status == DisputeStatus.OPEN), None)
    settled = [d for d in disputes if d.status == DisputeStatus.RESOLVED and d.resolved_at]
    last_settled = max(settled, key=lambda d: d.resolved_at) if settled else None
    payments = list(selectors.order_payments(order))
    version_rows = [
        {
            "version": version,
            # Stable page links that answer with a freshly signed one (see version_preview).
            "preview_url": (
                _version_link("orders:version_preview", order, version)
                if services.version_preview_url(version=version, user=user)
                else None
            ),
            "original_url": (
                _version_link("orders:version_original", order, version)
                if role == "musician" and services.version_original_url(version=version, user=user)
                else None
            ),
        }
        for version in reversed(versions)
    ]
    versions_state = [(v.number, v.status) for v in versions]
    deliveries_state = [(d.number, d.status) for d in deliveries]
    payments_state = [p.status for p in payments]
    watching = _pending(versions_state, deliveries_state, payments_state)
    actions = order_actions_for(order, user)
    offer_over = my_offer is None or my_offer.expires_at <= timezone.now()
    return {
        "order": order,
        "role": role,
        "status_label": status_label(order.status, role, offer_over=offer_over),
        "previewing": _previewing(order, deliveries),
        "timeline": selectors.order_timeline(order, events, role=role),
        # The price and terms as the viewer reads them: a budget, or the offer they answer.
        "terms": selectors.order_terms_for(order, user),
        "events": events,
        "version_rows": version_rows,
        "versions": versions,
        # The draft the customer approves or asks changes to: the newest one ready to hear.
        "latest_version": next(
            (v for v in reversed(versions) if v.status == MediaStatus.READY), None
        ),
        "deliveries": list(reversed(deliveries)),
        "revision_requests": revision_requests,
        "pending_revision": pending_revision,
        "answering": next(
            (r for r in reversed(revision_requests) if r.status == RevisionStatus.GRANTED), None
        ),
        "extra_revision": order.revisions_used >= order.revisions_included,
        "my_offer": my_offer,
        "disputes": disputes,
        "last_settled_dispute": last_settled,
        # The chat messages a side can point its dispute evidence at: the latest ones.
        "evidence_messages": (
            selectors.chat_messages_to_cite(order, limit=EVIDENCE_MESSAGES_OFFERED)
            if "dispute_evidence" in actions
            else []
        ),
        "open_dispute": open_dispute,
        "payments": payments,
        "review": _review_of(order),
        "downloads": _downloads(order, user, role),
        "actions": actions,
        "next_stage": _next_stage_label(order),
        "watching": watching,
        "fingerprint": _fingerprint(
            order.status, order.stage, versions_state, deliveries_state, payments_state
        ),
        "poll_seconds": POLL_SECONDS,
        "form_errors": form_errors or {},
        "form_values": form_values or {},
    }


def _detail_render(request, order, *, status=200, fragment=None, **extra):
    fragment = bool(request.htmx) if fragment is None else fragment
    context = order_detail_context(request, order, **extra)
    context["show_messages"] = fragment
    template = "orders/_order.html" if fragment else "orders/detail.html"
    response = render(request, template, context, status=status)
    if fragment:
        response[FRAGMENT_HEADER] = "1"
        # The fragment replaces the order body, whichever element asked for it.
        retarget(response, "#order-body")
        reswap(response, "outerHTML")
    return response


@login_required
@require_GET
def order_detail(request, order_id):
    order = selectors.order_detail_for(request.user, order_id)
    if order is None:
        raise Http404("No such order.")
    return _detail_render(request, order)


@login_required
@require_GET
def order_watch(request, order_id):
    """The poll of a page waiting for the pipeline or a payment: 204 while nothing moved, the
    fresh order body once something did, 286 (htmx: stop polling) when nothing is pending."""
    order = (
        selectors.orders_visible_to(request.user)
        .select_related(None)
        .filter(pk=order_id)
        .only("pk", "status", "stage", "customer_id", "musician_id")
        .first()
    )
    if order is None:
        raise Http404("No such order.")
    versions = list(order.versions.values_list("number", "status"))
    deliveries = list(order.deliveries.values_list("number", "status"))
    payments = list(selectors.order_payments(order).values_list("status", flat=True))
    current = _fingerprint(order.status, order.stage, versions, deliveries, payments)
    if current != request.GET.get("v", ""):
        detailed = selectors.order_detail_for(request.user, order.pk)
        if detailed is None:
            raise Http404("No such order.")
        return _detail_render(request, detailed, fragment=True)
    if not _pending(versions, deliveries, payments):
        return HttpResponseStopPolling()
    return HttpResponse(status=204)


# --- the order chat ------------------------------------------------------------------------------


@login_required
@require_GET
def order_chat(request, order_id):
    """The chat panel of the order page (loaded by htmx): the latest messages, the unread count
    and how far the other side has read. orders_chat.js takes it live over ws/orders/<id>/."""
    order = selectors.chat_order_for(request.user, order_id)
    if order is None:
        raise Http404("No such order.")
    messages_shown = selectors.chat_messages_latest(order)
    read = selectors.chat_read_marks(order)
    others_read = max(
        (up_to for user_id, up_to in read.items() if user_id != str(request.user.pk)), default=0
    )
    return render(
        request,
        "orders/_chat.html",
        {
            "order": order,
            "chat_messages": [
                {**chat.message_data(m, order), "mine": m.sender_id == request.user.pk}
                for m in messages_shown
            ],
            "last_id": messages_shown[-1].pk if messages_shown else 0,
            "unread": selectors.chat_unread_count(order, request.user),
            "my_read": read.get(str(request.user.pk), 0),
            "others_read": others_read,
            "can_send": chat.may_chat(order, request.user),
        },
    )


# --- stable media links -------------------------------------------------------------------------
# The page's players and links point here, not at a signed link: a signed link expires (a page
# left open stops playing, a seek after the expiry fails), these answer with a fresh one.


def _signed_redirect(url: str | None):
    if url is None:
        raise Http404("Nothing to play here.")
    response = HttpResponseRedirect(url)
    # Each visit is issued its own link: never reuse a redirect whose link may have expired.
    response["Cache-Control"] = "no-store"
    return response


def _visible_version(request, order_id, number):
    """The version of an order the viewer may see (the rule of the page and the API: the
    order's customer, its musician, staff), or 404."""
    order = selectors.orders_visible_to(request.user).filter(pk=order_id).first()
    if order is None:
        raise Http404("No such order.")
    version = selectors.versions_of(order).filter(number=number).first()
    if version is None:
        raise Http404("No such version.")
    return version


@login_required
@require_GET
def version_preview(request, order_id, number):
    """302 to a freshly signed link, issued to the viewer, to the version's watermarked preview."""
    version = _visible_version(request, order_id, number)
    return _signed_redirect(services.version_preview_url(version=version, user=request.user))


@login_required
@require_GET
def version_original(request, order_id, number):
    """302 to a freshly signed link to the musician's own upload (the musician and staff)."""
    version = _visible_version(request, order_id, number)
    return _signed_redirect(services.version_original_url(version=version, user=request.user))


@login_required
@require_GET
def order_download(request, order_id, fmt):
    """302 to a freshly signed download of the finals in one format, for whoever the service
    gives downloads to (the customer once completed, the musician once they passed QC)."""
    order = selectors.orders_visible_to(request.user).filter(pk=order_id).first()
    if order is None:
        raise Http404("No such order.")
    try:
        links = services.order_downloads(order=order, user=request.user)
    except (OrderError, MediaUnavailable) as error:
        raise Http404(str(error)) from error
    return _signed_redirect(next((link["url"] for link in links if link["format"] == fmt), None))


# --- actions ------------------------------------------------------------------------------------


@dataclass
class Done:
    message: str
    leave_to: str = ""  # the order is no longer the viewer's (a declined offer)


@dataclass
class Away:
    url: str  # a checkout: the customer pays there and comes back to the order


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(request, name: str) -> str:
    """A posted text field. NUL characters are refused here as the API's serializers refuse
    them: PostgreSQL cannot store them (a 500 otherwise)."""
    value = request.POST.get(name, "")
    if "\x00" in value:
        raise Invalid("This text contains a character that is not allowed.", field=name)
    return value


def _version_numbers(request) -> list[int]:
    numbers = [_int(value) for value in request.POST.getlist("versions")]
    if any(number is None for number in numbers):
        raise Invalid("Choose versions from the list.", field="versions")
    return numbers


def _upload(request, *, missing: str):
    upload = request.FILES.get("audio")
    if upload is None:
        raise Invalid(missing, field="audio")
    return upload


def _pay_deposit(request, order):
    checkout = services.order_deposit_checkout(
        order=order, actor=request.user, return_to=_order_path(order)
    )
    return Away(checkout.url)


def _cancel(request, order):
    services.order_cancel(order=order, actor=request.user, reason=_text(request, "reason"))
    return Done("The order is cancelled. A deposit you paid is refunded in full.")


def _approve(request, order):
    services.order_approve(
        order=order, customer=request.user, version=_int(request.POST.get("version"))
    )
    return Done("You approved the draft. The musician now prepares the finals.")


def _request_revision(request, order):
    revision = services.order_request_revision(
        order=order,
        customer=request.user,
        feedback=_text(request, "feedback"),
        version=_int(request.POST.get("version")),
    )
    if revision.status == RevisionStatus.PENDING:
        return Done(
            "Your included revisions are used up, so this one needs the musician's consent. "
            "We will tell you their answer."
        )
    return Done("Your feedback is with the musician. The next version will answer it.")


def _pay_balance(request, order):
    checkout = services.order_balance_checkout(
        order=order, actor=request.user, return_to=_order_path(order)
    )
    if checkout is None:
        return Done("Nothing more to pay: your order is complete.")
    return Away(checkout.url)


def _review(request, order):
    services.review_create(
        order=order,
        customer=request.user,
        rating=_int(request.POST.get("rating")),
        text=_text(request, "text"),
    )
    return Done("Thank you for your review.")


def _open_dispute(request, order):
    services.order_open_dispute(
        order=order,
        actor=request.user,
        reason=_text(request, "reason"),
        versions=_version_numbers(request),
    )
    return Done("Your dispute is open. Our team looks at it and writes to you both.")


def _message_ids(request) -> list[int]:
    ids = [_int(value) for value in request.POST.getlist("messages")]
    if any(message_id is None for message_id in ids):
        raise Invalid("Choose messages from the list.", field="messages")
    return ids


def _dispute_evidence(request, order):
    services.dispute_evidence_add(
        order=order,
        actor=request.user,
        text=_text(request, "text"),
        versions=_version_numbers(request),
        messages=_message_ids(request),
    )
    return Done("Your evidence is added to the dispute.")


def _accept(request, order):
    services.order_accept(order=order, musician=request.user)
    return Done("You accepted the order. Start with the consultation.")


def _decline(request, order):
    services.order_decline(order=order, musician=request.user, reason=_text(request, "reason"))
    return Done("You declined the order.", leave_to=reverse("orders:list"))


def _advance_stage(request, order):
    order = services.order_advance_stage(
        order=order, musician=request.user, note=_text(request, "note")
    )
    return Done(f"The order is now in {order.get_stage_display().lower()}.")


def _upload_draft(request, order):
    upload = _upload(request, missing="Choose the audio file of your draft.")
    version = services.version_upload(
        order=order, musician=request.user, upload=upload, note=_text(request, "note")
    )
    return Done(f"v{version.number} is uploaded. The customer hears it once its preview is ready.")


def _revision_consent(request, order):
    answer = request.POST.get("answer")
    if answer not in ("accept", "decline"):
        # A declined revision cannot be taken back: a post that does not say which is refused.
        raise Invalid("Answer yes or no to the extra revision.")
    accept = answer == "accept"
    services.revision_consent(
        order=order, musician=request.user, accept=accept, note=_text(request, "note")
    )
    if accept:
        return Done("You agreed to make the extra revision.")
    return Done("You declined the extra revision. The customer is told.")


def _deliver(request, order):
    upload = _upload(request, missing="Choose the audio file of your finals.")
    services.delivery_upload(order=order, musician=request.user, upload=upload)
    return Done("Your finals are uploaded. They go to the customer once they pass the checks.")


# name: (handler, what it does, the fields its form shows errors on)
ACTIONS = {
    "pay_deposit": (_pay_deposit, "pay the deposit", ()),
    "cancel": (_cancel, "cancel the order", ("reason",)),
    "approve": (_approve, "approve the draft", ()),
    "request_revision": (_request_revision, "request a revision", ("feedback",)),
    "pay_balance": (_pay_balance, "pay the balance", ()),
    "review": (_review, "review the order", ("rating", "text")),
    "open_dispute": (_open_dispute, "open a dispute", ("reason", "versions")),
    "dispute_evidence": (_dispute_evidence, "add evidence", ("text", "versions", "messages")),
    "accept": (_accept, "accept the order", ()),
    "decline": (_decline, "decline the order", ("reason",)),
    "advance_stage": (_advance_stage, "move to the next stage", ("note",)),
    "upload_draft": (_upload_draft, "upload a draft", ("audio", "note")),
    "revision_consent": (_revision_consent, "answer the revision request", ("note",)),
    "deliver": (_deliver, "upload the finals", ("audio",)),
}


STATE_PHRASES = {
    S.PLACED: "waiting for its deposit",
    S.MATCHING: "still looking for its musician",
    S.IN_PROGRESS: "in progress",
    S.IN_REVIEW: "in review",
    S.REVISION_REQUESTED: "being revised",
    S.APPROVED: "approved",
    S.DELIVERED: "delivered",
    S.COMPLETED: "completed",
    S.CANCELLED: "cancelled",
    S.DISPUTED: "on hold for a dispute",
    S.REFUNDED: "refunded",
}


# The customer answered a draft that a newer one replaced (the service's 409).
SUPERSEDED = "version_superseded"


def _failure(
    request, order_id, action, *, message: str, status: int, field=None, conflict=False, code=""
):
    """Render the order again with the error: on its field when the action's form has it,
    as a message otherwise. Never a 500."""
    order = selectors.order_detail_for(request.user, order_id)
    if order is None:
        raise Http404("No such order.")
    if code == SUPERSEDED:
        # The fragment below shows the new draft; say which one to listen to.
        newest = max((v.number for v in order.versions.all()), default=None)
        message = (
            f"A newer draft (v{newest}) arrived: listen to it first, then approve it or ask "
            "for changes."
        )
    elif conflict:
        # The service names the states in code; people read what the order is doing.
        state = STATE_PHRASES[order.status]
        message = f"You cannot {ACTIONS[action][1]} now: this order is {state}."
    form_errors = {}
    if field and field in ACTIONS[action][2]:
        form_errors = {action: {field: message}}
    messages.error(request, message)
    posted = {key: request.POST.get(key, "") for key in ACTIONS[action][2]}
    return _detail_render(
        request, order, status=status, form_errors=form_errors, form_values={action: posted}
    )


@login_required
@require_POST
def order_action(request, order_id, action):
    if action not in ACTIONS:
        raise Http404("No such action.")
    order = selectors.orders_visible_to(request.user).filter(pk=order_id).first()
    if order is None:
        raise Http404("No such order.")
    handler = ACTIONS[action][0]
    try:
        outcome = handler(request, order)
    except TransitionConflict as error:
        return _failure(
            request,
            order_id,
            action,
            message=error.message,
            status=error.status,
            conflict=True,
            code=error.code,
        )
    except OrderError as error:
        return _failure(
            request,
            order_id,
            action,
            message=error.message,
            status=error.status,
            field=error.field,
            code=error.code,
        )
    except BillingError as error:
        return _failure(request, order_id, action, message=error.message, status=error.status)
    except MediaRejected as error:
        return _failure(
            request, order_id, action, message=error.detail, status=error.http_status, field="audio"
        )
    except MediaUnavailable as error:
        return _failure(request, order_id, action, message=str(error), status=403)
    if isinstance(outcome, Away):
        return _redirect(request, outcome.url)
    messages.success(request, outcome.message)
    if outcome.leave_to:
        return _redirect(request, outcome.leave_to)
    if not request.htmx:
        return redirect("orders:detail", order_id=order.pk)
    detailed = selectors.order_detail_for(request.user, order.pk)
    if detailed is None:
        return _redirect(request, reverse("orders:list"))
    return _detail_render(request, detailed)
