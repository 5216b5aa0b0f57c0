"""Disputes in the Wagtail admin: the queue (open ones, oldest first; resolved ones by filter,
with who resolved them and how), each dispute's evidence and escrow, and the resolution form.

Resolving calls ``orders.services.dispute_resolve``, which moves the money, closes or resumes
the order and tells both sides; the admin adds the entry in Wagtail's log, in the same
transaction. What the service refuses (Invalid, Forbidden, Conflict) is shown on the form."""

from decimal import Decimal, InvalidOperation

import django_filters
from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, QueryDict
from django.shortcuts import redirect
from django.utils.functional import cached_property
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.log_actions import LogFormatter, log

from notifications.formatting import ZERO_DECIMAL, money
from orders import services
from orders.admin_selectors import dispute_for_staff, disputes_queue, escrow_held_for
from orders.errors import OrderError
from orders.models import Dispute, DisputeOutcome, DisputeStatus

LOG_ACTION = "encore.dispute.resolve"
ALL = "all"

# What staff choose, as the service's outcome: a partial refund releases the rest (a split).
FULL_REFUND, PARTIAL_REFUND, RELEASE, CONTINUE = (
    "full_refund",
    "partial_refund",
    "release",
    "continue",
)
DECISIONS = {
    FULL_REFUND: DisputeOutcome.REFUND,
    PARTIAL_REFUND: DisputeOutcome.REFUND,
    RELEASE: DisputeOutcome.RELEASE,
    CONTINUE: DisputeOutcome.CONTINUE,
}
DECISION_CHOICES = [
    (FULL_REFUND, "Full refund: everything the escrow holds goes back to the customer"),
    (
        PARTIAL_REFUND,
        "Partial refund (a split): the customer gets the amount below back, the rest of the "
        "escrow is released to the musician (less the platform fee)",
    ),
    (RELEASE, "Release: everything the escrow holds goes to the musician (less the platform fee)"),
    (CONTINUE, "Continue the work: no money moves, the order goes back in progress"),
]


def minor_units(amount: Decimal, currency: str) -> int:
    """Major units as typed (12.50) to the minor units money is kept in (1250)."""
    exponent = 0 if currency.upper() in ZERO_DECIMAL else 2
    scaled = amount.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError
    return int(scaled)


class DisputeResolveForm(forms.Form):
    decision = forms.ChoiceField(
        label="Decision", choices=DECISION_CHOICES, widget=forms.RadioSelect
    )
    refund_amount = forms.CharField(
        label="Refund to the customer",
        required=False,
        help_text="For a partial refund: in the order's currency, e.g. 600.00. The rest is "
        "released to the musician.",
    )
    note = forms.CharField(
        label="Note to both sides",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown to the customer and the musician on their order page.",
    )

    def __init__(self, *args, order, held: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.order, self.held = order, held

    def clean(self):
        data = super().clean()
        decision = data.get("decision")
        typed = (data.get("refund_amount") or "").strip().replace(",", "")
        data["refund_minor"] = None
        if decision == PARTIAL_REFUND:
            held = money(self.held, self.order.currency)
            try:
                amount = minor_units(Decimal(typed), self.order.currency)
            except (InvalidOperation, ValueError):
                self.add_error(
                    "refund_amount",
                    f"Enter the amount to refund, like 600.00 (the escrow holds {held}).",
                )
                return data
            if not 0 < amount < self.held:
                self.add_error(
                    "refund_amount",
                    f"A partial refund is more than nothing and less than the {held} the "
                    "escrow holds (refunding all of it is a full refund).",
                )
            data["refund_minor"] = amount
        elif typed:
            self.add_error("refund_amount", "Only a partial refund has an amount.")
        return data


def resolution_summary(dispute: Dispute) -> str:
    """How a resolved dispute ended, in words (the log, the queue, the message after)."""
    currency = dispute.order.currency
    parts = [dispute.get_outcome_display()]
    if dispute.refunded_amount:
        parts.append(f"{money(dispute.refunded_amount, currency)} refunded to the customer")
    if dispute.released_amount:
        parts.append(f"{money(dispute.released_amount, currency)} released to the musician")
    return ", ".join(parts)


class DisputeResolved(LogFormatter):
    label = "Resolve dispute"

    def format_message(self, log_entry):
        data = log_entry.data or {}
        return f"Dispute resolved: {data.get('summary') or data.get('outcome', '')}"


def resolve(*, dispute: Dispute, staff, decision: str, refund_minor, note: str) -> Dispute:
    """Resolve through the orders service and log who did what, in one transaction."""
    with transaction.atomic():
        resolved = services.dispute_resolve(
            order=dispute.order,
            staff=staff,
            outcome=DECISIONS[decision],
            refund_amount=refund_minor,
            note=note,
        )
        log(
            instance=resolved,
            action=LOG_ACTION,
            user=staff,
            data={
                "order": str(resolved.order_id),
                "decision": decision,
                "outcome": resolved.outcome,
                "refunded": resolved.refunded_amount,
                "released": resolved.released_amount,
                "currency": resolved.order.currency,
                "summary": resolution_summary(resolved),
                "note": resolved.resolution_note,
            },
        )
    return resolved


class DisputeFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        choices=[*DisputeStatus.choices, (ALL, "All")],
        method="filter_status",
        empty_label=None,
        label="Status",
    )
    outcome = django_filters.ChoiceFilter(choices=DisputeOutcome.choices)

    class Meta:
        model = Dispute
        fields = []

    def __init__(self, data=None, *args, **kwargs):
        # The queue opens on the open disputes; resolved ones are a filter away.
        data = data.copy() if data is not None else QueryDict(mutable=True)
        if not data.get("status"):
            data["status"] = DisputeStatus.OPEN
        super().__init__(data, *args, **kwargs)

    def filter_status(self, queryset, name, value):
        return queryset if value == ALL else queryset.filter(status=value)


