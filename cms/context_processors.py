"""The site navigation, built from the URLs that exist in this deployment.

Apps add their entries as they land (Listen with the catalog, My orders with orders, Studio
with the studio), so the menu never links to a page that is not there.
"""

from django.urls import NoReverseMatch, reverse

# (label, url name, who sees it)
# cms:musicians is Discover's stable address: it serves the live ArtistIndexPage wherever the
# page sits in the tree (cms.views.musicians), so the menu needs no page query on every request.
# Staff see every order on that page (titled "All orders"), so the link says so.
STAFF_LABELS = {"orders:list": "All orders"}

NAV_ITEMS = [
    ("Home", "home", "all"),
    ("Discover musicians", "cms:musicians", "all"),
    ("Listen", "catalog:listen", "all"),
    ("Rooms", "rooms:list", "all"),
    ("Premium", "billing:plans", "all"),
    ("My orders", "orders:list", "authenticated"),
    ("Studio", "studio:home", "musician"),
    ("Payouts", "billing:payouts", "musician"),
]


def _visible(audience: str, user) -> bool:
    if audience == "all":
        return True
    if audience == "authenticated":
        return user.is_authenticated
    if audience == "musician":
        return user.is_authenticated and user.is_musician
    return False


def navigation(request):
    user = getattr(request, "user", None)
    items = []
    for label, url_name, audience in NAV_ITEMS:
        if user is None or not _visible(audience, user):
            continue
        try:
            url = "/" if url_name == "home" else reverse(url_name)
        except NoReverseMatch:
            continue
        active = request.path == url if url == "/" else request.path.startswith(url)
        if user.is_authenticated and user.is_staff:
            label = STAFF_LABELS.get(url_name, label)
        items.append({"label": label, "url": url, "active": active})
    if user is not None and user.is_authenticated and user.is_staff:
        items.append(
            {
                "label": "Admin",
                "url": reverse("wagtailadmin_home"),
                "active": request.path.startswith("/admin/"),
            }
        )
    return {"nav_items": items}
