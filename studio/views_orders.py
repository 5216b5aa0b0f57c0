"""The musician's orders: the list with its filters, and the order workspace.

The workspace is the order page itself inside the studio: the same context
(``orders.views.order_detail_context``) and the same partials (``orders/_order.html`` with its
actions, timeline and versions, the chat panel), so every action still posts to orders' own
views, asks ``order_actions_for`` and goes through orders' services; their answers swap the
order body in place, here as on /orders/<id>/. The studio adds the uploads panel beside it:
each draft's and each finals upload's processing, live over ws/events/ (js/studio.js), and the
quality checks the media pipeline made of it.
"""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from orders import selectors as orders_selectors
from orders.models import STAGES, Stage
from orders.views import order_detail_context
from studio import selectors
from studio.access import musician_required

PAGE_SIZE = 20


@musician_required
@require_GET
def order_list(request):
    user = request.user
    show = request.GET.get("show", "active")
    if show not in selectors.ORDER_FILTERS:
        show = "active"
    stage = request.GET.get("stage", "")
    if stage not in STAGES:
        stage = ""
    search = request.GET.get("q", "").strip()[:100]
    queryset = selectors.order_list(user, show=show, stage=stage, search=search)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    unread = orders_selectors.chat_unread_counts(user, [order.pk for order in page.object_list])
    now = timezone.now()
    return render(
        request,
        "studio/orders.html",
        {
            "studio_section": "orders",
            "page": page,
            "rows": [
                selectors.order_row(order, user, unread=unread.get(order.pk, 0), now=now)
                for order in page.object_list
            ],
            "show": show,
            "filters": [(key, label) for key, (label, _) in selectors.ORDER_FILTERS.items()],
            "stage": stage,
            "stages": Stage.choices,
            "q": search,
        },
    )


def _uploads_context(order) -> dict:
    versions, deliveries = selectors.order_uploads(order)
    return {"upload_versions": versions, "upload_deliveries": deliveries, "order": order}


@musician_required
@require_GET
def order_workspace(request, order_id):
    order = selectors.workspace_order(request.user, order_id)
    if order is None:
        raise Http404("No such order.")
    context = order_detail_context(request, order)
    # The whole page shows Django's messages at its top; the order body shows them itself
    # only when it is swapped in alone (an action's answer).
    context["show_messages"] = False
    context.update(_uploads_context(order))
    context["studio_section"] = "orders"
    return render(request, "studio/order.html", context)


@musician_required
@require_GET
def order_uploads(request, order_id):
    """The uploads panel alone: htmx asks again when an upload settles or the order moves."""
    order = (
        orders_selectors.orders_visible_to(request.user)
        .filter(pk=order_id, musician=request.user)
        .first()
    )
    if order is None:
        raise Http404("No such order.")
    return render(request, "studio/_uploads.html", _uploads_context(order))
