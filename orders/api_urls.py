from django.urls import re_path

from orders.api import disputes, musicians, orders, packages, reviews, transitions, versions

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# What is done to one order: POST (or GET) /api/orders/{id}/<name>.
ORDER_ENDPOINTS = {
    "accept": transitions.AcceptView,
    "decline": transitions.DeclineView,
    "advance_stage": transitions.AdvanceStageView,
    "request_revision": transitions.RequestRevisionView,
    "approve": transitions.ApproveView,
    "cancel": transitions.CancelView,
    "open_dispute": transitions.OpenDisputeView,
    "pay_balance": transitions.PayBalanceView,
    "pay_deposit": transitions.PayDepositView,
    "revision_consent": transitions.RevisionConsentView,
    "resolve_dispute": transitions.ResolveDisputeView,
    "versions": versions.VersionsView,
    "deliver": versions.DeliverView,
    "downloads": versions.DownloadsView,
    "review": reviews.ReviewView,
    "dispute_evidence": disputes.DisputeEvidenceView,
}

# Both spellings, with and without the trailing slash, are accepted.
urlpatterns = [
    re_path(r"^packages/?$", packages.PackageListView.as_view(), name="packages"),
    re_path(
        rf"^packages/(?P<package_id>{UUID})/?$",
        packages.PackageDetailView.as_view(),
        name="packages-detail",
    ),
    re_path(r"^orders/?$", orders.OrderListView.as_view(), name="orders"),
    re_path(
        rf"^orders/(?P<order_id>{UUID})/?$",
        orders.OrderDetailView.as_view(),
        name="orders-detail",
    ),
    *[
        re_path(
            rf"^orders/(?P<order_id>{UUID})/{name}/?$",
            view.as_view(),
            name=f"orders-{name.replace('_', '-')}",
        )
        for name, view in ORDER_ENDPOINTS.items()
    ],
    re_path(r"^musicians/me/?$", musicians.MusicianProfileView.as_view(), name="musicians-me"),
    re_path(
        rf"^musicians/(?P<musician_id>{UUID})/?$",
        musicians.MusicianPublicView.as_view(),
        name="musicians-detail",
    ),
]
