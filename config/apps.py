from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """The project's top layer as an app, so that it runs the hook wiring once every app is
    loaded (it is last in INSTALLED_APPS)."""

    name = "config"
    verbose_name = "Configuration"

    def ready(self):
        # Imported here, not at the top: the wiring imports the apps' services and models,
        # which Django allows only once the app registry is ready.
        from config.wiring import hooks_wire

        hooks_wire()
