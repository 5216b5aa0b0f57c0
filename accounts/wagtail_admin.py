"""The forms of the Wagtail admin's people screens, with Encore's own fields (display name,
musician). The screens themselves, which also show what people do in other apps, are
cms/wagtail_users.py."""

from django import forms
from wagtail.users.forms import UserCreationForm, UserEditForm

from accounts.models import User

ENCORE_FIELDS = {"display_name", "is_musician"}
# Encore names people by one display name; Wagtail's required first and last names would make
# every account created on the site unsaveable in the admin.
WAGTAIL_NAME_FIELDS = {"first_name", "last_name"}


class _EmailUniqueInAnyCase:
    def clean_email(self):
        email = self.cleaned_data["email"]
        others = User.objects.filter(email__iexact=email)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(
                "An account with this email already exists.", code="email_taken"
            )
        return email


class EncoreUserCreationForm(_EmailUniqueInAnyCase, UserCreationForm):
    first_name = None
    last_name = None

    class Meta(UserCreationForm.Meta):
        fields = (UserCreationForm.Meta.fields - WAGTAIL_NAME_FIELDS) | ENCORE_FIELDS


class EncoreUserEditForm(_EmailUniqueInAnyCase, UserEditForm):
    first_name = None
    last_name = None

    class Meta(UserEditForm.Meta):
        fields = (UserEditForm.Meta.fields - WAGTAIL_NAME_FIELDS) | ENCORE_FIELDS
