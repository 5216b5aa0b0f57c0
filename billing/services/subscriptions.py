"""Listener subscriptions: checkout, following the provider, and what the subscriber does.

A Subscription row follows the provider: every webhook (or API answer) carries a snapshot of
the subscription, stamped with the provider's time. A snapshot older than the one the row
reflects is ignored, so events arriving out of order converge on the newest state; ties are
broken by how far along the snapshot is, the same way whatever the arrival order. A
subscription that ended (cancelled at the provider, or downgraded here after the grace
period) stays ended.

Every change drops the cached entitlements of the owner and the members.
"""

import logging
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billing import notices, plans, providers, selectors
from billing.errors import Conflict, Forbidden, Invalid, ProviderError
from billing.models import (
    BillingCustomer,
    CheckoutKind,
    CheckoutSession,
    CheckoutStatus,
    Subscription,
    SubscriptionStatus,
)
from billing.providers.base import SubscriptionSnapshot
from billing.services.common import site_url
from billing.services.entitlements import entitlements_invalidate
from billing.services.seats import seats_release

logger = logging.getLogger(__name__)


def subscription_people(subscription: Subscription) -> list:
    return [subscription.user_id, *subscription.members.values_list("user_id", flat=True)]


def _user(user_id):
    if not user_id:
        return None
    try:
        user_id = uuid.UUID(str(user_id))
    except ValueError:
        return None
    return get_user_model().objects.filter(pk=user_id).first()


def _customer_link(user, provider: str, customer_id: str) -> None:
    if (
        not customer_id
        or BillingCustomer.objects.filter(provider=provider, customer_id=customer_id).exists()
    ):
        return
    try:
        with transaction.atomic():
            BillingCustomer.objects.create(user=user, provider=provider, customer_id=customer_id)
    except IntegrityError:
        pass  # the person already has a customer there (the first one stays theirs)


def subscription_for_update(
    *, provider: str, provider_subscription_id: str, user_id=None, plan=None, customer_id=""
) -> Subscription:
    """The row for a provider subscription, locked; created when it is the first we hear of it
    (events may arrive before the checkout's completion)."""
    queryset = Subscription.objects.select_for_update()
    subscription = queryset.filter(
        provider=provider, provider_subscription_id=provider_subscription_id
    ).first()
    if subscription is not None:
        return subscription
    user = _user(user_id)
    if user is None and customer_id:
        customer = (
            BillingCustomer.objects.select_related("user")
            .filter(provider=provider, customer_id=customer_id)
            .first()
        )
        user = customer.user if customer else None
    if user is None:
        raise Invalid("This subscription's subscriber is unknown.", code="unknown_subscriber")
    if plan not in plans.PLANS or not plans.get(plan).premium:
        raise Invalid("This subscription's plan is unknown.", code="unknown_plan")
    info = plans.get(plan)
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(
                user=user,
                plan=plan,
                provider=provider,
                provider_subscription_id=provider_subscription_id,
                provider_customer_id=customer_id or "",
                amount=info.price(),
                currency=info.price_currency(),
            )
    except IntegrityError:
        subscription = queryset.get(
            provider=provider, provider_subscription_id=provider_subscription_id
        )
    _customer_link(user, provider, customer_id)
    return subscription


# --- checkout -------------------------------------------------------------------------------


