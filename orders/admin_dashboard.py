"""The admin home's panel of today's marketplace figures, for staff: each links to the listing
that shows the orders, disputes or payouts it counts."""

from django.urls import reverse
from wagtail.admin.ui.components import Component

from orders.admin_selectors import marketplace_today


class MarketplaceTodayPanel(Component):
    name = "encore_marketplace_today"
    template_name = "orders/admin/dashboard_panel.html"
    order = 50  # above Wagtail's own panels: this is what staff come for

    def get_context_data(self, parent_context):
        context = super().get_context_data(parent_context)
        today = marketplace_today()
        orders = reverse("encore_orders:index")
        payouts = reverse("billing_payouts:index")
        context.update(
            today=today,
            payouts_available=sorted(today.payouts.available.items()),
            links={
                "matching": f"{orders}?status=matching",
                "open_disputes": reverse("encore_disputes:index"),
                "late": f"{orders}?late=true",
                "payouts": f"{payouts}?status=pending",
                "payouts_failed": f"{payouts}?status=failed",
            },
        )
        return context
