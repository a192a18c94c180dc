"""Instagram's and Messenger's lean ASGI routes (`POST /instagram/<id>/webhook`,
`POST /messenger/<id>/webhook`): the kit's `WebhookRoute` with their parts, one group
commit for both. The GET handshake goes to Django."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from atende import json_input
from atende.channels.webhook_route import ASGIApp, FastAccept, WebhookRoute
from atende.connectors.meta_messaging import group_commit, inbound
from atende.connectors.meta_messaging.views import accepter, authentic, quarantine, refuse
from atende.connectors.meta_messaging.webhook_channels import CHANNELS

logger = logging.getLogger(__name__)


def _split(body: bytes) -> list[tuple[str, str]]:
    """A delivery's events; raises ValueError (`Unreadable` for a body not a webhook)."""
    return [(key, json.dumps(payload)) for key, payload in
            inbound.split(json_input.loads(body))]


def _stored(_ids: list[int]) -> dict[str, Any]:
    return {"ok": True}


def _route(kind: str, name: str) -> WebhookRoute:
    return WebhookRoute(
        path=re.compile(rf"/{kind}/(\d+)/webhook"), accept=accepter(kind),
        accept_async=FastAccept(CHANNELS[kind], authentic, _split, refuse, quarantine,
                                group_commit.for_this_loop, _stored, name, logger),
        fast=group_commit.enabled, name=name, logger=logger)


ROUTES = (_route("instagram", "Instagram"), _route("messenger", "Messenger"))


def with_meta_routes(app: ASGIApp) -> ASGIApp:
    for route in ROUTES:
        app = route.around(app)
    return app
