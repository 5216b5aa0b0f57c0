"""The musician's payouts page: where their money stands, where payouts go, each payout.

Thin like the other billing pages: the figures come from ``billing.selectors.payout_figures``
(as ``GET /api/billing/payouts/summary`` does) and the account is saved by
``billing.services.payouts.payout_account_set`` (as ``PUT /api/billing/payout-account``), so
the page and the API check the same rules. Plain forms; htmx refreshes the list while a payout
is on its way.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from billing import providers, selectors
from billing.errors import BillingError
from billing.models import PAYOUT_OPEN_STATUSES, Payout
from billing.services import payouts

PAGE_SIZE = 20
# How often the list refreshes while a payout is on its way.
REFRESH_SECONDS = 30


class PayoutAccountForm(forms.Form):
    provider = forms.ChoiceField(label="Paid through")
    account_id = forms.CharField(label="Account id", max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = payouts.payout_providers()
        labels = {
            "sandbox": "Sandbox (no real money)",
            "razorpay": "Razorpay Route linked account",
            "stripe": "Stripe Connect account",
        }
        self.fields["provider"].choices = [(name, labels[name]) for name in names]
        examples = ", ".join(
            f"{labels[name].split(' (')[0]}: {providers.get(name).payout_account_example}"
            for name in names
        )
        self.fields["account_id"].help_text = f"For example {examples}."

    def clean(self):
        data = super().clean()
        if "provider" in data and "account_id" in data:
            try:
                data["account_id"] = payouts.payout_account_check(
                    provider=data["provider"], account_id=data["account_id"]
                )
            except BillingError as error:
                self.add_error("account_id", error.message)
        return data


def _musician(request):
    if not request.user.is_musician:
        raise PermissionDenied("Payouts are for musicians.")
    return request.user


@login_required
@require_http_methods(["GET", "POST"])
def payouts_page(request):
    user = _musician(request)
    account = selectors.payout_account_of(user)
    form = PayoutAccountForm(
        initial={"provider": account.provider, "account_id": account.account_id}
        if account
        else None
    )
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            try:
                payouts.payout_account_delete(user=user)
            except BillingError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, "Your payout account is removed: payouts stop.")
            return redirect("billing:payouts")
        form = PayoutAccountForm(request.POST)
        if form.is_valid():
            try:
                payouts.payout_account_set(
                    user=user,
                    provider=form.cleaned_data["provider"],
                    account_id=form.cleaned_data["account_id"],
                )
            except BillingError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Your payout account is saved.")
                return redirect("billing:payouts")
        status = 400
    page = Paginator(
        Payout.objects.filter(musician=user).order_by("-created_at", "-id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "refresh_seconds": REFRESH_SECONDS
        if any(payout.status in PAYOUT_OPEN_STATUSES for payout in page)
        else None,
    }
    if request.htmx and request.GET.get("part") == "list":
        return render(request, "billing/_payout_list.html", context)
    context.update(
        {
            "figures": selectors.payout_figures(user),
            "account": account,
            "paused_by": selectors.payout_paused_by(account),
            "form": form,
            "hold_days": settings.BILLING_PAYOUT_HOLD_DAYS,
        }
    )
    return render(request, "billing/payouts.html", context, status=status)
