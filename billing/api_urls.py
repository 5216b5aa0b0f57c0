from django.urls import re_path

from billing import api

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# Both spellings, with and without the trailing slash, are accepted (DESIGN section 8).
urlpatterns = [
    # plans and the caller's subscription
    re_path(r"^subscriptions/?$", api.PlanListView.as_view(), name="subscriptions-plans"),
    re_path(
        r"^subscriptions/subscribe/?$", api.SubscribeView.as_view(), name="subscriptions-subscribe"
    ),
    re_path(r"^subscriptions/cancel/?$", api.CancelView.as_view(), name="subscriptions-cancel"),
    re_path(r"^subscriptions/resume/?$", api.ResumeView.as_view(), name="subscriptions-resume"),
    re_path(r"^subscriptions/me/?$", api.MeView.as_view(), name="subscriptions-me"),
    re_path(r"^subscriptions/portal/?$", api.PortalView.as_view(), name="subscriptions-portal"),
    # seats
    re_path(r"^subscriptions/seats/?$", api.SeatListView.as_view(), name="subscriptions-seats"),
    re_path(
        r"^subscriptions/seats/invite/?$",
        api.SeatInviteView.as_view(),
        name="subscriptions-seats-invite",
    ),
    re_path(
        r"^subscriptions/seats/accept/?$",
        api.SeatAcceptView.as_view(),
        name="subscriptions-seats-accept",
    ),
    re_path(
        r"^subscriptions/seats/leave/?$",
        api.SeatLeaveView.as_view(),
        name="subscriptions-seats-leave",
    ),
    re_path(
        rf"^subscriptions/seats/(?P<user_id>{UUID})/?$",
        api.SeatRemoveView.as_view(),
        name="subscriptions-seats-remove",
    ),
    re_path(
        rf"^subscriptions/seats/(?P<user_id>{UUID})/remove/?$",
        api.SeatRemovePostView.as_view(),
        name="subscriptions-seats-remove-post",
    ),
    re_path(
        r"^subscriptions/invitations/?$",
        api.InvitationListView.as_view(),
        name="subscriptions-invitations",
    ),
    re_path(
        rf"^subscriptions/invitations/(?P<invitation_id>{UUID})/?$",
        api.InvitationRevokeView.as_view(),
        name="subscriptions-invitations-revoke",
    ),
    # the student price
    re_path(
        r"^subscriptions/student-verification/?$",
        api.StudentVerificationView.as_view(),
        name="subscriptions-student-verification",
    ),
    re_path(
        r"^subscriptions/student-verifications/?$",
        api.StudentVerificationStaffListView.as_view(),
        name="subscriptions-student-verifications",
    ),
    re_path(
        rf"^subscriptions/student-verifications/(?P<verification_id>{UUID})/(?P<action>approve|reject)/?$",
        api.StudentVerificationReviewView.as_view(),
        name="subscriptions-student-verifications-review",
    ),
    # payments, payouts
    re_path(
        rf"^billing/checkouts/(?P<checkout_id>{UUID})/?$",
        api.CheckoutDetailView.as_view(),
        name="billing-checkouts-detail",
    ),
    re_path(r"^billing/payments/?$", api.PaymentListView.as_view(), name="billing-payments"),
    re_path(
        rf"^billing/payments/(?P<payment_id>{UUID})/?$",
        api.PaymentDetailView.as_view(),
        name="billing-payments-detail",
    ),
    re_path(
        rf"^billing/payments/(?P<payment_id>{UUID})/refund/?$",
        api.PaymentRefundView.as_view(),
        name="billing-payments-refund",
    ),
    re_path(r"^billing/payouts/?$", api.PayoutListView.as_view(), name="billing-payouts"),
    re_path(r"^billing/balance/?$", api.BalanceView.as_view(), name="billing-balance"),
    # webhooks (the staff tools first: "events" is not a provider)
    re_path(
        r"^billing/webhooks/events/?$",
        api.WebhookEventListView.as_view(),
        name="billing-webhook-events",
    ),
    re_path(
        rf"^billing/webhooks/events/(?P<event_id>{UUID})/?$",
        api.WebhookEventDetailView.as_view(),
        name="billing-webhook-events-detail",
    ),
    re_path(
        rf"^billing/webhooks/events/(?P<event_id>{UUID})/replay/?$",
        api.WebhookReplayView.as_view(),
        name="billing-webhook-events-replay",
    ),
    re_path(
        r"^billing/webhooks/(?P<provider>[a-z0-9_-]{1,32})/?$",
        api.WebhookView.as_view(),
        name="billing-webhooks",
    ),
]
