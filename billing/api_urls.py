from django.urls import re_path

from billing.api import payments, payouts, plans, seats, students, subscriptions, webhooks

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# Both spellings, with and without the trailing slash, are accepted.
urlpatterns = [
    # plans and the caller's subscription
    re_path(r"^subscriptions/?$", plans.PlanListView.as_view(), name="subscriptions-plans"),
    re_path(
        r"^subscriptions/subscribe/?$",
        subscriptions.SubscribeView.as_view(),
        name="subscriptions-subscribe",
    ),
    re_path(
        r"^subscriptions/cancel/?$", subscriptions.CancelView.as_view(), name="subscriptions-cancel"
    ),
    re_path(
        r"^subscriptions/resume/?$", subscriptions.ResumeView.as_view(), name="subscriptions-resume"
    ),
    re_path(r"^subscriptions/me/?$", subscriptions.MeView.as_view(), name="subscriptions-me"),
    re_path(
        r"^subscriptions/portal/?$", subscriptions.PortalView.as_view(), name="subscriptions-portal"
    ),
    # seats
    re_path(r"^subscriptions/seats/?$", seats.SeatListView.as_view(), name="subscriptions-seats"),
    re_path(
        r"^subscriptions/seats/invite/?$",
        seats.SeatInviteView.as_view(),
        name="subscriptions-seats-invite",
    ),
    re_path(
        r"^subscriptions/seats/accept/?$",
        seats.SeatAcceptView.as_view(),
        name="subscriptions-seats-accept",
    ),
    re_path(
        r"^subscriptions/seats/leave/?$",
        seats.SeatLeaveView.as_view(),
        name="subscriptions-seats-leave",
    ),
    re_path(
        rf"^subscriptions/seats/(?P<user_id>{UUID})/?$",
        seats.SeatRemoveView.as_view(),
        name="subscriptions-seats-remove",
    ),
    re_path(
        rf"^subscriptions/seats/(?P<user_id>{UUID})/remove/?$",
        seats.SeatRemovePostView.as_view(),
        name="subscriptions-seats-remove-post",
    ),
    re_path(
        r"^subscriptions/invitations/?$",
        seats.InvitationListView.as_view(),
        name="subscriptions-invitations",
    ),
    re_path(
        rf"^subscriptions/invitations/(?P<invitation_id>{UUID})/?$",
        seats.InvitationRevokeView.as_view(),
        name="subscriptions-invitations-revoke",
    ),
    # the student price
    re_path(
        r"^subscriptions/student-verification/?$",
        students.StudentVerificationView.as_view(),
        name="subscriptions-student-verification",
    ),
    re_path(
        r"^subscriptions/student-verifications/?$",
        students.StudentVerificationStaffListView.as_view(),
        name="subscriptions-student-verifications",
    ),
    re_path(
        rf"^subscriptions/student-verifications/(?P<verification_id>{UUID})/(?P<action>approve|reject)/?$",
        students.StudentVerificationReviewView.as_view(),
        name="subscriptions-student-verifications-review",
    ),
    # payments, payouts
    re_path(
        rf"^billing/checkouts/(?P<checkout_id>{UUID})/?$",
        payments.CheckoutDetailView.as_view(),
        name="billing-checkouts-detail",
    ),
    re_path(r"^billing/payments/?$", payments.PaymentListView.as_view(), name="billing-payments"),
    re_path(
        rf"^billing/payments/(?P<payment_id>{UUID})/?$",
        payments.PaymentDetailView.as_view(),
        name="billing-payments-detail",
    ),
    re_path(
        rf"^billing/payments/(?P<payment_id>{UUID})/refund/?$",
        payments.PaymentRefundView.as_view(),
        name="billing-payments-refund",
    ),
    re_path(
        r"^billing/payout-account/?$",
        payouts.PayoutAccountView.as_view(),
        name="billing-payout-account",
    ),
    re_path(r"^billing/payouts/?$", payouts.PayoutListView.as_view(), name="billing-payouts"),
    re_path(
        r"^billing/payouts/summary/?$",
        payouts.PayoutSummaryView.as_view(),
        name="billing-payouts-summary",
    ),
    re_path(
        rf"^billing/payouts/(?P<payout_id>{UUID})/?$",
        payouts.PayoutDetailView.as_view(),
        name="billing-payouts-detail",
    ),
    re_path(r"^billing/balance/?$", payouts.BalanceView.as_view(), name="billing-balance"),
    # webhooks (the staff tools first: "events" is not a provider)
    re_path(
        r"^billing/webhooks/events/?$",
        webhooks.WebhookEventListView.as_view(),
        name="billing-webhook-events",
    ),
    re_path(
        rf"^billing/webhooks/events/(?P<event_id>{UUID})/?$",
        webhooks.WebhookEventDetailView.as_view(),
        name="billing-webhook-events-detail",
    ),
    re_path(
        rf"^billing/webhooks/events/(?P<event_id>{UUID})/replay/?$",
        webhooks.WebhookReplayView.as_view(),
        name="billing-webhook-events-replay",
    ),
    re_path(
        r"^billing/webhooks/(?P<provider>[a-z0-9_-]{1,32})/?$",
        webhooks.WebhookView.as_view(),
        name="billing-webhooks",
    ),
]
