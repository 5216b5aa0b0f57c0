from django.apps import AppConfig


class AudioConfig(AppConfig):
    name = "audio"
    verbose_name = "Media pipeline"
    default_auto_field = "django.db.models.BigAutoField"
