"""What billing tells people, through ``notifications.services.notify`` (the one way Encore
tells a person something). Called from billing's services inside their transactions: notify
writes its delivery rows there and sends after the commit, and each call carries a key, so an
event processed twice (a duplicate or replayed webhook) tells nobody twice.

A problem in a notification never undoes a payment or a subscription change: it is logged.
"""

import logging

from django.contrib.auth import get_user_model
from django.urls import reverse

from billing import plans
from billing.models import VerificationStatus
from notifications.services import notify

logger = logging.getLogger(__name__)


def _notify(event: str, *, recipient, context: dict, key: str) -> None:
    try:
        notify(event, recipient=recipient, context=context, key=key[:200])
    except Exception:
        logger.exception("could not record the %s notification (%s)", event, key)


def _plan_name(subscription) -> str:
    return plans.get(subscription.plan).name


def subscription_started(subscription) -> None:
    _notify(
        "subscription.started",
        recipient=subscription.user,
        context={
            "plan_name": _plan_name(subscription),
            "url": reverse("billing:subscription"),
            "renews_at": subscription.current_period_end,
        },
        key=f"subscription.started:{subscription.pk}",
    )


def trial_ending(subscription, *, trial_end) -> None:
    ends_at = trial_end or subscription.trial_end
    _notify(
        "subscription.trial_ending",
        recipient=subscription.user,
        context={
            "plan_name": _plan_name(subscription),
            "ends_at": ends_at,
            "url": reverse("billing:subscription"),
            "amount_minor": subscription.amount,
            "currency": subscription.currency,
            "interval": subscription.interval,
        },
        key=f"subscription.trial_ending:{subscription.pk}:{ends_at:%Y%m%d}"
        if ends_at
        else f"subscription.trial_ending:{subscription.pk}",
    )


def payment_failed(subscription, *, invoice_id: str, attempt: int, amount: int, currency: str):
    _notify(
        "subscription.payment_failed",
        recipient=subscription.user,
        context={
            "plan_name": _plan_name(subscription),
            "url": reverse("billing:subscription"),
            "amount_minor": amount,
            "currency": currency,
        },
        key=f"subscription.payment_failed:{subscription.provider}:{invoice_id}:{attempt}",
    )


def seat_invitation(invitation, *, recipient, accept_url: str) -> None:
    _notify(
        "subscription.seat_invitation",
        recipient=recipient,
        context={
            "inviter_name": invitation.invited_by.display_name or invitation.invited_by.email,
            "plan_name": _plan_name(invitation.subscription),
            "url": accept_url,
        },
        key=f"subscription.seat_invitation:{invitation.pk}",
    )


def _payout_context(payout) -> dict:
    """What the musician's payout notices show: the amount, and a link to their payouts."""
    return {
        "amount_minor": payout.amount,
        "currency": payout.currency,
        "url": reverse("billing:payouts"),
    }


def payout_paid(payout) -> None:
    _notify(
        "payout.paid",
        recipient=payout.musician,
        context=_payout_context(payout),
        key=f"payout.paid:{payout.pk}",
    )


def payout_failed(payout) -> None:
    """The musician is asked to check their payout account; every active staff member is told,
    with a link to the payout in the admin."""
    _notify(
        "payout.failed",
        recipient=payout.musician,
        context={**_payout_context(payout), "reason": payout.failure_reason},
        key=f"payout.failed:{payout.pk}",
    )
    musician = payout.musician
    for member in get_user_model().objects.filter(is_staff=True, is_active=True):
        _notify(
            "payout.failed_staff",
            recipient=member,
            context={
                "musician_name": musician.display_name or musician.email,
                "amount_minor": payout.amount,
                "currency": payout.currency,
                "attempts": payout.attempts,
                "reason": payout.failure_reason,
                "url": reverse("billing_payouts:inspect", args=[payout.pk]),
            },
            key=f"payout.failed_staff:{payout.pk}",
        )


def student_reviewed(verification) -> None:
    """The person learns the answer to their request for the student price (and, when it was
    declined, why)."""
    if verification.status == VerificationStatus.APPROVED:
        _notify(
            "subscription.student_approved",
            recipient=verification.user,
            context={"url": reverse("billing:plans"), "expires_at": verification.expires_at},
            key=f"subscription.student_approved:{verification.pk}",
        )
    else:
        _notify(
            "subscription.student_rejected",
            recipient=verification.user,
            context={"url": reverse("billing:subscription"), "reason": verification.note},
            key=f"subscription.student_rejected:{verification.pk}",
        )
