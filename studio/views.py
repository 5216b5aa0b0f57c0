"""The studio's dashboard: offers waiting for an answer (with their deadlines), the work in hand
by stage and due date, and where the musician's money stands.

Thin like the other pages: reads come from ``studio.selectors`` (scoped to the musician), what
the musician may do with an offer from ``orders.permissions.order_actions_for``, and answers go
through orders' own services (``order_accept``, ``order_decline``); their errors are shown with
their HTTP status, never as a 500. The other areas live beside this module: ``views_orders``
(the order workspace), ``views_settings``, ``views_catalog`` and ``views_stats``.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from orders import selectors as orders_selectors
from orders import services as orders_services
from orders.availability import musician_availability
from orders.errors import OrderError
from orders.permissions import order_actions_for
from orders.wording import availability_label
from studio import selectors
from studio.access import musician_required

ANSWERS = ("accept", "decline")


def _dashboard(request, *, status: int = 200):
    user = request.user
    now = timezone.now()
    offers = selectors.offers_waiting(user, now=now)
    active = selectors.orders_active(user)
    unread = orders_selectors.chat_unread_counts(user, [order.pk for order in active])
    groups = selectors.orders_by_stage(active, unread=unread, now=now)
    availability = musician_availability(user)
    return render(
        request,
        "studio/home.html",
        {
            "studio_section": "home",
            "offers": [
                {
                    "offer": offer,
                    "order": offer.order,
                    "terms": orders_selectors.order_terms_for(offer.order, user),
                    "actions": order_actions_for(offer.order, user),
                }
                for offer in offers
            ],
            "groups": groups,
            "active_count": len(active),
            "late_count": sum(group.late for group in groups),
            "earnings": selectors.earnings(user, open_orders=active),
            "availability": availability,
            "availability_label": availability_label(availability),
        },
        status=status,
    )


@musician_required
@require_GET
def home(request):
    return _dashboard(request)


@musician_required
@require_POST
def offer_answer(request, order_id, answer):
    """Accept or decline an offer from the dashboard. Accepting opens the order's workspace."""
    if answer not in ANSWERS:
        raise Http404("No such answer.")
    user = request.user
    order = orders_selectors.orders_visible_to(user).filter(pk=order_id, musician=user).first()
    if order is None:
        raise Http404("No such offer.")
    reason = request.POST.get("reason", "")
    try:
        if "\x00" in reason:
            # PostgreSQL cannot store NUL characters; refused as the order page refuses them.
            raise OrderError("This text contains a character that is not allowed.")
        if answer == "accept":
            orders_services.order_accept(order=order, musician=user)
        else:
            orders_services.order_decline(order=order, musician=user, reason=reason)
    except OrderError as error:
        messages.error(request, error.message)
        return _dashboard(request, status=error.status)
    if answer == "accept":
        messages.success(request, "You accepted the order. Start with the consultation.")
        return redirect("studio:order", order_id=order.pk)
    messages.success(request, "You declined the order. It goes to another musician.")
    return redirect("studio:home")
