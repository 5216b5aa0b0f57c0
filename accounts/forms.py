from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts import hooks, services
from accounts.models import User
from accounts.net import client_ip
from accounts.validators import validate_image_upload


class RegisterForm(forms.Form):
    display_name = forms.CharField(max_length=80, label="Your name")
    email = forms.EmailField(max_length=254)
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
        strip=False,
    )
    role = forms.ChoiceField(
        choices=[
            ("listener", "I want to listen and commission songs"),
            ("musician", "I am a musician"),
        ],
        widget=forms.RadioSelect,
        initial="listener",
        label="How will you use Encore?",
    )

    def save(self) -> User:
        data = self.cleaned_data
        try:
            return services.user_create(
                email=data["email"],
                password=data["password"],
                display_name=data["display_name"],
                is_musician=data["role"] == "musician",
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    for e in errors:
                        self.add_error(field if field in self.fields else None, e)
            else:
                self.add_error("password", error)
            raise


class LoginForm(AuthenticationForm):
    """Django's login form, with the same failure limits as the API."""

    username = forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The email or password is not right.",
        "throttled": "Too many failed attempts. Try again in a minute.",
    }

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email and password:
            try:
                self.user_cache = services.login_authenticate(
                    request=self.request,
                    email=email,
                    password=password,
                    ip_address=client_ip(self.request),
                )
            except services.LoginThrottled:
                raise ValidationError(self.error_messages["throttled"], code="throttled") from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = [
            "display_name",
            "avatar",
            "preferred_audio_quality",
            "offline_mode",
            "phone_number",
        ]
        labels = {
            "offline_mode": "Offline mode (keep downloads for listening without a connection)"
        }
        help_texts = {"phone_number": "International format, e.g. +14155550123."}

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar and hasattr(avatar, "content_type"):  # a new upload, not the stored file
            validate_image_upload(avatar)
        return avatar


class PasswordResetForm(DjangoPasswordResetForm):
    """Django's reset form (which picks the accounts and makes the signed token), with the mail
    handed to notifications through the accounts hook: it is critical account mail, sent from
    the notifications templates and recorded in the delivery log."""

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        path = reverse(
            "accounts:password_reset_confirm",
            kwargs={"uidb64": context["uid"], "token": context["token"]},
        )
        reset_url = f"{context['protocol']}://{context['domain']}{path}"
        hooks.emit("password_reset_requested", user=context["user"], reset_url=reset_url)


class PhoneCodeForm(forms.Form):
    code = forms.CharField(
        label="The 6-digit code we sent you",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}
        ),
    )
