from django.urls import re_path

from orders import api

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

# Both spellings, with and without the trailing slash, are accepted (DESIGN section 8).
urlpatterns = [
    re_path(r"^packages/?$", api.PackageListView.as_view(), name="packages"),
    re_path(
        rf"^packages/(?P<package_id>{UUID})/?$",
        api.PackageDetailView.as_view(),
        name="packages-detail",
    ),
    re_path(r"^orders/?$", api.OrderListView.as_view(), name="orders"),
    re_path(
        rf"^orders/(?P<order_id>{UUID})/?$", api.OrderDetailView.as_view(), name="orders-detail"
    ),
    *[
        re_path(
            rf"^orders/(?P<order_id>{UUID})/{name}/?$",
            view.as_view(),
            name=f"orders-{name.replace('_', '-')}",
        )
        for name, view in api.TRANSITION_VIEWS.items()
    ],
    re_path(r"^musicians/me/?$", api.MusicianProfileView.as_view(), name="musicians-me"),
    re_path(
        rf"^musicians/(?P<musician_id>{UUID})/?$",
        api.MusicianPublicView.as_view(),
        name="musicians-detail",
    ),
]
