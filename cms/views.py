"""/musicians/: Discover's address whatever the page tree looks like.

Discover is a Wagtail page (cms.ArtistIndexPage). It is made at /musicians/, but an editor may
move or rename it; this address keeps serving the live one (links, bookmarks and the navigation
never break), through the same hooks and restrictions as Wagtail's own serve view.
"""

from django.http import Http404, HttpResponse
from wagtail import hooks

from cms.page_models import ArtistIndexPage


def musicians(request):
    discover = ArtistIndexPage.objects.live().first()
    if discover is None:
        raise Http404("Discover is not published.")
    for hook in hooks.get_hooks("before_serve_page"):
        result = hook(discover, request, (), {})
        if isinstance(result, HttpResponse):
            return result
    return discover.serve(request)
