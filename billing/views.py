"""Billing pages: plans and prices, my subscription, the checkout return, seat invitations,
the sandbox provider's checkout page and the page that opens Razorpay Checkout."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from billing import plans, providers, selectors, services
from billing.errors import BillingError
from billing.models import (
    CheckoutKind,
    CheckoutSession,
    CheckoutStatus,
    Payment,
    PaymentStatus,
    SandboxSubscription,
    SubscriptionStatus,
)
from billing.providers import sandbox

logger = logging.getLogger(__name__)


def plans_page(request):
    user = request.user
    overview = selectors.subscription_overview(user) if user.is_authenticated else None
    rows = [
        {"plan": plan, "price": plan.price(), "currency": plan.price_currency()}
        for plan in plans.PLANS.values()
    ]
    return render(
        request,
        "billing/plans.html",
        {
            "rows": rows,
            "overview": overview,
            "current_plan": overview["plan"].code if overview else plans.FREE,
            "trial_days": settings.BILLING_TRIAL_DAYS,
            "payments_available": providers.subscriptions_configured(),
            "trial_eligible": overview["trial_eligible"] if overview else True,
            "student_approved": selectors.student_approved(user)
            if user.is_authenticated
            else False,
        },
    )


@login_required
@require_POST
def subscribe(request):
    try:
        checkout = services.subscription_checkout_start(
            user=request.user, plan=request.POST.get("plan", "")
        )
    except BillingError as error:
        messages.error(request, error.message)
        return redirect("billing:plans")
    return HttpResponseRedirect(checkout.url)


@login_required
def subscription_page(request):
    overview = selectors.subscription_overview(request.user)
    subscription = overview["subscription"]
    sandbox_subscription = None
    if (
        overview["role"] == "owner"
        and subscription.provider == "sandbox"
        and providers.sandbox_enabled()
    ):
        sandbox_subscription = SandboxSubscription.objects.filter(
            pk=subscription.provider_subscription_id
        ).first()
    invitation_links = {
        invitation.pk: services.invitation_accept_url(invitation)
        for invitation in overview["invitations"]
    }
    return render(
        request,
        "billing/subscription.html",
        {
            **overview,
            "invitation_rows": [
                (invitation, invitation_links[invitation.pk])
                for invitation in overview["invitations"]
            ],
            "payments": Payment.objects.filter(payer=request.user).order_by("-created_at")[:10],
            "sandbox_subscription": sandbox_subscription,
            "grace_days": settings.BILLING_GRACE_PERIOD_DAYS,
            "portal_available": overview["role"] == "owner" and subscription.provider == "stripe",
        },
    )


def _when(value) -> str:
    return date_format(value, "j F Y") if value else ""


@login_required
@require_POST
def subscription_action(request, action):
    user = request.user
    try:
        if action == "cancel":
            subscription = services.subscription_cancel(user=user)
            messages.success(
                request,
                f"Your plan will end on {_when(subscription.current_period_end)}. "
                "You keep premium until then.",
            )
        elif action == "resume":
            services.subscription_resume(user=user)
            messages.success(request, "Your plan will carry on.")
        elif action == "portal":
            return HttpResponseRedirect(services.subscription_portal_url(user=user))
        elif action == "leave":
            services.seat_leave(user=user)
            messages.success(request, "You left the plan.")
        elif action == "invite":
            invitation = services.seat_invite(owner=user, email=request.POST.get("email", ""))
            messages.success(
                request,
                f"We invited {invitation.email}. You can also share their link below.",
            )
        elif action == "student":
            services.student_verification_request(
                user=user,
                institution=request.POST.get("institution", ""),
                student_email=request.POST.get("student_email", ""),
            )
            messages.success(request, "Thanks! We will review your student status soon.")
        else:
            raise Http404
    except BillingError as error:
        messages.error(request, error.message)
    return redirect("billing:subscription")


@login_required
@require_POST
def member_remove(request, user_id):
    try:
        services.seat_remove(owner=request.user, member_user_id=user_id)
        messages.success(request, "They are no longer on your plan.")
    except BillingError as error:
        messages.error(request, error.message)
    return redirect("billing:subscription")


@login_required
@require_POST
def invitation_revoke(request, invitation_id):
    try:
        services.invitation_revoke(owner=request.user, invitation_id=invitation_id)
        messages.success(request, "The invitation is withdrawn.")
    except BillingError as error:
        messages.error(request, error.message)
    return redirect("billing:subscription")


@login_required
@require_POST
def invitation_accept(request, invitation_id):
    try:
        services.seat_accept(user=request.user, invitation_id=invitation_id)
        messages.success(request, "Welcome aboard: you are on the plan now.")
    except BillingError as error:
        messages.error(request, error.message)
    return redirect("billing:subscription")


@login_required
@require_http_methods(["GET", "POST"])
def seat_accept(request, token):
    try:
        invitation = services.invitation_from_token(token)
    except BillingError as error:
        return render(
            request, "billing/seat_accept.html", {"error": error.message}, status=error.status
        )
    if request.method == "POST":
        try:
            services.seat_accept(user=request.user, token=token)
        except BillingError as error:
            return render(
                request,
                "billing/seat_accept.html",
                {"invitation": invitation, "error": error.message},
                status=error.status,
            )
        messages.success(request, "Welcome aboard: you are on the plan now.")
        return redirect("billing:subscription")
    return render(
        request,
        "billing/seat_accept.html",
        {
            "invitation": invitation,
            "plan": plans.get(invitation.subscription.plan),
            "other_email": invitation.email.lower() != request.user.email.lower(),
        },
    )


def _checkout_state(checkout: CheckoutSession, outcome: str | None) -> str:
    """done | pending | failed | cancelled, for the return page."""
    if checkout.kind == CheckoutKind.SUBSCRIPTION:
        subscription = checkout.subscription
        if checkout.status == CheckoutStatus.COMPLETED or (
            subscription is not None and subscription.status != SubscriptionStatus.INCOMPLETE
        ):
            return "done"
        if checkout.status == CheckoutStatus.FAILED:
            return "failed"
    else:
        payment = checkout.payment
        if payment.status in (
            PaymentStatus.CAPTURED,
            PaymentStatus.PARTIALLY_REFUNDED,
            PaymentStatus.REFUNDED,
        ):
            return "done"
        if payment.status == PaymentStatus.FAILED:
            return "failed"
    if outcome == "cancelled":
        return "cancelled"
    return "pending"


@login_required
def checkout_return(request, checkout_id):
    checkout = (
        CheckoutSession.objects.select_related("payment", "subscription")
        .filter(pk=checkout_id, user=request.user)
        .first()
    )
    if checkout is None:
        raise Http404
    state = _checkout_state(checkout, request.GET.get("outcome"))
    if (
        state == "done"
        and checkout.kind != CheckoutKind.SUBSCRIPTION
        and checkout.return_to
        and url_has_allowed_host_and_scheme(
            checkout.return_to,
            allowed_hosts={request.get_host()},
            require_https=request.is_secure(),
        )
    ):
        # A one-off payment (an order's milestone): straight back to what was paid for.
        messages.success(request, "Payment received. Thank you.")
        return redirect(checkout.return_to)
    return render(
        request,
        "billing/checkout_return.html",
        {
            "checkout": checkout,
            "state": state,
            "plan": plans.get(checkout.plan) if checkout.plan else None,
        },
    )


@csrf_exempt  # the provider's page, as if on its own domain; its id is the secret
@require_http_methods(["GET", "POST"])
def sandbox_checkout(request, checkout_id):
    """The sandbox provider's checkout page: pay, be declined, or leave."""
    if not providers.sandbox_enabled():
        raise Http404
    try:
        checkout = sandbox.checkout_get(checkout_id)
    except BillingError:
        raise Http404 from None
    declined = False
    if request.method == "POST":
        outcome = request.POST.get("outcome", "")
        if outcome not in ("success", "failure", "cancel"):
            return render(
                request,
                "billing/sandbox_checkout.html",
                {"checkout": checkout, "error": "Choose how the payment should end."},
                status=400,
            )
        checkout, next_url = sandbox.checkout_complete(checkout_id=checkout.id, outcome=outcome)
        if next_url:
            return HttpResponseRedirect(next_url)
        declined = True
    return render(
        request,
        "billing/sandbox_checkout.html",
        {"checkout": checkout, "declined": declined, "plan": plans.PLANS.get(checkout.plan)},
    )