def subscription_checkout_start(*, user, plan: str, return_to: str = "") -> CheckoutSession:
    """Start paying for a premium plan. Returns the CheckoutSession whose ``url`` the person
    goes to (Stripe Checkout or the sandbox's page). A first premium subscription comes with
    a BILLING_TRIAL_DAYS trial."""
    if plan not in plans.PLANS or not plans.get(plan).premium:
        raise Invalid("Choose one of the premium plans.", code="invalid_plan")
    info = plans.get(plan)
    if info.student and not selectors.student_approved(user):
        raise Forbidden(
            "The student plan needs an approved student verification first.",
            code="student_verification_required",
        )
    provider = providers.subscription_provider()
    with transaction.atomic():
        # One decision at a time per person: two clicks cannot both pass the checks below.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if selectors.own_live_subscription(user) is not None:
            raise Conflict(
                "You already have a premium plan. Cancel it before choosing another.",
                code="already_subscribed",
            )
        membership = selectors.membership_for(user)
        if membership is not None:
            raise Conflict(
                f"You listen on {membership.subscription.user.display_name}'s plan. "
                "Leave it before subscribing yourself.",
                code="already_member",
            )
        trial_days = settings.BILLING_TRIAL_DAYS if selectors.trial_eligible(user) else 0
        customer = BillingCustomer.objects.filter(user=user, provider=provider.name).first()
        checkout = CheckoutSession.objects.create(
            user=user,
            kind=CheckoutKind.SUBSCRIPTION,
            provider=provider.name,
            plan=plan,
            trial_days=trial_days,
            return_to=return_to
            if return_to.startswith("/") and not return_to.startswith("//")
            else "",
        )
    return_url = site_url(reverse("billing:checkout_return", kwargs={"checkout_id": checkout.pk}))
    try:
        start = provider.subscription_checkout(
            checkout=checkout,
            user=user,
            plan=plan,
            trial_days=trial_days,
            customer_id=customer.customer_id if customer else "",
            success_url=return_url,
            cancel_url=return_url + "?outcome=cancelled",
        )
    except (ProviderError, Invalid):
        CheckoutSession.objects.filter(pk=checkout.pk).update(status=CheckoutStatus.FAILED)
        raise
    checkout.provider_session_id = start.provider_session_id
    checkout.url = start.url
    checkout.save(update_fields=["provider_session_id", "url"])
    return checkout


def subscription_checkout_completed(
    *,
    provider: str,
    provider_session_id: str,
    provider_subscription_id: str,
    customer_id: str,
    metadata: dict,
):
    """The provider says the checkout was paid (or the trial started)."""
    with transaction.atomic():
        checkout = (
            CheckoutSession.objects.select_for_update()
            .filter(provider=provider, provider_session_id=provider_session_id)
            .first()
        )
        if checkout is None and metadata.get("encore_checkout"):
            try:
                checkout = (
                    CheckoutSession.objects.select_for_update()
                    .filter(pk=uuid.UUID(str(metadata["encore_checkout"])))
                    .first()
                )
            except ValueError:
                checkout = None
        user = checkout.user if checkout else _user(metadata.get("encore_user"))
        if user is None:
            return None
        _customer_link(user, provider, customer_id)
        subscription = None
        if provider_subscription_id:
            subscription = subscription_for_update(
                provider=provider,
                provider_subscription_id=provider_subscription_id,
                user_id=str(user.pk),
                plan=metadata.get("encore_plan") or (checkout.plan if checkout else None),
                customer_id=customer_id,
            )
        if checkout is not None and checkout.status == CheckoutStatus.OPEN:
            checkout.status = CheckoutStatus.COMPLETED
            checkout.completed_at = timezone.now()
            checkout.subscription = subscription
            checkout.save(update_fields=["status", "completed_at", "subscription"])
        return checkout or subscription


# --- following the provider -----------------------------------------------------------------


