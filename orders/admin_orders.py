"""Orders in the Wagtail admin: a read-only listing (filters and search) and an inspect page with
the timeline, the money (payments, refunds, ledger legs through the escrow), the chat, the
versions with their QC results and the disputes. Orders change only through the orders
services."""

from datetime import timedelta

import django_filters
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets import BooleanRadioSelect

from accounts.models import User
from notifications.formatting import money
from orders.admin_selectors import (
    order_chat_for_staff,
    order_for_staff,
    order_money,
    orders_due_between,
    orders_late,
)
from orders.models import DisputeStatus, Occasion, Order, OrderStatus, Stage
from orders.selectors import order_timeline

DUE_END_OF_DAY = timedelta(microseconds=1)  # the range field's end is 23:59:59.999999


class OrderFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(choices=OrderStatus.choices)
    stage = django_filters.ChoiceFilter(choices=Stage.choices)
    occasion = django_filters.ChoiceFilter(choices=Occasion.choices)
    musician = django_filters.ModelChoiceFilter(
        queryset=User.objects.filter(is_musician=True).order_by("display_name", "email")
    )
    customer = django_filters.CharFilter(
        method="filter_customer", label="Customer (email or name contains)"
    )
    created = django_filters.DateFromToRangeFilter(
        field_name="created_at", label="Placed", widget=DateRangePickerWidget
    )
    due = django_filters.DateFromToRangeFilter(
        method="filter_due",
        label="Due (accepted + delivery days)",
        widget=DateRangePickerWidget,
    )
    occasion_date = django_filters.DateFromToRangeFilter(
        label="Occasion date", widget=DateRangePickerWidget
    )
    late = django_filters.BooleanFilter(
        method="filter_late", label="Late (past due, not delivered)", widget=BooleanRadioSelect
    )

    class Meta:
        model = Order
        fields = []

    def filter_customer(self, queryset, name, value):
        return queryset.filter(customer__email__icontains=value) | queryset.filter(
            customer__display_name__icontains=value
        )

    def filter_due(self, queryset, name, value):
        end = value.stop + DUE_END_OF_DAY if value.stop is not None else None
        return orders_due_between(queryset, value.start, end)

    def filter_late(self, queryset, name, value):
        late = orders_late(queryset)
        return late if value else queryset.exclude(pk__in=late.values("pk"))


class OrderIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("customer", "musician")


class OrderInspectView(InspectView):
    template_name = "orders/admin/order_inspect.html"

    def get_object(self, queryset=None):
        order = order_for_staff(self.pk)
        if order is None:
            raise Http404("No such order.")
        return order

    def get_context_data(self, **kwargs):
        order = self.object
        context = super().get_context_data(**kwargs)
        events = list(order.events.all())
        disputes = list(order.disputes.all())
        open_dispute = next((d for d in disputes if d.status == DisputeStatus.OPEN), None)
        context.update(
            order=order,
            timeline=order_timeline(order, events, role="staff"),
            events=events,
            money=order_money(order),
            chat=order_chat_for_staff(order),
            versions=list(order.versions.all()),
            deliveries=list(order.deliveries.all()),
            disputes=disputes,
            open_dispute_url=(
                reverse("encore_disputes:inspect", args=[open_dispute.pk]) if open_dispute else None
            ),
            site_url=reverse("orders:detail", args=[order.pk]),
        )
        return context


def _price(order) -> str:
    return money(order.price, order.currency)


def _due_label(order) -> str:
    due = order.due_at
    if due is None:
        return ""
    return date_format(timezone.localtime(due), "j M Y")


class OrderViewSet(ModelViewSet):
    model = Order
    icon = "list-ul"
    menu_label = "Orders"
    add_to_admin_menu = True
    menu_order = 200
    inspect_view_enabled = True
    inspect_view_class = OrderInspectView
    index_view_class = OrderIndexView
    copy_view_enabled = False
    # Never shown: nobody may add or edit (StaffReadOnlyPolicy); Wagtail wants a form anyway.
    form_fields = ["recipient_name"]
    filterset_class = OrderFilterSet
    ordering = ["-created_at"]
    list_per_page = 50
    search_fields = [
        "id",
        "customer__email",
        "customer__display_name",
        "musician__email",
        "musician__display_name",
        "occasion",
        "recipient_name",
    ]
    list_display = [
        "__str__",
        Column("customer", label="Customer"),
        Column("musician", label="Musician"),
        Column("status", accessor="get_status_display", label="Status", sort_key="status"),
        Column("stage", accessor="get_stage_display", label="Stage"),
        Column("price", accessor=_price, label="Price", sort_key="price"),
        DateColumn("created_at", label="Placed", sort_key="created_at"),
        # A future date in Wagtail's DateColumn reads "Just now" (it counts time since).
        Column("due_at", accessor=_due_label, label="Due"),
    ]
