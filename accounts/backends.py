from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Log in by email in any letter case (the manager's natural key is case-insensitive)."""

    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        return super().authenticate(
            request, username=email or username, password=password, **kwargs
        )
