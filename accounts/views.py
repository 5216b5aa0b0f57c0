from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from accounts import services
from accounts.forms import LoginForm, ProfileForm, RegisterForm
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
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    html_email_template_name = "accounts/email/password_reset.html"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:login")
    post_reset_login = False

    def form_valid(self, form):
        messages.success(self.request, "Your password is set. Log in with it now.")
        return super().form_valid(form)