def subscription_sync(
    *,
    provider: str,
    snapshot: SubscriptionSnapshot,
    version_at,
    version_seq: int = 0,
    answer: bool = False,
) -> Subscription:
    """Make the row reflect `snapshot` unless it already reflects a newer one.

    ``answer=True``: the snapshot is the provider's answer to our own call (cancel, resume),
    the freshest state there is; it applies whatever the stored version, which becomes the
    newer of the two.
    """
    with transaction.atomic():
        subscription = subscription_for_update(
            provider=provider,
            provider_subscription_id=snapshot.provider_subscription_id,
            user_id=snapshot.user_id,
            plan=snapshot.plan,
            customer_id=snapshot.customer_id,
        )
        facts = []
        # Facts that hold whatever the snapshot's age: it started, it had a trial.
        started = snapshot.started_at if snapshot.status != SubscriptionStatus.INCOMPLETE else None
        if started and (subscription.started_at is None or started < subscription.started_at):
            subscription.started_at = started
            facts.append("started_at")
        if snapshot.trial_end and not subscription.had_trial:
            subscription.had_trial = True
            facts.append("had_trial")
        stale = subscription.synced_at is not None and (version_at, version_seq) <= (
            subscription.synced_at,
            subscription.synced_seq,
        )
        ended_for_good = (
            subscription.status == SubscriptionStatus.CANCELED
            and subscription.ended_at is not None
            and snapshot.status != SubscriptionStatus.CANCELED
        )
        if (stale and not answer) or ended_for_good:
            if facts:
                subscription.save(update_fields=[*facts, "updated_at"])
            return subscription

        people = subscription_people(subscription)
        was_live = subscription.is_live
        before = subscription.status
        subscription.status = snapshot.status
        if snapshot.plan in plans.PLANS and plans.get(snapshot.plan).premium:
            subscription.plan = snapshot.plan
        if snapshot.amount is not None:
            subscription.amount = snapshot.amount
        if snapshot.currency:
            subscription.currency = snapshot.currency
        if snapshot.customer_id:
            subscription.provider_customer_id = snapshot.customer_id
        subscription.trial_end = snapshot.trial_end
        subscription.current_period_start = snapshot.current_period_start
        subscription.current_period_end = snapshot.current_period_end
        subscription.cancel_at_period_end = snapshot.cancel_at_period_end
        subscription.canceled_at = snapshot.canceled_at
        if not stale:
            subscription.synced_at = version_at
            subscription.synced_seq = version_seq
        if subscription.status == SubscriptionStatus.PAST_DUE:
            subscription.past_due_since = snapshot.past_due_since or version_at
        else:
            subscription.past_due_since = None
        if subscription.is_live and subscription.started_at is None:
            subscription.started_at = version_at
        if subscription.status == SubscriptionStatus.CANCELED:
            subscription.ended_at = snapshot.ended_at or version_at
            subscription.ended_reason = subscription.ended_reason or "canceled"
        subscription.save()
        if (
            subscription.status == SubscriptionStatus.CANCELED
            and before != SubscriptionStatus.CANCELED
        ):
            seats_release(subscription)
        entitlements_invalidate(people)
        if subscription.is_live and not was_live:
            notices.subscription_started(subscription)
        return subscription


def subscription_trial_will_end(*, provider: str, provider_subscription_id: str, trial_end):
    subscription = Subscription.objects.filter(
        provider=provider, provider_subscription_id=provider_subscription_id
    ).first()
    if subscription is None:
        return None
    if subscription.status == SubscriptionStatus.TRIALING:
        notices.trial_ending(subscription, trial_end=trial_end)
    return subscription


# --- what the subscriber does ---------------------------------------------------------------


def subscription_apply_answer(
    subscription: Subscription, snapshot: SubscriptionSnapshot
) -> Subscription:
    """Apply a provider's answer to our call, versioned as its webhooks would be."""
    if snapshot.version is not None:
        version_at, version_seq = snapshot.version
    else:
        version_at = timezone.now().replace(microsecond=0)
        version_seq = providers.get(subscription.provider).tie_breaker(snapshot)
    return subscription_sync(
        provider=subscription.provider,
        snapshot=snapshot,
        version_at=version_at,
        version_seq=version_seq,
        answer=True,
    )


def _own_live(user) -> Subscription:
    subscription = selectors.own_live_subscription(user)
    if subscription is None:
        raise Conflict("You have no premium plan.", code="not_subscribed")
    return subscription


def subscription_cancel(*, user) -> Subscription:
    """Cancel at the end of the period (premium lasts until then)."""
    subscription = _own_live(user)
    if subscription.cancel_at_period_end:
        return subscription
    snapshot = providers.get(subscription.provider).subscription_cancel(
        subscription=subscription, at_period_end=True
    )
    return subscription_apply_answer(subscription, snapshot)


def subscription_resume(*, user) -> Subscription:
    """Keep a subscription that was going to end at the end of the period."""
    subscription = _own_live(user)
    if not subscription.cancel_at_period_end:
        return subscription
    snapshot = providers.get(subscription.provider).subscription_resume(subscription=subscription)
    return subscription_apply_answer(subscription, snapshot)


def subscription_portal_url(*, user) -> str:
    subscription = _own_live(user)
    return providers.get(subscription.provider).portal_url(
        subscription=subscription, return_url=site_url(reverse("billing:subscription"))
    )


def subscription_cancel_at_provider(*, subscription_id) -> None:
    subscription = Subscription.objects.filter(pk=subscription_id).first()
    if subscription is None or not subscription.provider_subscription_id:
        return
    snapshot = providers.get(subscription.provider).subscription_cancel(
        subscription=subscription, at_period_end=False
    )
    subscription_apply_answer(subscription, snapshot)
