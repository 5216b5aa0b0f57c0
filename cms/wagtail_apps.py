from wagtail.users.apps import WagtailUsersAppConfig


class WagtailUsersConfig(WagtailUsersAppConfig):
    """wagtail.users, pointed at Encore's people screens (cms/wagtail_users.py)."""

    user_viewset = "cms.wagtail_users.UserViewSet"
