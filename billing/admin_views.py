"""The staff's money screens in the Wagtail admin: payments, refunds, payouts, webhook events
(with replay) and student verifications (approve, reject), registered by billing/wagtail_hooks.py.

Listings and inspect views only read. What staff may change, they change through billing's
services (``webhook_replay``, ``student_verification_review``), from the action pages of
``billing.admin_actions``; each is kept in Wagtail's log.
"""

import json

import django_filters
from django import forms
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import Button, HeaderButton
from wagtail.log_actions import LogFormatter

from billing import purposes, selectors, services
from billing.admin_actions import OptionalNoteForm, ReasonForm, StaffActionView
from billing.models import (
    LedgerTransaction,
    Payment,
    PaymentStatus,
    Payout,
    PayoutStatus,
    Provider,
    Refund,
    RefundStatus,
    StudentVerification,
    VerificationStatus,
    WebhookEvent,
    WebhookStatus,
)
from notifications.formatting import money

LIST_PER_PAGE = 50


class MoneyColumn(Column):
    """An amount in minor units shown in its currency (``₹1,234.50``)."""

    def __init__(self, name="amount", label="Amount", **kwargs):
        super().__init__(name, label=label, sort_key=name, **kwargs)

    def get_value(self, instance):
        return money(getattr(instance, self.accessor), instance.currency)


def _choice_filter(label, choices):
    return django_filters.ChoiceFilter(
        label=label, choices=choices, empty_label="All", widget=forms.RadioSelect
    )


def _date_range(field_name: str, label: str):
    return django_filters.DateFromToRangeFilter(
        field_name=field_name, label=label, widget=DateRangePickerWidget
    )


def _currency_filter():
    return django_filters.CharFilter(
        label="Currency", lookup_expr="iexact", help_text="An ISO code, such as INR or USD."
    )


PURPOSE_CHOICES = [(name, name.replace("_", " ").capitalize()) for name in purposes.PURPOSES]


def ledger_of(reference: str):
    """The ledger transactions recorded under `reference` (``payment:<id>``, ``payout:<id>``)
    with their legs and accounts, oldest first: two queries."""
    return (
        LedgerTransaction.objects.filter(reference=reference)
        .prefetch_related("entries__account")
        .order_by("created_at", "id")
    )


class StaffInspectView(InspectView):
    """An inspect view with a link to the row's history (Wagtail's log) and room for the
    actions and related tables a row has."""

    template_name = "billing/admin/inspect.html"
    history_url_name = None

    def get_action_buttons(self) -> list:
        return []

    @cached_property
    def header_buttons(self):
        return self.get_action_buttons()

    @cached_property
    def header_more_buttons(self):
        buttons = []
        if self.history_url_name:
            buttons.append(
                Button(
                    "History",
                    url=reverse(self.history_url_name, args=[self.object.pk]),
                    icon_name="history",
                    priority=30,
                )
            )
        return buttons

    def get_related(self) -> dict:
        return {}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.get_related())
        return context


class StaffHistoryView(HistoryView):
    """A row's history (Wagtail's log: replays, reviews, moderation) for whoever may view it;
    Wagtail's own asks for a permission to change, which nobody has here."""

    any_permission_required = ["view"]


class StaffModelViewSet(ModelViewSet):
    """Read-only listings and inspect views, for staff (see billing/wagtail_hooks.py)."""

    history_view_class = StaffHistoryView

    add_to_admin_menu = False
    # Nothing links to these rows from pages or snippets: no reference index work per save.
    add_to_reference_index = False
    inspect_view_enabled = True
    copy_view_enabled = False
    list_per_page = LIST_PER_PAGE
    # Nobody may add or edit (the policy says so): the unused forms carry no field.
    form_fields = []
    action_views: dict = {}

    def get_inspect_view_kwargs(self, **kwargs):
        return super().get_inspect_view_kwargs(
            history_url_name=self.get_url_name("history"), **kwargs
        )

    def action_view(self, name: str):
        return self.action_views[name].as_view(
            model=self.model,
            index_url_name=self.get_url_name("index"),
            inspect_url_name=self.get_url_name("inspect"),
        )

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path(f"{name}/<uuid:pk>/", self.action_view(name), name=name)
            for name in self.action_views
        ]


