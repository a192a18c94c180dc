"""The REST API v1: one NinjaAPI gathering the domain routers."""

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.parser import Parser
from ninja.types import DictStrAny

from atende import api_errors, json_input
from atende.connectors.api.views import router as channels_router
from atende.connectors.whatsapp.api import router as whatsapp_router
from atende.csat.api import router as csat_router
from atende.search.api import router as search_router
from atende.tenancy.api_auth import API_AUTH
from atende.tickets.api import router as tickets_router
from atende.tickets.contacts_api import router as contacts_router
from atende.webhooks.api import router as webhooks_router


class UntrustedJsonParser(Parser):
    """Request bodies through `json_input`: a body nested too deep is refused (400) before
    any validation walks it."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        body: DictStrAny = json_input.loads(request.body)
        return body


api = NinjaAPI(
    title="Atende API",
    version="1",
    # Reference documentation for developers stays in English.
    description=(
        "Tickets, contacts, comments, attachments, webhooks and the generic API channel. "
        "Authenticate with `Authorization: Bearer <API key>` (or `X-API-Key`)."
    ),
    auth=API_AUTH,
    parser=UntrustedJsonParser(),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
api_errors.install(api)
api.add_router("", tickets_router)
api.add_router("", contacts_router)
api.add_router("", webhooks_router)
api.add_router("", channels_router)
api.add_router("", whatsapp_router)
api.add_router("", csat_router)
api.add_router("", search_router)
