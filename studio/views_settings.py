"""The musician's settings: availability, the matching profile, packages and the payout account.

Every change goes through orders' services (``musician_profile_update``, ``package_create``,
``package_update``, ``package_deactivate``), which keep the rules; a refusal lands on the field it
names and the page answers 400 with what was typed kept. The payout account is billing's own
page (``billing:payouts``): linked from here with its state, never copied.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import selectors as billing_selectors
from orders import services as orders_services
from orders.availability import musician_availability
from orders.errors import OrderError
from orders.wording import availability_label
from studio import selectors
from studio.access import musician_required
from studio.forms import AvailabilityForm, MatchingProfileForm, PackageForm

PACKAGE_ANSWERS = {"retire": False, "restore": True}


def _back_to(section: str):
    return redirect(f"{reverse('studio:settings')}#{section}")


def _settings_render(request, *, availability=None, profile=None, package=None, status=200):
    user = request.user
    saved = orders_services.musician_profile_get(user)
    if availability is None:
        availability = AvailabilityForm(
            initial={
                "accepting_orders": saved.accepting_orders,
                "capacity": saved.capacity,
                "away_from": saved.away_from,
                "away_until": saved.away_until,
            }
        )
    if profile is None:
        profile = MatchingProfileForm(
            initial={"styles": ", ".join(saved.styles or []), "occasions": saved.occasions}
        )
    free = musician_availability(user)
    account = billing_selectors.payout_account_of(user)
    return render(
        request,
        "studio/settings.html",
        {
            "studio_section": "settings",
            "availability_form": availability,
            "profile_form": profile,
            "package_form": package or PackageForm(auto_id="new-package-%s"),
            "packages": selectors.packages_of(user),
            "availability": free,
            "availability_label": availability_label(free),
            "payout_account": account,
            "payouts_paused_by": billing_selectors.payout_paused_by(account),
        },
        status=status,
    )


@musician_required
@require_GET
def settings_page(request):
    return _settings_render(request)


def _profile_save(request, form, *, saved_message: str, form_name: str):
    if form.is_valid():
        try:
            orders_services.musician_profile_update(musician=request.user, **form.cleaned_data)
        except OrderError as error:
            form.service_error(error)
        else:
            messages.success(request, saved_message)
            return None
    return _settings_render(request, status=400, **{form_name: form})


@musician_required
@require_POST
def availability_save(request):
    form = AvailabilityForm(request.POST)
    failed = _profile_save(
        request, form, saved_message="Your availability is saved.", form_name="availability"
    )
    return failed or _back_to("availability")


@musician_required
@require_POST
def profile_save(request):
    form = MatchingProfileForm(request.POST)
    failed = _profile_save(
        request, form, saved_message="Your matching profile is saved.", form_name="profile"
    )
    return failed or _back_to("matching")


@musician_required
@require_POST
def package_create(request):
    form = PackageForm(request.POST, auto_id="new-package-%s")
    if form.is_valid():
        try:
            package = orders_services.package_create(
                musician=request.user, **form.service_arguments()
            )
        except OrderError as error:
            form.service_error(error)
        else:
            messages.success(request, f"“{package.name}” is on offer.")
            return _back_to("packages")
    return _settings_render(request, package=form, status=400)


@musician_required
@require_http_methods(["GET", "POST"])
def package_edit(request, package_id):
    package = selectors.package_of(request.user, package_id)
    status = 200
    if request.method == "POST":
        form = PackageForm(request.POST)
        if form.is_valid():
            try:
                orders_services.package_update(
                    package=package, actor=request.user, **form.service_arguments()
                )
            except OrderError as error:
                form.service_error(error)
            else:
                messages.success(
                    request,
                    f"“{package.name}” is saved. Orders already placed keep their own terms.",
                )
                return _back_to("packages")
        status = 400
    else:
        form = PackageForm(package=package)
    return render(
        request,
        "studio/package.html",
        {"studio_section": "settings", "package": package, "form": form},
        status=status,
    )


@musician_required
@require_POST
def package_offer(request, package_id, answer):
    """Retire a package (it stays for the orders placed with it) or offer it again."""
    if answer not in PACKAGE_ANSWERS:
        raise Http404("No such change.")
    package = selectors.package_of(request.user, package_id)
    try:
        if PACKAGE_ANSWERS[answer]:
            orders_services.package_update(package=package, actor=request.user, active=True)
        else:
            orders_services.package_deactivate(package=package, actor=request.user)
    except OrderError as error:
        messages.error(request, error.message)
        return _settings_render(request, status=error.status)
    if PACKAGE_ANSWERS[answer]:
        messages.success(request, f"“{package.name}” is on offer again.")
    else:
        messages.success(
            request, f"“{package.name}” is retired. Orders placed with it keep their terms."
        )
    return _back_to("packages")
