"""Listener subscriptions, the seats of Duo and Family plans, and the student price.

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
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billing import notices, plans, providers, selectors
from billing.errors import Conflict, Forbidden, Invalid, NotFound, ProviderError
from billing.models import (
    BillingCustomer,
    CheckoutKind,
    CheckoutSession,
    CheckoutStatus,
    InvitationStatus,
    Payment,
    PaymentStatus,
    SeatInvitation,
    StudentVerification,
    Subscription,
    SubscriptionMember,
    SubscriptionStatus,
    VerificationStatus,
)
from billing.providers.base import SubscriptionSnapshot
from billing.services import payments

logger = logging.getLogger(__name__)

INVITATION_SALT = "billing.seat_invitation"
INVITATION_MAX_AGE = timedelta(days=14)
STUDENT_VERIFICATION_VALIDITY = timedelta(days=365)


def _site(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def entitlements_invalidate(user_ids) -> None:
    """Forget the cached entitlements of these people, now and again after the commit (a read
    between the two would otherwise cache the state being replaced)."""
    keys = [selectors.entitlements_cache_key(user_id) for user_id in set(user_ids)]
    if not keys:
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def _people(subscription: Subscription) -> list:
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


def _subscription_for_update(
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


def _release_seats(subscription: Subscription) -> None:
    subscription.members.all().delete()
    subscription.invitations.filter(status=InvitationStatus.PENDING).update(
        status=InvitationStatus.REVOKED, responded_at=timezone.now()
    )


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
    return_url = _site(reverse("billing:checkout_return", kwargs={"checkout_id": checkout.pk}))
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
            subscription = _subscription_for_update(
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
        subscription = _subscription_for_update(
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

        people = _people(subscription)
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
            _release_seats(subscription)
        entitlements_invalidate(people)
        if subscription.is_live and not was_live:
            notices.subscription_started(subscription)
        return subscription


def _invoice_payment(subscription, *, provider, invoice_id, amount, currency) -> Payment:
    payment = (
        Payment.objects.select_for_update()
        .filter(provider=provider, provider_payment_id=invoice_id)
        .first()
    )
    if payment is not None:
        return payment
    try:
        with transaction.atomic():
            return Payment.objects.create(
                payer=subscription.user,
                provider=provider,
                purpose="subscription",
                reference=str(subscription.pk),
                description=f"{plans.get(subscription.plan).name} subscription",
                amount=amount,
                currency=currency,
                provider_payment_id=invoice_id,
            )
    except IntegrityError:
        return Payment.objects.select_for_update().get(
            provider=provider, provider_payment_id=invoice_id
        )


def subscription_invoice_paid(
    *,
    provider: str,
    invoice_id: str,
    provider_subscription_id: str,
    amount: int,
    currency: str,
    metadata: dict,
    customer_id: str = "",
    attempt: int = 1,
):
    """A subscription invoice was paid: the charge is recorded as revenue, once."""
    if not provider_subscription_id:
        return None
    with transaction.atomic():
        subscription = _subscription_for_update(
            provider=provider,
            provider_subscription_id=provider_subscription_id,
            user_id=metadata.get("encore_user"),
            plan=metadata.get("encore_plan"),
            customer_id=customer_id,
        )
        if amount <= 0:
            return subscription  # the 0 invoice that opens a trial
        payment = _invoice_payment(
            subscription, provider=provider, invoice_id=invoice_id, amount=amount, currency=currency
        )
        payments.payment_capture(payment=payment, amount=amount, currency=currency)
        return payment


def subscription_invoice_failed(
    *,
    provider: str,
    invoice_id: str,
    provider_subscription_id: str,
    amount: int,
    currency: str,
    metadata: dict,
    customer_id: str = "",
    attempt: int = 1,
):
    """A subscription charge failed: recorded, and the subscriber is told (once per attempt).
    The status (past_due) comes with the subscription's own snapshot."""
    if not provider_subscription_id:
        return None
    with transaction.atomic():
        subscription = _subscription_for_update(
            provider=provider,
            provider_subscription_id=provider_subscription_id,
            user_id=metadata.get("encore_user"),
            plan=metadata.get("encore_plan"),
            customer_id=customer_id,
        )
        if amount > 0:
            _invoice_payment(
                subscription,
                provider=provider,
                invoice_id=invoice_id,
                amount=amount,
                currency=currency,
            )
            payments.payment_record_event(
                provider=provider,
                provider_payment_id=invoice_id,
                status=PaymentStatus.FAILED,
                failure_reason="The subscription payment failed.",
            )
        notices.payment_failed(
            subscription, invoice_id=invoice_id, attempt=attempt, amount=amount, currency=currency
        )
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


def _apply_answer(subscription: Subscription, snapshot: SubscriptionSnapshot) -> Subscription:
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
    return _apply_answer(subscription, snapshot)