# --- payments -------------------------------------------------------------------------------


class PaymentFilterSet(WagtailFilterSet):
    status = _choice_filter("Status", PaymentStatus.choices)
    provider = _choice_filter("Provider", Provider.choices)
    purpose = _choice_filter("Purpose", PURPOSE_CHOICES)
    currency = _currency_filter()
    created_at = _date_range("created_at", "Created")
    captured_at = _date_range("captured_at", "Captured")

    class Meta:
        model = Payment
        fields = []


class PaymentIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("payer")


class PaymentInspectView(StaffInspectView):
    def get_related(self):
        return {
            "refunds": list(self.object.refunds.select_related("requested_by")),
            "ledger": list(ledger_of(f"payment:{self.object.pk}")),
        }


class PaymentViewSet(StaffModelViewSet):
    model = Payment
    icon = "credit-card"
    menu_label = "Payments"
    index_view_class = PaymentIndexView
    inspect_view_class = PaymentInspectView
    filterset_class = PaymentFilterSet
    list_display = [
        "reference",
        "purpose",
        Column("payer", label="Payer"),
        MoneyColumn(),
        "status",
        "provider",
        DateColumn("created_at", label="Created", sort_key="created_at"),
    ]
    search_fields = [
        "reference",
        "description",
        "provider_order_id",
        "provider_payment_id",
        "payer__email",
    ]
    inspect_view_fields = [
        "description",
        "purpose",
        "reference",
        "payer",
        "amount",
        "amount_refunded",
        "currency",
        "status",
        "provider",
        "provider_order_id",
        "provider_payment_id",
        "failure_reason",
        "created_at",
        "authorized_at",
        "captured_at",
    ]


# --- refunds --------------------------------------------------------------------------------


class RefundFilterSet(WagtailFilterSet):
    status = _choice_filter("Status", RefundStatus.choices)
    provider = _choice_filter("Provider", Provider.choices)
    purpose = _choice_filter("Purpose", PURPOSE_CHOICES)
    currency = _currency_filter()
    created_at = _date_range("created_at", "Created")

    class Meta:
        model = Refund
        fields = []

    def filter_queryset(self, queryset):
        purpose = self.form.cleaned_data.pop("purpose", None)
        queryset = super().filter_queryset(queryset)
        return queryset.filter(payment__purpose=purpose) if purpose else queryset


class RefundIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("payment", "payment__payer")


class RefundInspectView(StaffInspectView):
    def get_related(self):
        return {"ledger": list(ledger_of(f"payment:{self.object.payment_id}"))}


class RefundViewSet(StaffModelViewSet):
    model = Refund
    icon = "undo"
    menu_label = "Refunds"
    index_view_class = RefundIndexView
    inspect_view_class = RefundInspectView
    filterset_class = RefundFilterSet
    list_display = [
        "payment",
        Column("payer", label="Payer", accessor="payment.payer"),
        MoneyColumn(),
        "status",
        "provider",
        "reason",
        DateColumn("created_at", label="Created", sort_key="created_at"),
    ]
    search_fields = ["payment__reference", "provider_refund_id", "reason", "payment__payer__email"]
    inspect_view_fields = [
        "payment",
        "amount",
        "currency",
        "status",
        "provider",
        "provider_refund_id",
        "reason",
        "requested_by",
        "created_at",
        "processed_at",
    ]


# --- payouts --------------------------------------------------------------------------------


class PayoutFilterSet(WagtailFilterSet):
    status = _choice_filter("Status", PayoutStatus.choices)
    provider = _choice_filter("Provider", Provider.choices)
    currency = _currency_filter()
    created_at = _date_range("created_at", "Created")

    class Meta:
        model = Payout
        fields = []


class PayoutIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("musician")


class PayoutInspectView(StaffInspectView):
    def get_related(self):
        return {
            "ledger": list(ledger_of(f"payout:{self.object.pk}")),
            # billing has no service that retries a payout that failed for good, on purpose:
            # its money is back in the payable, and the next run pays it once the musician
            # saves their payout account again (billing.services.payouts).
            "payout_failed": self.object.status == PayoutStatus.FAILED,
        }


