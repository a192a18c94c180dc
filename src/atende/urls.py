from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from ninja.openapi.views import openapi_view

from atende import health
from atende.api import api
from atende.realtime.views import stream


def api_docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI at /api/docs (the spec itself is /api/v1/openapi.json)."""
    return openapi_view(request, api)


urlpatterns = [
    path("api/docs", api_docs, name="api-docs"),
    path("livez", health.livez, name="livez"),
    path("readyz", health.readyz, name="readyz"),
    path("healthz", health.readyz, name="healthz"),  # the older name of readiness
    path("api/v1/", api.urls),
    path("realtime/stream", stream, name="realtime-stream"),
    path("whatsapp/", include("atende.connectors.whatsapp.urls")),
    path("telegram/", include("atende.connectors.telegram.urls")),
    path("p/<slug:slug>/", include("atende.connectors.portal.urls")),
    path("widget/", include("atende.connectors.webchat.urls")),
    path("instagram/", include("atende.connectors.meta_messaging.urls_instagram")),
    path("messenger/", include("atende.connectors.meta_messaging.urls_messenger")),
    path("csat/", include("atende.csat.urls")),
    path("admin/", admin.site.urls),
    # The public knowledge base, before the portal's own p/<slug>/ URLs.
    path("p/<slug:org>/kb/", include("atende.kb.public_urls")),
    path("reports/", include("atende.reports.urls")),
    path("", include("atende.workspace.urls")),
]

handler500 = health.server_error
