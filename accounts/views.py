from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST

from accounts import services
from accounts.forms import LoginForm, PasswordResetForm, PhoneCodeForm, ProfileForm, RegisterForm
from accounts.models import User


def register(request):
    if request.user.is_authenticated:
        return redirect("/")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = form.save()
        except ValidationError:
            pass  # the form carries the errors; render it again below
        else:
            login(request, user, backend="accounts.backends.EmailBackend")
            messages.success(request, f"Welcome to Encore, {user.display_name}!")
            return redirect("/")
    return render(
        request, "accounts/register.html", {"form": form}, status=400 if form.errors else 200
    )


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        messages.success(self.request, f"Welcome back, {form.get_user().display_name}.")
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, request.FILES or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        changed = {name: form.cleaned_data[name] for name in form.changed_data}
        if changed.get("avatar") is False:  # "clear" ticked on the file input
            changed["avatar"] = ""
        try:
            services.profile_update(user=request.user, **changed)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Your profile is saved.")
            return HttpResponseRedirect(request.path)
    if not form.is_bound:
        form = ProfileForm(instance=request.user)
    return render(
        request, "accounts/profile.html", {"form": form}, status=400 if form.errors else 200
    )


@require_GET
@cache_control(public=True, max_age=3600)
def avatar(request, user_id):
    user = get_object_or_404(User, pk=user_id, is_active=True)
    if not user.avatar:
        raise Http404("No avatar.")
    storage = user.avatar.storage
    if not hasattr(storage, "path"):  # remote storage: let it serve the bytes
        return HttpResponseRedirect(storage.url(user.avatar.name))
    try:
        handle = storage.open(user.avatar.name, "rb")
    except FileNotFoundError:
        raise Http404("No avatar.") from None
    return FileResponse(handle)


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        messages.success(self.request, "Your password is changed.")
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    """The mail itself is the notifications event ``account.password_reset``."""

    template_name = "accounts/password_reset.html"
    form_class = PasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")
    post_reset_login = False

    def form_valid(self, form):
        messages.success(self.request, "Your password is set. Log in with it now.")
        return super().form_valid(form)


# --- verification ---------------------------------------------------------------------------


@require_GET
def email_verify(request, token):
    """The link in the confirmation email. Works without being logged in."""
    try:
        user = services.email_verification_confirm(token=token)
    except services.VerificationError as error:
        return render(
            request,
            "accounts/email_verify.html",
            {"verified": False, "error": error.messages[0], "code": error.code},
            status=400,
        )
    return render(request, "accounts/email_verify.html", {"verified": True, "person": user})


@login_required
@require_POST
def email_verify_resend(request):
    try:
        services.email_verification_request(user=request.user)
    except services.VerificationError as error:
        messages.info(request, error.messages[0])
    except services.VerificationThrottled as throttled:
        messages.warning(request, str(throttled))
    else:
        messages.success(request, f"We sent a new link to {request.user.email}.")
    return redirect(_safe_next(request, default="accounts:verify"))


def _safe_next(request, *, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(default)


@login_required
def verify(request):
    """Confirm the email (resend the link) and verify the phone number on the profile: send a
    code by SMS, then type it in."""
    form = PhoneCodeForm()
    status = 200
    if request.method == "POST":
        if request.POST.get("action") == "send":
            try:
                services.phone_verification_request(user=request.user)
            except services.VerificationError as error:
                messages.error(request, error.messages[0])
            except services.VerificationThrottled as throttled:
                messages.warning(request, str(throttled))
            else:
                messages.success(request, f"We sent a code to {request.user.phone_number}.")
            return redirect("accounts:verify")
        form = PhoneCodeForm(request.POST)
        if form.is_valid():
            try:
                services.phone_verification_confirm(
                    user=request.user, code=form.cleaned_data["code"]
                )
            except services.VerificationError as error:
                form.add_error("code", error)
            else:
                messages.success(request, "Your phone number is verified.")
                return redirect("accounts:verify")
        status = 400
    request.user.refresh_from_db()
    return render(request, "accounts/verify.html", {"form": form}, status=status)