class PayoutViewSet(StaffModelViewSet):
    model = Payout
    icon = "tasks"
    menu_label = "Payouts"
    index_view_class = PayoutIndexView
    inspect_view_class = PayoutInspectView
    filterset_class = PayoutFilterSet
    list_display = [
        "musician",
        MoneyColumn(),
        "status",
        "attempts",
        "provider",
        DateColumn("created_at", label="Created", sort_key="created_at"),
    ]
    search_fields = ["musician__email", "provider_transfer_id", "destination", "failure_reason"]
    inspect_view_fields = [
        "musician",
        "amount_display",
        "status",
        "provider",
        "destination",
        "provider_transfer_id",
        "period",
        "attempts",
        "next_attempt_at",
        "failure_reason",
        "created_at",
        "paid_at",
        "failed_at",
    ]


# --- webhook events -------------------------------------------------------------------------


class WebhookEventFilterSet(WagtailFilterSet):
    status = _choice_filter("Status", WebhookStatus.choices)
    provider = _choice_filter("Provider", Provider.choices)
    event_type = django_filters.CharFilter(label="Event type", lookup_expr="icontains")
    received_at = _date_range("received_at", "Received")

    class Meta:
        model = WebhookEvent
        fields = []


class WebhookEventIndexView(IndexView):
    def get_base_queryset(self):
        # The payloads stay in the database: a page of events never reads them.
        return super().get_base_queryset().defer("payload")

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.status == WebhookStatus.FAILED and self.request.user.is_staff:
            buttons.append(
                Button(
                    "Replay",
                    url=reverse("billing_webhooks:replay", args=[instance.pk]),
                    icon_name="repeat",
                    priority=5,
                )
            )
        return buttons


class WebhookEventInspectView(StaffInspectView):
    def get_payload_display_value(self):
        return format_html(
            "<pre class='billing-payload'>{}</pre>",
            json.dumps(self.object.payload, indent=2, sort_keys=True, ensure_ascii=False),
        )

    def get_action_buttons(self):
        return [
            HeaderButton(
                "Replay",
                url=reverse("billing_webhooks:replay", args=[self.object.pk]),
                icon_name="repeat",
            )
        ]


class WebhookReplayView(StaffActionView):
    page_title = "Replay webhook event"
    header_icon = "repeat"
    button_label = "Replay"
    template_name = "billing/admin/webhook_replay.html"

    def get_confirmation(self):
        if self.object.status in (WebhookStatus.PROCESSED, WebhookStatus.IGNORED):
            return (
                "This event was already processed. Replaying it runs it through billing again; "
                "every step is idempotent, so nothing changes twice."
            )
        return (
            "The event is processed again through billing's webhook service, as if it had just "
            "arrived. Fix the cause of the failure first: if it still fails, the error is "
            "recorded on the event and nothing is changed."
        )

    def perform(self, reason):
        return services.webhook_replay(event_id=self.object.pk, actor=self.request.user)

    def get_success_message(self, event):
        if event.status == WebhookStatus.FAILED:
            return f"The replay failed again: {event.last_error}"
        return f"Replayed: the event is {event.get_status_display().lower()}."


class WebhookEventViewSet(StaffModelViewSet):
    model = WebhookEvent
    icon = "repeat"
    menu_label = "Webhook events"
    index_view_class = WebhookEventIndexView
    inspect_view_class = WebhookEventInspectView
    filterset_class = WebhookEventFilterSet
    action_views = {"replay": WebhookReplayView}
    list_display = [
        "event_type",
        "provider",
        "status",
        "attempts",
        Column("last_error", label="Last error", accessor=lambda e: e.last_error[:120]),
        DateColumn("received_at", label="Received", sort_key="received_at"),
    ]
    search_fields = ["event_id", "event_type", "last_error"]
    inspect_view_fields = [
        "provider",
        "event_id",
        "event_type",
        "status",
        "attempts",
        "last_error",
        "occurred_at",
        "received_at",
        "next_attempt_at",
        "processed_at",
        "replayed_at",
        "payload",
    ]


# --- student verifications ------------------------------------------------------------------


class StudentVerificationFilterSet(WagtailFilterSet):
    status = _choice_filter("Status", VerificationStatus.choices)
    created_at = _date_range("created_at", "Asked")

    class Meta:
        model = StudentVerification
        fields = []


