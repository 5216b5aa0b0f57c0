from django.conf import settings


def client_ip(request) -> str:
    """The caller's address. Behind our own nginx the first X-Forwarded-For hop is the client."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"
