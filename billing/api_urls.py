from billing.api import payments, payouts, plans, seats, students, subscriptions, webhooks
from core.api_urls import UUID, api_path

# (pattern, view, name): each path is taken with and without its trailing slash (api_path).
ROUTES = (
    # plans and the caller's subscription
    (r"subscriptions", plans.PlanListView, "subscriptions-plans"),
    (r"subscriptions/subscribe", subscriptions.SubscribeView, "subscriptions-subscribe"),
    (r"subscriptions/cancel", subscriptions.CancelView, "subscriptions-cancel"),
    (r"subscriptions/resume", subscriptions.ResumeView, "subscriptions-resume"),
    (r"subscriptions/me", subscriptions.MeView, "subscriptions-me"),
    (r"subscriptions/portal", subscriptions.PortalView, "subscriptions-portal"),
    # seats
    (r"subscriptions/seats", seats.SeatListView, "subscriptions-seats"),
    (r"subscriptions/seats/invite", seats.SeatInviteView, "subscriptions-seats-invite"),
    (r"subscriptions/seats/accept", seats.SeatAcceptView, "subscriptions-seats-accept"),
    (r"subscriptions/seats/leave", seats.SeatLeaveView, "subscriptions-seats-leave"),
    (
        rf"subscriptions/seats/(?P<user_id>{UUID})",
        seats.SeatRemoveView,
        "subscriptions-seats-remove",
    ),
    (
        rf"subscriptions/seats/(?P<user_id>{UUID})/remove",
        seats.SeatRemovePostView,
        "subscriptions-seats-remove-post",
    ),
    (r"subscriptions/invitations", seats.InvitationListView, "subscriptions-invitations"),
    (
        rf"subscriptions/invitations/(?P<invitation_id>{UUID})",
        seats.InvitationRevokeView,
        "subscriptions-invitations-revoke",
    ),
    # the student price
    (
        r"subscriptions/student-verification",
        students.StudentVerificationView,
        "subscriptions-student-verification",
    ),
    (
        r"subscriptions/student-verifications",
        students.StudentVerificationStaffListView,
        "subscriptions-student-verifications",
    ),
    (
        rf"subscriptions/student-verifications/(?P<verification_id>{UUID})/(?P<action>approve|reject)",
        students.StudentVerificationReviewView,
        "subscriptions-student-verifications-review",
    ),
    # payments, payouts
    (
        rf"billing/checkouts/(?P<checkout_id>{UUID})",
        payments.CheckoutDetailView,
        "billing-checkouts-detail",
    ),
    (r"billing/payments", payments.PaymentListView, "billing-payments"),
    (
        rf"billing/payments/(?P<payment_id>{UUID})",
        payments.PaymentDetailView,
        "billing-payments-detail",
    ),
    (
        rf"billing/payments/(?P<payment_id>{UUID})/refund",
        payments.PaymentRefundView,
        "billing-payments-refund",
    ),
    (r"billing/payout-account", payouts.PayoutAccountView, "billing-payout-account"),
    (r"billing/payouts", payouts.PayoutListView, "billing-payouts"),
    (r"billing/payouts/summary", payouts.PayoutSummaryView, "billing-payouts-summary"),
    (rf"billing/payouts/(?P<payout_id>{UUID})", payouts.PayoutDetailView, "billing-payouts-detail"),
    (r"billing/balance", payouts.BalanceView, "billing-balance"),
    # webhooks (the staff tools first: "events" is not a provider)
    (r"billing/webhooks/events", webhooks.WebhookEventListView, "billing-webhook-events"),
    (
        rf"billing/webhooks/events/(?P<event_id>{UUID})",
        webhooks.WebhookEventDetailView,
        "billing-webhook-events-detail",
    ),
    (
        rf"billing/webhooks/events/(?P<event_id>{UUID})/replay",
        webhooks.WebhookReplayView,
        "billing-webhook-events-replay",
    ),
    (r"billing/webhooks/(?P<provider>[a-z0-9_-]{1,32})", webhooks.WebhookView, "billing-webhooks"),
)

urlpatterns = [api_path(*route) for route in ROUTES]
