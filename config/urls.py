from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.contrib.sitemaps.views import sitemap
from wagtail.documents import urls as wagtaildocs_urls

from config import health
from config.api import OptionalSlashRouter, optional_slash

api_router = OptionalSlashRouter()

api_patterns = [
    optional_slash("schema", SpectacularAPIView.as_view(), name="schema"),
    optional_slash("docs", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("", include("accounts.api_urls")),
    path("", include("notifications.api_urls")),
    path("", include("billing.api_urls")),
    path("", include("catalog.api_urls")),
    path("", include("orders.api_urls")),
    path("", include("rooms.api_urls")),
    path("", include(api_router.urls)),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("sitemap.xml", sitemap, name="sitemap"),
    path("readyz", health.readyz, name="readyz"),
    path("api/", include((api_patterns, "api"), namespace="api")),
    path("accounts/", include("accounts.urls")),
    path("notifications/", include("notifications.urls")),
    path("billing/", include("billing.urls")),
    path("orders/", include("orders.urls")),
    path("listen/", include("catalog.urls")),
    path("rooms/", include("rooms.urls")),
    path("studio/", include("studio.urls")),
    path("media/", include("audio.urls")),
    path("musicians/", include("cms.urls")),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
]

# Wagtail's page serving is the catch-all, so it comes last.
urlpatterns += [path("", include(wagtail_urls))]

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
