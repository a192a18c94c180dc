"""Telegram's lean ASGI route (`POST /telegram/<id>/webhook`): the kit's `WebhookRoute`
(`channels.webhook_route`) with Telegram's parts. On PostgreSQL an update is stored by the
group commit in the event loop; on SQLite `views.accept` runs in a thread, as the Django
view does. Anything else goes to Django."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from atende import json_input
from atende.channels.webhook_route import FastAccept, WebhookRoute
from atende.connectors.telegram import group_commit, inbound
from atende.connectors.telegram.views import accept, authentic, quarantine, refuse
from atende.connectors.telegram.webhook_channels import CHANNELS, WebhookChannel

logger = logging.getLogger(__name__)


def _authentic(found: WebhookChannel, headers: Mapping[str, str], _body: bytes) -> bool:
    return authentic(found.webhook_secret, headers)


def _split(body: bytes) -> list[tuple[str, str]]:
    """One update, one event; raises ValueError (`Unreadable` without an update_id)."""
    update = json_input.loads(body)
    return [(inbound.update_id(update), json.dumps(update))]


def _stored(_ids: list[int]) -> dict[str, Any]:
    return {"ok": True}


ROUTE = WebhookRoute(
    path=re.compile(r"/telegram/(\d+)/webhook"), accept=accept,
    accept_async=FastAccept(CHANNELS, _authentic, _split, refuse, quarantine,
                            group_commit.for_this_loop, _stored, "Telegram", logger),
    fast=group_commit.enabled, name="Telegram", logger=logger)
with_telegram_route = ROUTE.around
