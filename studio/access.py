"""Who may open the studio: musicians only. Anonymous people are sent to log in; anyone else
signed in is refused (403), as the payouts page does."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def musician_required(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_musician:
            raise PermissionDenied("The studio is for musicians.")
        return view(request, *args, **kwargs)

    return wrapped
