"""The forms of the Wagtail admin's people screens, with Encore's own fields (display name,
musician). The screens themselves, which also show what people do in other apps, are
cms/wagtail_users.py."""

from django import forms
from wagtail.users.forms import UserCreationForm, UserEditForm

from accounts.models import User

ENCORE_FIELDS = {"display_name", "is_musician"}


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
    class Meta(UserCreationForm.Meta):
        fields = UserCreationForm.Meta.fields | ENCORE_FIELDS


class EncoreUserEditForm(_EmailUniqueInAnyCase, UserEditForm):
    class Meta(UserEditForm.Meta):
        fields = UserEditForm.Meta.fields | ENCORE_FIELDS
