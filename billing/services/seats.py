"""The seats of Duo and Family plans: invitations by email, joining, leaving, removing."""

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billing import notices, plans, selectors
from billing.errors import Conflict, Forbidden, Invalid, NotFound
from billing.models import (
    InvitationStatus,
    SeatInvitation,
    Subscription,
    SubscriptionMember,
)
from billing.services.common import site_url
from billing.services.entitlements import entitlements_invalidate

INVITATION_SALT = "billing.seat_invitation"
INVITATION_MAX_AGE = timedelta(days=14)


def seats_release(subscription: Subscription) -> None:
    """A subscription that ended: its members leave and its pending invitations lapse."""
    subscription.members.all().delete()
    subscription.invitations.filter(status=InvitationStatus.PENDING).update(
        status=InvitationStatus.REVOKED, responded_at=timezone.now()
    )


def _owner_subscription_for_update(owner) -> Subscription:
    subscription = selectors.own_live_subscription(owner)
    if subscription is None:
        raise Conflict("You have no premium plan.", code="not_subscribed")
    return Subscription.objects.select_for_update().get(pk=subscription.pk)


def invitation_token(invitation: SeatInvitation) -> str:
    # No timestamp in the signature: the link is the same each time it is shown (the email,
    # the API, the page), and its age is measured from the invitation itself.
    return signing.Signer(salt=INVITATION_SALT).sign_object({"i": str(invitation.pk)})


def invitation_accept_url(invitation: SeatInvitation) -> str:
    return site_url(reverse("billing:seat_accept", kwargs={"token": invitation_token(invitation)}))


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
        if selectors.seats_left(subscription) == 0:
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
        if selectors.seats_left(subscription, accepting=True) == 0:
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