class DisputeIndexView(IndexView):
    def get_base_queryset(self):
        return disputes_queue(status=None)

    def get_table(self, object_list):
        disputes = list(object_list)
        held = escrow_held_for([dispute.order for dispute in disputes])
        for dispute in disputes:
            dispute.escrow_held_now = held[dispute.order_id]
        return super().get_table(disputes)

    @cached_property
    def columns(self):
        # Each row is named after its order and links to the dispute's page.
        columns = super().columns
        title_column = self._get_title_column_class(TitleColumn)
        columns[0] = title_column(
            "dispute", label="Dispute on", accessor="order", get_url=self.get_inspect_url
        )
        return columns


class DisputeHistoryView(HistoryView):
    """Wagtail's log of a dispute (who resolved it, how), for those who may look at it."""

    any_permission_required = ["view"]


class DisputeInspectView(InspectView):
    template_name = "orders/admin/dispute_inspect.html"

    def get_object(self, queryset=None):
        dispute = dispute_for_staff(self.pk)
        if dispute is None:
            raise Http404("No such dispute.")
        return dispute

    def get_page_title(self):
        return "Dispute"

    def get_page_subtitle(self):
        return f"on {self.object.order}"

    def held(self) -> int:
        return services.escrow_held(self.object.order)

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        dispute = self.object
        held = self.held()
        context.update(
            dispute=dispute,
            order=dispute.order,
            held=held,
            evidence=list(dispute.evidence.all()),
            form=form or DisputeResolveForm(order=dispute.order, held=held),
            is_party=self.request.user.pk in (dispute.order.customer_id, dispute.order.musician_id),
            summary=resolution_summary(dispute) if dispute.outcome else "",
        )
        return context

    def post(self, request, *args, **kwargs):
        dispute = self.object
        form = DisputeResolveForm(request.POST, order=dispute.order, held=self.held())
        status = 400
        if form.is_valid():
            try:
                resolved = resolve(
                    dispute=dispute,
                    staff=request.user,
                    decision=form.cleaned_data["decision"],
                    refund_minor=form.cleaned_data["refund_minor"],
                    note=form.cleaned_data["note"],
                )
            except OrderError as error:
                field = {"outcome": "decision"}.get(error.field, error.field)
                form.add_error(field if field in form.fields else None, error.message)
                status = error.status
            else:
                messages.success(
                    request,
                    f"Dispute resolved: {resolution_summary(resolved)}. Both sides are told.",
                )
                return redirect("encore_disputes:inspect", resolved.pk)
        self.object = dispute_for_staff(dispute.pk)  # what the page shows now
        return self.render_to_response(self.get_context_data(form=form), status=status)


def _escrow_held(dispute):
    return money(dispute.escrow_held_now, dispute.order.currency)


def _resolution(dispute):
    return resolution_summary(dispute) if dispute.outcome else ""


class DisputeViewSet(ModelViewSet):
    model = Dispute
    icon = "warning"
    menu_label = "Disputes"
    add_to_admin_menu = True
    menu_order = 210
    index_view_class = DisputeIndexView
    inspect_view_enabled = True
    inspect_view_class = DisputeInspectView
    history_view_class = DisputeHistoryView
    copy_view_enabled = False
    # Never shown: nobody may add or edit (StaffReadOnlyPolicy); Wagtail wants a form anyway.
    form_fields = ["reason"]
    filterset_class = DisputeFilterSet
    ordering = ["created_at"]
    list_per_page = 50
    search_fields = [
        "reason",
        "order__recipient_name",
        "order__customer__email",
        "order__musician__email",
    ]
    list_display = [
        "__str__",  # replaced by the order's title (DisputeIndexView.columns)
        Column("customer", accessor="order.customer", label="Customer"),
        Column("musician", accessor="order.musician", label="Musician"),
        Column("opened_by", label="Opened by"),
        DateColumn("created_at", label="Opened", sort_key="created_at"),
        Column("status", accessor="get_status_display", label="Status"),
        Column("escrow", accessor=_escrow_held, label="Escrow holds now"),
        Column("resolution", accessor=_resolution, label="Outcome"),
        Column("resolved_by", label="Resolved by"),
    ]
