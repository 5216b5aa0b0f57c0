"""The delivery log in the Wagtail admin: staff can look up what was sent to whom, and why
something failed. Read-only: rows are written by notifications alone."""

from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from notifications.models import Delivery


class ReadOnlyPolicy(ModelPermissionPolicy):
    """Viewing needs the model's view permission (superusers have it); nobody adds, edits or
    deletes a log row through the admin."""

    def user_has_permission(self, user, action):
        return action == "view" and super().user_has_permission(user, action)

    def users_with_any_permission(self, actions):
        if "view" not in actions:
            return super().users_with_any_permission([]).none()
        return super().users_with_any_permission(["view"])


register_permission_policy(Delivery, ReadOnlyPolicy(Delivery))


class DeliveryViewSet(ModelViewSet):
    model = Delivery
    icon = "mail"
    menu_label = "Delivery log"
    add_to_admin_menu = True
    menu_order = 900
    inspect_view_enabled = True
    copy_view_enabled = False
    list_display = ["event", "recipient", "channel", "status", "attempts", "to", "updated_at"]
    list_filter = ["channel", "status", "event"]
    search_fields = ["event", "event_key", "provider_id", "to", "recipient__email"]
    exclude_form_fields = ["context"]
    inspect_view_fields = [
        "event",
        "event_key",
        "recipient",
        "channel",
        "status",
        "provider",
        "provider_id",
        "to",
        "attempts",
        "error_code",
        "last_error",
        "created_at",
        "sent_at",
        "delivered_at",
        "updated_at",
    ]


@hooks.register("register_admin_viewset")
def register_delivery_log():
    return DeliveryViewSet("notification_deliveries")
