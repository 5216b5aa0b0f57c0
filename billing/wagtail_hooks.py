"""Money in the Wagtail admin, under one "Payments" menu: payments, refunds, payouts, webhook
events (and the failed ones, with replay) and student verifications (approve, reject).

Staff only, and read-only: rows change only through billing's services, which keep the ledger
in step; the screens and their actions are in billing/admin_views.py."""

from django.urls import reverse
from django.utils.functional import cached_property
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.base import ViewSet, ViewSetGroup
from wagtail.permissions import register_permission_policy

from billing import admin_views
from billing.admin_actions import StaffReadOnlyPolicy
from billing.models import Payment, Payout, Refund, StudentVerification, WebhookEvent

for model in (Payment, Refund, Payout, WebhookEvent, StudentVerification):
    register_permission_policy(model, StaffReadOnlyPolicy(model))


class StaffMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_active and request.user.is_staff


class FailedWebhooks(ViewSet):
    """A menu entry (no views of its own) for the webhook events whose processing failed: the
    events listing, filtered, where each has its Replay button."""

    menu_label = "Failed webhooks"
    icon = "warning"
    menu_item_class = StaffMenuItem

    def get_urlpatterns(self):
        return []

    @cached_property
    def menu_url(self):
        return f"{reverse('billing_webhooks:index')}?status=failed"


class PaymentsGroup(ViewSetGroup):
    menu_label = "Payments"
    menu_icon = "decimal"
    menu_order = 850
    items = (
        admin_views.PaymentViewSet("billing_payments"),
        admin_views.RefundViewSet("billing_refunds"),
        admin_views.PayoutViewSet("billing_payouts"),
        admin_views.WebhookEventViewSet("billing_webhooks"),
        FailedWebhooks("billing_failed_webhooks"),
        admin_views.StudentVerificationViewSet("billing_students"),
    )


@hooks.register("register_admin_viewset")
def register_payments():
    return PaymentsGroup()


@hooks.register("register_log_actions")
def register_billing_log_actions(actions):
    admin_views.register_log_actions(actions)
