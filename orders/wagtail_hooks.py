"""The staff side of orders in the Wagtail admin: orders, disputes, the reports and the home
page's marketplace figures. Staff only (orders.admin_access); nothing here changes an order
except resolving a dispute, which goes through ``orders.services.dispute_resolve``."""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.permissions import register_permission_policy

from orders.admin_access import StaffReadOnlyPolicy
from orders.admin_dashboard import MarketplaceTodayPanel
from orders.admin_disputes import LOG_ACTION, DisputeResolved, DisputeViewSet
from orders.admin_orders import OrderViewSet
from orders.admin_reports import BusinessView, MusicianPerformanceView
from orders.models import Dispute, Order
from orders.services.base import is_staff

register_permission_policy(Order, StaffReadOnlyPolicy(Order))
register_permission_policy(Dispute, StaffReadOnlyPolicy(Dispute))


@hooks.register("register_admin_viewset")
def register_orders():
    return OrderViewSet("encore_orders", url_prefix="orders")


@hooks.register("register_admin_viewset")
def register_disputes():
    return DisputeViewSet("encore_disputes", url_prefix="disputes")


@hooks.register("register_log_actions")
def register_dispute_log_actions(actions):
    actions.register_action(LOG_ACTION)(DisputeResolved)


@hooks.register("register_admin_urls")
def register_report_urls():
    return [
        path(
            "reports/musician-performance/",
            MusicianPerformanceView.as_view(),
            name=MusicianPerformanceView.url_name,
        ),
        path("reports/business/", BusinessView.as_view(), name=BusinessView.url_name),
    ]


class StaffMenuItem(MenuItem):
    def is_shown(self, request):
        return is_staff(request.user)


@hooks.register("register_reports_menu_item")
def register_musician_report_menu_item():
    return StaffMenuItem(
        "Musician performance",
        reverse(MusicianPerformanceView.url_name),
        icon_name="user",
        order=900,
    )


@hooks.register("register_reports_menu_item")
def register_business_report_menu_item():
    return StaffMenuItem(
        "Business", reverse(BusinessView.url_name), icon_name="doc-full", order=910
    )


@hooks.register("construct_homepage_panels")
def add_marketplace_panel(request, panels):
    if is_staff(request.user):
        panels.append(MarketplaceTodayPanel())