@login_required
@require_POST
def sandbox_control(request, subscription_id, action):
    if not providers.sandbox_enabled() or action not in ("renew", "fail", "trial_ending"):
        raise Http404
    owns = selectors.own_live_subscription(request.user)
    if (
        owns is None
        or owns.provider != "sandbox"
        or owns.provider_subscription_id != subscription_id
    ):
        raise Http404
    try:
        sandbox.control(subscription_id=subscription_id, action=action)
    except BillingError as error:
        messages.error(request, error.message)
    else:
        messages.info(
            request,
            {
                "renew": "Sandbox: the renewal was charged.",
                "fail": "Sandbox: the renewal payment failed.",
                "trial_ending": "Sandbox: the trial now ends in 3 days.",
            }[action],
        )
    return redirect("billing:subscription")


@login_required
def razorpay_checkout(request, checkout_id):
    """Opens Razorpay Checkout (Razorpay's own script) for a payment."""
    checkout = CheckoutSession.objects.filter(
        pk=checkout_id, user=request.user, provider="razorpay"
    ).first()
    if checkout is None:
        raise Http404
    return render(request, "billing/razorpay_checkout.html", {"checkout": checkout})


@csrf_exempt  # posted by Razorpay Checkout; the payment signature is what is checked
@require_POST
def razorpay_callback(request, checkout_id):
    checkout = (
        CheckoutSession.objects.select_related("payment")
        .filter(pk=checkout_id, provider="razorpay")
        .first()
    )
    if checkout is None:
        raise Http404
    if request.POST.get("error[code]"):
        return redirect(f"{_return_path(checkout)}?outcome=failed")
    try:
        services.payment_confirm_client(
            checkout=checkout,
            order_id=request.POST.get("razorpay_order_id", ""),
            payment_id=request.POST.get("razorpay_payment_id", ""),
            signature=request.POST.get("razorpay_signature", ""),
        )
    except BillingError as error:
        return render(
            request,
            "billing/checkout_return.html",
            {"checkout": checkout, "state": "failed", "error": error.message},
            status=error.status,
        )
    return redirect(_return_path(checkout))


def _return_path(checkout: CheckoutSession) -> str:
    return reverse("billing:checkout_return", kwargs={"checkout_id": checkout.pk})
