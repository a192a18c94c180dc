"""The webhook the provider calls: verify on the raw bytes, store, answer 200 at once.

360dialog sends the secret header registered with the webhook (`X-Atende-Webhook-Token`);
Meta's Cloud API signs the body with the app secret (`X-Hub-Signature-256`) and checks the
URL with a GET handshake. Processing happens in a task after the answer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from atende import json_input
from atende.channels import meta
from atende.channels.models import Channel
from atende.channels.refusals import log_refused
from atende.connectors.whatsapp import receive
from atende.connectors.whatsapp.client import META
from atende.connectors.whatsapp.inbound import InvalidPayload
from atende.connectors.whatsapp.webhook_channels import WebhookChannel, webhook_channel
from atende.crypto import constant_time_equals

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Atende-Webhook-Token"  # noqa: S105 - a header name, not a secret


def _channel(channel_id: int) -> Channel | None:
    found = webhook_channel(channel_id)
    return found.channel if found else None


def authentic(channel: WebhookChannel, headers: Mapping[str, str], body: bytes) -> bool:
    """Constant-time checks of the registered secret header, or Meta's body signature.
    `headers` has lower-case names."""
    token = channel.webhook_secret
    sent = headers.get(SECRET_HEADER.lower(), "")
    if token and sent and constant_time_equals(sent, token):
        return True
    if channel.provider == META:
        return meta.signature_valid(channel.app_secret, body,
                                    headers.get(meta.SIGNATURE_HEADER.lower(), ""))
    return False


def _sent_secret(headers: Mapping[str, str]) -> bool:
    return bool(headers.get(SECRET_HEADER.lower())
                or headers.get(meta.SIGNATURE_HEADER.lower()))


def accept(channel_id: int, headers: Mapping[str, str], body: bytes,
           remote: str | None) -> tuple[int, dict[str, Any]]:
    """A delivery (POST): check the secret, store the raw events, enqueue their processing.
    Returns the HTTP status and JSON answer; shared by the Django view and the lean ASGI
    route (`webhook_asgi`), which skips the middleware for this hot path."""
    found = webhook_channel(channel_id)
    if found is None:
        return 404, {"error": "unknown channel"}
    channel = found.channel
    if not authentic(found, headers, body):
        return refuse(channel, headers, remote)
    try:
        payload = json_input.loads(body)
        ids = receive.store_events(channel, payload)
    except (ValueError, InvalidPayload) as exc:  # JSONDecodeError and TooDeep are ValueErrors
        return quarantine(channel, body, exc)
    return 200, {"ok": True, "events": len(ids)}


def refuse(channel: Channel, headers: Mapping[str, str],
           remote: str | None) -> tuple[int, dict[str, Any]]:
    """A wrong or missing secret: logged (and in the channel's log), 401."""
    logger.warning("WhatsApp webhook for channel %s refused: wrong or missing secret "
                   "(from %s)", channel.pk, remote)
    log_refused(channel, remote, "wrong secret" if _sent_secret(headers) else "missing secret")
    return 401, {"error": "unauthorized"}


def quarantine(channel: Channel, body: bytes, exc: Exception) -> tuple[int, dict[str, Any]]:
    """An unreadable body is kept, quarantined, and answered 400."""
    event = receive.keep_invalid(channel, body, exc)
    logger.warning("WhatsApp webhook for channel %s: unreadable body kept as event %s",
                   channel.pk, event.pk)
    return 400, {"error": "invalid payload", "event": event.pk}


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    if request.method == "GET":
        channel = _channel(channel_id)
        if channel is None:
            return JsonResponse({"error": "unknown channel"}, status=404)
        return _handshake(request, channel)
    headers = {name.lower(): value for name, value in request.headers.items()}
    status, answer = accept(channel_id, headers, request.body, request.META.get("REMOTE_ADDR"))
    return JsonResponse(answer, status=status)


def _handshake(request: HttpRequest, channel: Channel) -> HttpResponse:
    """Meta's subscription check: echo `hub.challenge` when the verify token matches."""
    challenge = meta.handshake(request.GET, str(channel.secrets.get("webhook_secret") or ""))
    if challenge is None:
        return HttpResponse(status=403)
    return HttpResponse(challenge, content_type="text/plain")
