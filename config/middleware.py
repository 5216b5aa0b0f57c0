from django.middleware.common import CommonMiddleware


class CommonMiddlewareWithoutApiSlashRedirects(CommonMiddleware):
    """APPEND_SLASH for pages, but never for /api/: API routes accept both spellings already,
    and a redirect would turn a client's POST into a GET."""

    def should_redirect_with_slash(self, request):
        if request.path_info.startswith("/api/"):
            return False
        return super().should_redirect_with_slash(request)
