from core.api_urls import UUID, api_path
from orders.api import (
    disputes,
    messages,
    musicians,
    orders,
    packages,
    reviews,
    transitions,
    versions,
)

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
    # The chat's REST mirror (the websocket is ws/orders/{id}/).
    "messages": messages.MessagesView,
    "messages/read": messages.MessagesReadView,
    "attachments": messages.AttachmentsView,
}

# Each path is taken with and without its trailing slash (api_path).
urlpatterns = [
    api_path("packages", packages.PackageListView, "packages"),
    api_path(rf"packages/(?P<package_id>{UUID})", packages.PackageDetailView, "packages-detail"),
    api_path("orders", orders.OrderListView, "orders"),
    api_path(rf"orders/(?P<order_id>{UUID})", orders.OrderDetailView, "orders-detail"),
    *[
        api_path(
            rf"orders/(?P<order_id>{UUID})/{name}",
            view,
            f"orders-{name.replace('_', '-').replace('/', '-')}",
        )
        for name, view in ORDER_ENDPOINTS.items()
    ],
    api_path(
        rf"orders/(?P<order_id>{UUID})/attachments/(?P<attachment_id>[0-9]{{1,18}})",
        messages.AttachmentView,
        "orders-attachment",
    ),
    api_path("musicians/me", musicians.MusicianProfileView, "musicians-me"),
    api_path(
        rf"musicians/(?P<musician_id>{UUID})", musicians.MusicianPublicView, "musicians-detail"
    ),
]
