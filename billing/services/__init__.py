"""Every write about billing, one module per job (see each module's docstring):

- ``ledger``: the double-entry ledger (``ledger_post``);
- ``payments``: a payment created, checked out, and what its provider says about it;
- ``captures``: money in (``payment_capture``), once;
- ``escrow``: an order's escrow released to the musician and the platform;
- ``refunds``: money back to the payer;
- ``payouts``: money out to musicians;
- ``subscriptions``: listener subscriptions: checkout, following the provider, cancel, resume;
- ``renewals``: subscription charges paid or failed, and the end of the grace period;
- ``seats``: the seats of Duo and Family plans;
- ``students``: the student price;
- ``entitlements``: forgetting the cached entitlements of people whose plan changed;
- ``webhooks``: verified, stored-once, idempotent provider webhooks.

The names below are re-exported for the apps above billing (``from billing import
services``); billing's own modules import the module they need.
"""

from billing.services.captures import payment_capture, payment_capture_at_provider
from billing.services.entitlements import entitlements_invalidate
from billing.services.escrow import escrow_release
from billing.services.ledger import Leg, balance, ledger_post
from billing.services.payments import (
    payment_checkout_start,
    payment_confirm_client,
    payment_create,
    payment_get,
    payment_record_event,
)
from billing.services.payouts import (
    payout_account_set,
    payout_create,
    payout_record_event,
)
from billing.services.refunds import payment_refund, refund_fail, refund_record_event
from billing.services.renewals import (
    subscription_invoice_failed,
    subscription_invoice_paid,
    subscriptions_downgrade_past_due,
)
from billing.services.seats import (
    invitation_accept_url,
    invitation_from_token,
    invitation_revoke,
    invitation_token,
    seat_accept,
    seat_invite,
    seat_leave,
    seat_remove,
)
from billing.services.students import student_verification_request, student_verification_review
from billing.services.subscriptions import (
    subscription_cancel,
    subscription_cancel_at_provider,
    subscription_checkout_completed,
    subscription_checkout_start,
    subscription_portal_url,
    subscription_resume,
    subscription_sync,
    subscription_trial_will_end,
)
from billing.services.webhooks import (
    webhook_process,
    webhook_receive,
    webhook_replay,
    webhooks_retry_due,
)

__all__ = [
    "Leg",
    "balance",
    "entitlements_invalidate",
    "escrow_release",
    "invitation_accept_url",
    "invitation_from_token",
    "invitation_revoke",
    "invitation_token",
    "ledger_post",
    "payment_capture",
    "payment_capture_at_provider",
    "payment_checkout_start",
    "payment_confirm_client",
    "payment_create",
    "payment_get",
    "payment_record_event",
    "payment_refund",
    "payout_account_set",
    "payout_create",
    "payout_record_event",
    "refund_fail",
    "refund_record_event",
    "seat_accept",
    "seat_invite",
    "seat_leave",
    "seat_remove",
    "student_verification_request",
    "student_verification_review",
    "subscription_cancel",
    "subscription_cancel_at_provider",
    "subscription_checkout_completed",
    "subscription_checkout_start",
    "subscription_invoice_failed",
    "subscription_invoice_paid",
    "subscription_portal_url",
    "subscription_resume",
    "subscription_sync",
    "subscription_trial_will_end",
    "subscriptions_downgrade_past_due",
    "webhook_process",
    "webhook_receive",
    "webhook_replay",
    "webhooks_retry_due",
]
