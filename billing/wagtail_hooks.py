"""Payouts in the Wagtail admin: staff find the failed ones (filter by status) and see why.
Read-only: a payout changes only through billing's services, which keep the ledger in step."""

from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permissions import register_permission_policy

from billing.models import Payout
from notifications.wagtail_hooks import ReadOnlyPolicy

register_permission_policy(Payout, ReadOnlyPolicy(Payout))


class PayoutViewSet(ModelViewSet):
    model = Payout
    icon = "tasks"
    menu_label = "Payouts"
    add_to_admin_menu = True
    menu_order = 850
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = [
        "musician",
        "amount_display",
        "status",
        "attempts",
        "provider",
        "created_at",
    ]
    list_filter = ["status", "provider", "currency"]
    search_fields = ["musician__email", "provider_transfer_id", "destination", "failure_reason"]
    exclude_form_fields = ["idempotency_key", "transfer_key"]
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


@hooks.register("register_admin_viewset")
def register_payouts():
    return PayoutViewSet("billing_payouts")