def subscription_resume(*, user) -> Subscription:
    """Keep a subscription that was going to end at the end of the period."""
    subscription = _own_live(user)
    if not subscription.cancel_at_period_end:
        return subscription
    snapshot = providers.get(subscription.provider).subscription_resume(subscription=subscription)
    return _apply_answer(subscription, snapshot)


def subscription_portal_url(*, user) -> str:
    subscription = _own_live(user)
    return providers.get(subscription.provider).portal_url(
        subscription=subscription, return_url=_site(reverse("billing:subscription"))
    )


def subscriptions_downgrade_past_due(*, now=None) -> int:
    """Past-due subscriptions whose grace period is over go back to free (beat task); the
    provider is then told to cancel them."""
    from billing.tasks import cancel_at_provider

    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.BILLING_GRACE_PERIOD_DAYS)
    due = Subscription.objects.filter(
        status=SubscriptionStatus.PAST_DUE, past_due_since__lte=cutoff
    ).values_list("pk", flat=True)
    count = 0
    for pk in list(due[:500]):
        with transaction.atomic():
            subscription = Subscription.objects.select_for_update().get(pk=pk)
            if (
                subscription.status != SubscriptionStatus.PAST_DUE
                or subscription.past_due_since > cutoff
            ):
                continue
            people = _people(subscription)
            subscription.status = SubscriptionStatus.CANCELED
            subscription.ended_at = now
            subscription.canceled_at = subscription.canceled_at or now
            subscription.ended_reason = "payment_failed"
            subscription.synced_at = max(subscription.synced_at or now, now)
            subscription.save()
            _release_seats(subscription)
            entitlements_invalidate(people)
            transaction.on_commit(lambda pk=pk: cancel_at_provider.delay(str(pk)))
        count += 1
    return count


def subscription_cancel_at_provider(*, subscription_id) -> None:
    subscription = Subscription.objects.filter(pk=subscription_id).first()
    if subscription is None or not subscription.provider_subscription_id:
        return
    snapshot = providers.get(subscription.provider).subscription_cancel(
        subscription=subscription, at_period_end=False
    )
    _apply_answer(subscription, snapshot)


# --- seats ----------------------------------------------------------------------------------


def invitation_token(invitation: SeatInvitation) -> str:
    # No timestamp in the signature: the link is the same each time it is shown (the email,
    # the API, the page), and its age is measured from the invitation itself.
    return signing.Signer(salt=INVITATION_SALT).sign_object({"i": str(invitation.pk)})


def invitation_accept_url(invitation: SeatInvitation) -> str:
    return _site(reverse("billing:seat_accept", kwargs={"token": invitation_token(invitation)}))


def invitation_from_token(token: str) -> SeatInvitation:
    try:
        data = signing.Signer(salt=INVITATION_SALT).unsign_object(token)
    except signing.BadSignature:
        raise Invalid("This invitation link is not valid.", code="invalid_invitation") from None
    try:
        invitation_id = uuid.UUID(str(data.get("i"))) if isinstance(data, dict) else None
    except ValueError:
        invitation_id = None
    invitation = SeatInvitation.objects.filter(pk=invitation_id).first() if invitation_id else None
    if invitation is None:
        raise NotFound("This invitation does not exist.")
    if timezone.now() - invitation.created_at > INVITATION_MAX_AGE:
        raise Invalid("This invitation link has expired.", code="invitation_expired")
    return invitation


def _owner_subscription_for_update(owner) -> Subscription:
    subscription = _own_live(owner)
    return Subscription.objects.select_for_update().get(pk=subscription.pk)


def seat_invite(*, owner, email: str) -> SeatInvitation:
    """Invite someone by email to a seat on the owner's Duo or Family plan. Pending
    invitations hold a seat. The person is notified when they have an account; the owner
    can share the accept link in any case."""
    email = get_user_model().objects.normalize_email((email or "").strip())
    try:
        validate_email(email)
    except ValidationError:
        raise Invalid("Enter a valid email address.", code="invalid_email") from None
    with transaction.atomic():
        subscription = _owner_subscription_for_update(owner)
        seats = plans.get(subscription.plan).seats
        if seats <= 1:
            raise Conflict("Your plan has no seats to share.", code="no_seats")
        if email.lower() == owner.email.lower():
            raise Invalid("You already listen on your own plan.", code="own_email")
        if subscription.members.filter(user__email__iexact=email).exists():
            raise Conflict("This person is already on your plan.", code="already_member")
        pending = subscription.invitations.filter(status=InvitationStatus.PENDING)
        if pending.filter(email__iexact=email).exists():
            raise Conflict("This person is already invited.", code="already_invited")
        if subscription.members.count() + pending.count() >= seats - 1:
            raise Conflict(f"All {seats} seats of your plan are taken.", code="seat_limit_reached")
        invitation = SeatInvitation.objects.create(
            subscription=subscription, email=email, invited_by=owner
        )
        recipient = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if recipient is not None:
            notices.seat_invitation(
                invitation, recipient=recipient, accept_url=invitation_accept_url(invitation)
            )
    return invitation


