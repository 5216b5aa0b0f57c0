"""The musician's showcase page (cms.ArtistPage), edited from the studio.

An edit is saved as a new revision and sent to the moderation workflow by
``cms.services.artist_page_submit``; the live page changes only when a moderator approves. The
page shows where the last edit stands: live, waiting for a moderator, or sent back with their
comment.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.validators import validate_image_upload
from cms import selectors as cms_selectors
from cms import services as cms_services
from cms.page_models import ArtistPage
from studio.access import musician_required

FIELDS = ("title", "headline", "bio", "specializations", "search_description")


class ArtistPageForm(forms.Form):
    title = forms.CharField(label="Name on your page", max_length=255)
    headline = forms.CharField(
        max_length=120, required=False, help_text=ArtistPage._meta.get_field("headline").help_text
    )
    bio = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=5000,
        required=False,
        help_text=ArtistPage._meta.get_field("bio").help_text,
    )
    specializations = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=1000,
        required=False,
        help_text=ArtistPage._meta.get_field("specializations").help_text,
    )
    search_description = forms.CharField(
        label="Description for search engines and shared links",
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=300,
        required=False,
    )
    photo = forms.ImageField(required=False, help_text="JPEG, PNG or WebP.")
    photo_remove = forms.BooleanField(label="Remove the photo", required=False)

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo:
            validate_image_upload(photo)
        return photo


def _render(request, page, form, *, status=200):
    draft = page.get_latest_revision_as_object()
    return render(
        request,
        "studio/page.html",
        {
            "studio_section": "page",
            "artist_page": page,
            "draft": draft,
            "state": cms_selectors.artist_page_state(page),
            "form": form,
        },
        status=status,
    )


@musician_required
@require_http_methods(["GET", "POST"])
def page_edit(request):
    page = cms_selectors.artist_page_of(request.user) or cms_services.artist_page_ensure(
        request.user
    )
    if request.method == "GET":
        draft = page.get_latest_revision_as_object()
        form = ArtistPageForm(initial={name: getattr(draft, name) for name in FIELDS})
        return _render(request, page, form)

    form = ArtistPageForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render(request, page, form, status=400)
    data = form.cleaned_data
    try:
        cms_services.artist_page_submit(
            musician=request.user,
            title=data["title"],
            headline=data["headline"],
            bio=data["bio"],
            specializations=data["specializations"],
            search_description=data["search_description"],
            photo=data["photo"] or None,
            photo_remove=data["photo_remove"],
        )
    except ValidationError as error:
        for field, problems in getattr(error, "message_dict", {"__all__": error.messages}).items():
            form.add_error(field if field in form.fields else None, problems)
        return _render(request, page, form, status=400)
    messages.success(
        request, "Your changes are with our moderators. Your page shows them once approved."
    )
    return redirect("studio:page")
