from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # accounts sits below notifications: it tells us what happened through its hook
        # registry (DESIGN.md section 2), never a signal.
        from accounts import hooks
        from notifications.handlers import ACCOUNT_HOOKS

        for purpose, handler in ACCOUNT_HOOKS.items():
            hooks.register(purpose, handler)