class StudentVerificationIndexView(IndexView):
    """Oldest first; requests waiting for review unless another status is chosen."""

    def get_base_queryset(self):
        wanted = self.request.GET.get("status", VerificationStatus.PENDING)
        return selectors.student_verifications_for_staff(
            status=wanted if wanted in VerificationStatus.values else None
        )

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if instance.status == VerificationStatus.PENDING:
            buttons += _review_buttons(instance, button_class=Button)
        return buttons


def _review_buttons(verification, *, button_class) -> list:
    return [
        button_class(
            "Approve",
            url=reverse("billing_students:approve", args=[verification.pk]),
            icon_name="check",
            priority=5,
        ),
        button_class(
            "Reject",
            url=reverse("billing_students:reject", args=[verification.pk]),
            icon_name="cross",
            priority=6,
        ),
    ]


class StudentVerificationInspectView(StaffInspectView):
    def get_action_buttons(self):
        if self.object.status != VerificationStatus.PENDING:
            return []
        return _review_buttons(self.object, button_class=HeaderButton)

    def get_related(self):
        return {"earlier": _earlier_requests(self.object)}


def _earlier_requests(verification) -> list:
    return list(
        StudentVerification.objects.filter(user_id=verification.user_id)
        .exclude(pk=verification.pk)
        .select_related("reviewed_by")
        .order_by("-created_at")[:20]
    )


class StudentReviewView(StaffActionView):
    approve = True
    template_name = "billing/admin/student_review.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["earlier"] = _earlier_requests(self.object)
        return context

    def perform(self, reason):
        return services.student_verification_review(
            verification_id=self.object.pk,
            reviewer=self.request.user,
            approve=self.approve,
            note=reason,
        )


class StudentApproveView(StudentReviewView):
    page_title = "Approve the student price"
    header_icon = "check"
    button_label = "Approve"
    form_class = OptionalNoteForm
    confirmation = "The person gets the student price for a year, and is told so."
    success_message = "Approved: the student has been told."


class RejectionForm(ReasonForm):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why: the person is told this.",
    )


class StudentRejectView(StudentReviewView):
    approve = False
    page_title = "Reject the student price"
    header_icon = "cross"
    button_label = "Reject"
    button_class = "button serious"
    form_class = RejectionForm
    confirmation = "The person is told the reason, and may ask again."
    success_message = "Rejected: the person has been told why."


class StudentVerificationViewSet(StaffModelViewSet):
    model = StudentVerification
    icon = "user"
    menu_label = "Student verifications"
    index_view_class = StudentVerificationIndexView
    inspect_view_class = StudentVerificationInspectView
    filterset_class = StudentVerificationFilterSet
    ordering = ["created_at", "id"]
    action_views = {"approve": StudentApproveView, "reject": StudentRejectView}
    list_display = [
        "institution",
        Column("user", label="Person"),
        "student_email",
        "status",
        DateColumn("created_at", label="Asked", sort_key="created_at"),
    ]
    search_fields = ["institution", "student_email", "user__email", "user__display_name"]
    inspect_view_fields = [
        "user",
        "institution",
        "student_email",
        "status",
        "created_at",
        "note",
        "reviewed_by",
        "reviewed_at",
        "expires_at",
    ]


class NoteFormatter(LogFormatter):
    """A log line that carries what staff wrote (a review's note)."""

    def format_message(self, log_entry):
        note = (log_entry.data or {}).get("note")
        return f"{self.message}: {note}" if note else self.message


class ReplayFormatter(LogFormatter):
    label = "Replay webhook event"

    def format_message(self, log_entry):
        before = (log_entry.data or {}).get("status_before", "")
        return f"Replayed by staff (it was {before})" if before else "Replayed by staff"


def register_log_actions(actions) -> None:
    actions.register_action("billing.webhook_replay")(ReplayFormatter)
    for action, label, message in (
        ("billing.student_approve", "Approve student price", "Student price approved"),
        ("billing.student_reject", "Reject student price", "Student price rejected"),
    ):
        formatter = type(
            "StudentReviewFormatter", (NoteFormatter,), {"label": label, "message": message}
        )
        actions.register_action(action)(formatter)
