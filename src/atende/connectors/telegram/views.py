"""The webhook Telegram calls: check the secret header on the raw request, store the raw
update, answer 200 at once. Processing (file downloads, ingest) happens in a task.

Telegram does not sign its calls: `setWebhook` registered a per-channel `secret_token`,
which it sends back in `X-Telegram-Bot-Api-Secret-Token` on every call, compared here in
constant time. Another channel's secret is a wrong secret.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from atende import json_input
from atende.channels.models import Channel
from atende.channels.reasons import Unreadable
from atende.channels.refusals import log_refused
from atende.connectors.telegram import receive
from atende.connectors.telegram.webhook_channels import webhook_channel
from atende.crypto import constant_time_equals

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


def authentic(secret: str, headers: Mapping[str, str]) -> bool:
    """`headers` has lower-case names."""
    sent = headers.get(SECRET_HEADER.lower(), "")
    return bool(secret) and bool(sent) and constant_time_equals(sent, secret)


def accept(channel_id: int, headers: Mapping[str, str], body: bytes,
           remote: str | None) -> tuple[int, dict[str, Any]]:
    """One delivery: the HTTP status and JSON answer. Shared by the Django view and the
    lean ASGI route (`webhook_asgi`)."""
    found = webhook_channel(channel_id)
    if found is None:
        return 404, {"error": "unknown channel"}
    channel = found.channel
    if not authentic(found.webhook_secret, headers):
        return refuse(channel, headers, remote)
    try:
        update = json_input.loads(body)
        receive.store_update(channel, update)
    except (ValueError, Unreadable) as exc:  # JSONDecodeError and TooDeep are ValueErrors
        return quarantine(channel, body, exc)
    return 200, {"ok": True}


def quarantine(channel: Channel, body: bytes, exc: Exception) -> tuple[int, dict[str, Any]]:
    """A body that is not an update is kept, quarantined, and answered 400."""
    event = receive.keep_invalid(channel, body, exc)
    logger.warning("Telegram webhook for channel %s: unreadable body kept as event %s",
                   channel.pk, event.pk)
    return 400, {"error": "invalid payload", "event": event.pk}


def refuse(channel: Channel, headers: Mapping[str, str],
           remote: str | None) -> tuple[int, dict[str, Any]]:
    logger.warning("Telegram webhook for channel %s refused: wrong or missing secret "
                   "(from %s)", channel.pk, remote)
    sent = bool(headers.get(SECRET_HEADER.lower()))
    log_refused(channel, remote, "wrong secret" if sent else "missing secret")
    return 401, {"error": "unauthorized"}


@csrf_exempt
@require_POST
def webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    headers = {name.lower(): value for name, value in request.headers.items()}
    status, answer = accept(channel_id, headers, request.body, request.META.get("REMOTE_ADDR"))
    return JsonResponse(answer, status=status)
