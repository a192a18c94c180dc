"""WhatsApp's lean ASGI route (`POST /whatsapp/<id>/webhook`): the kit's `WebhookRoute`
(`channels.webhook_route`) with WhatsApp's parts. On PostgreSQL a delivery is split into
its events and stored by the group commit in the event loop; on SQLite `views.accept` runs
in a thread, as the Django view does. Everything else, Meta's GET handshake included, goes
to Django.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from atende import json_input
from atende.channels.webhook_route import FastAccept, WebhookRoute
from atende.connectors.whatsapp import group_commit, inbound
from atende.connectors.whatsapp.views import accept, authentic, quarantine, refuse
from atende.connectors.whatsapp.webhook_channels import CHANNELS

logger = logging.getLogger(__name__)


def _split(body: bytes) -> list[tuple[str, str]]:
    return [(e.provider_id, json.dumps(e.data))
            for e in inbound.split_events(json_input.loads(body))]


def _stored(ids: list[int]) -> dict[str, Any]:
    return {"ok": True, "events": len(ids)}


ROUTE = WebhookRoute(
    path=re.compile(r"/whatsapp/(\d+)/webhook"), accept=accept,
    accept_async=FastAccept(CHANNELS, authentic, _split, refuse, quarantine,
                            group_commit.for_this_loop, _stored, "WhatsApp", logger),
    fast=group_commit.enabled, name="WhatsApp", logger=logger)
with_webhook_route = ROUTE.around
