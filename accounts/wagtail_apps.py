from wagtail.users.apps import WagtailUsersAppConfig


class WagtailUsersConfig(WagtailUsersAppConfig):
    """wagtail.users, pointed at Encore's people screens (display name, musician flag)."""

    user_viewset = "accounts.wagtail_admin.UserViewSet"
