"""What the staff's Wagtail screens share: a read-only, staff-only permission policy, and the view
of one action on one row (replay a webhook, approve a student, hide a song).

An action is never a link that acts. Its button opens a page that says what will happen (and
asks for a reason when the action needs one); the page posts back (Django checks the CSRF
token), and the view calls the service that owns the change. The service checks again that
the actor is staff, writes in one transaction and records the act in Wagtail's log. Catalog's
screens use the same view, as catalog sits above billing.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.views.generic import FormView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from core.errors import ServiceError
from notifications.wagtail_hooks import ReadOnlyPolicy


class StaffReadOnlyPolicy(ReadOnlyPolicy):
    """Viewing needs staff and the model's view permission; nobody adds, edits or deletes
    through the admin (rows change through their services). Musicians who may open the admin
    for their own page never see these screens."""

    def user_has_permission(self, user, action):
        return bool(user.is_active and user.is_staff) and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        return super().users_with_any_permission(actions).filter(is_staff=True, is_active=True)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The person concerned is told this.",
    )


class OptionalNoteForm(forms.Form):
    reason = forms.CharField(
        label="Note",
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional; the person concerned is told this.",
    )


class StaffActionView(WagtailAdminTemplateMixin, FormView):
    """One staff action on one ``model`` row, by primary key (the URL's ``pk``).

    Subclasses say what the action is (``page_title``, ``confirmation``, ``button_label``,
    ``form_class``) and do it in ``perform(reason)``, calling a service. A ServiceError is
    shown on the page with its HTTP status (409 when the row changed meanwhile), and
    nothing is lost; success goes back to ``index_url_name`` or ``inspect_url_name``.
    """

    model = None
    queryset = None
    form_class = forms.Form
    template_name = "billing/admin/action.html"
    page_title = ""
    confirmation = ""
    button_label = "Confirm"
    button_class = "button"
    success_message = "Done."
    index_url_name = None
    inspect_url_name = None
    header_icon = "check"
    http_method_names = ["get", "post"]

    def dispatch(self, request, *args, **kwargs):
        # The admin's own check has let in anyone who may open the admin: staff only here.
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied
        self.object = get_object_or_404(self.get_queryset(), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return self.queryset if self.queryset is not None else self.model._default_manager.all()

    def get_page_subtitle(self):
        return str(self.object)

    @cached_property
    def inspect_url(self):
        if self.inspect_url_name:
            return reverse(self.inspect_url_name, args=[self.object.pk])
        return None

    def get_breadcrumbs_items(self):
        items = list(self.breadcrumbs_items)
        if self.index_url_name:
            items.append(
                {
                    "url": reverse(self.index_url_name),
                    "label": self.model._meta.verbose_name_plural.capitalize(),
                }
            )
        if self.inspect_url:
            items.append({"url": self.inspect_url, "label": str(self.object)})
        items.append({"url": "", "label": self.get_page_title()})
        return items

    def get_confirmation(self) -> str:
        return self.confirmation

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            object=self.object,
            confirmation=self.get_confirmation(),
            button_label=self.button_label,
            button_class=self.button_class,
            cancel_url=self.inspect_url or reverse(self.index_url_name),
        )
        return context

    def perform(self, reason: str):  # pragma: no cover - every action says what it does
        raise NotImplementedError

    def get_success_message(self, result) -> str:
        return self.success_message

    def get_success_url(self) -> str:
        return self.inspect_url or reverse(self.index_url_name)

    def form_valid(self, form):
        try:
            result = self.perform(form.cleaned_data.get("reason", ""))
        except ServiceError as error:
            form.add_error(None, error.message)
            return self.render_to_response(self.get_context_data(form=form), status=error.status)
        messages.success(self.request, self.get_success_message(result))
        return redirect(self.get_success_url())

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)