def seat_accept(*, user, token: str | None = None, invitation_id=None) -> SubscriptionMember:
    """Take the seat an invitation holds. The seat limit is checked under the subscription's
    lock, so concurrent acceptances never overfill a plan."""
    if token is not None:
        invitation = invitation_from_token(token)
    else:
        invitation = SeatInvitation.objects.filter(pk=invitation_id).first()
        if invitation is None:
            raise NotFound("This invitation does not exist.")
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=invitation.subscription_id)
        invitation = SeatInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.email.lower() != user.email.lower():
            raise Forbidden(
                "This invitation is for another email address.", code="invitation_for_another_email"
            )
        if invitation.status == InvitationStatus.ACCEPTED and invitation.accepted_by_id == user.pk:
            member = subscription.members.filter(user=user).first()
            if member is not None:
                return member
        if invitation.status != InvitationStatus.PENDING:
            raise Conflict("This invitation is no longer valid.", code="invitation_not_pending")
        if not subscription.is_live:
            raise Conflict("This plan is not running any more.", code="subscription_not_active")
        if subscription.user_id == user.pk or selectors.own_live_subscription(user) is not None:
            raise Conflict(
                "You have a premium plan of your own. Cancel it before joining another.",
                code="has_own_subscription",
            )
        if SubscriptionMember.objects.filter(user=user).exists():
            raise Conflict("You are already on a plan. Leave it first.", code="already_member")
        seats = plans.get(subscription.plan).seats
        if subscription.members.count() >= seats - 1:
            raise Conflict("All the seats of this plan are taken.", code="seat_limit_reached")
        try:
            with transaction.atomic():
                member = SubscriptionMember.objects.create(subscription=subscription, user=user)
        except IntegrityError:
            raise Conflict(
                "You are already on a plan. Leave it first.", code="already_member"
            ) from None
        invitation.status = InvitationStatus.ACCEPTED
        invitation.accepted_by = user
        invitation.responded_at = timezone.now()
        invitation.save(update_fields=["status", "accepted_by", "responded_at"])
        entitlements_invalidate([user.pk])
    return member


def seat_leave(*, user) -> None:
    membership = SubscriptionMember.objects.filter(user=user).first()
    if membership is None:
        raise NotFound("You are not on anyone's plan.", code="not_a_member")
    with transaction.atomic():
        Subscription.objects.select_for_update().get(pk=membership.subscription_id)
        SubscriptionMember.objects.filter(pk=membership.pk).delete()
        entitlements_invalidate([user.pk])


def seat_remove(*, owner, member_user_id) -> None:
    with transaction.atomic():
        subscription = _owner_subscription_for_update(owner)
        member = subscription.members.filter(user_id=member_user_id).first()
        if member is None:
            raise NotFound("This person is not on your plan.", code="not_a_member")
        member.delete()
        entitlements_invalidate([member_user_id])


def invitation_revoke(*, owner, invitation_id) -> SeatInvitation:
    with transaction.atomic():
        subscription = _owner_subscription_for_update(owner)
        invitation = (
            subscription.invitations.select_for_update()
            .filter(pk=invitation_id, status=InvitationStatus.PENDING)
            .first()
        )
        if invitation is None:
            raise NotFound("No such pending invitation.")
        invitation.status = InvitationStatus.REVOKED
        invitation.responded_at = timezone.now()
        invitation.save(update_fields=["status", "responded_at"])
    return invitation


# --- the student price ----------------------------------------------------------------------


def student_verification_request(
    *, user, institution: str, student_email: str = ""
) -> StudentVerification:
    institution = (institution or "").strip()
    if not institution:
        raise Invalid("Tell us where you study.", code="institution_required")
    if selectors.student_approved(user):
        raise Conflict("You are already verified as a student.", code="already_verified")
    try:
        with transaction.atomic():
            return StudentVerification.objects.create(
                user=user,
                institution=institution[:200],
                student_email=(student_email or "").strip(),
            )
    except IntegrityError:
        raise Conflict("Your request is waiting for review.", code="already_pending") from None


def student_verification_review(
    *, verification_id, reviewer, approve: bool, note: str = ""
) -> StudentVerification:
    if not reviewer.is_staff:
        raise Forbidden("Only staff review student verifications.")
    with transaction.atomic():
        verification = (
            StudentVerification.objects.select_for_update().filter(pk=verification_id).first()
        )
        if verification is None:
            raise NotFound("No such verification request.")
        if verification.status != VerificationStatus.PENDING:
            raise Conflict("This request was already reviewed.", code="already_reviewed")
        now = timezone.now()
        verification.status = (
            VerificationStatus.APPROVED if approve else VerificationStatus.REJECTED
        )
        verification.reviewed_by = reviewer
        verification.reviewed_at = now
        verification.note = (note or "")[:300]
        verification.expires_at = now + STUDENT_VERIFICATION_VALIDITY if approve else None
        verification.save()
    return verification
