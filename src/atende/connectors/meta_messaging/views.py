"""The webhook Meta calls for an Instagram or Messenger channel: the subscription handshake
(GET, `hub.verify_token`), and deliveries (POST) checked with `X-Hub-Signature-256` on the
raw body before anything is read, stored, answered 200 at once; processing happens in a
task. The kit's `channels.meta` has the signature and the handshake."""

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
from atende.channels.reasons import Unreadable
from atende.channels.refusals import log_refused
from atende.connectors.meta_messaging import receive
from atende.connectors.meta_messaging.webhook_channels import CHANNELS, WebhookChannel

logger = logging.getLogger(__name__)


def authentic(found: WebhookChannel, headers: Mapping[str, str], body: bytes) -> bool:
    """`headers` has lower-case names."""
    return meta.signature_valid(found.app_secret, body,
                                headers.get(meta.SIGNATURE_HEADER.lower(), ""))


def accepter(kind: str) -> Any:
    def accept(channel_id: int, headers: Mapping[str, str], body: bytes,
               remote: str | None) -> tuple[int, dict[str, Any]]:
        """One delivery: the HTTP status and JSON answer (the Django view's and the lean
        ASGI route's)."""
        found = CHANNELS[kind].lookup(channel_id)
        if found is None:
            return 404, {"error": "unknown channel"}
        if not authentic(found, headers, body):
            return refuse(found.channel, headers, remote)
        try:
            receive.store_delivery(found.channel, json_input.loads(body))
        except (ValueError, Unreadable) as exc:
            return quarantine(found.channel, body, exc)
        return 200, {"ok": True}

    return accept


def quarantine(channel: Channel, body: bytes, exc: Exception) -> tuple[int, dict[str, Any]]:
    event = receive.keep_invalid(channel, body, exc)
    logger.warning("%s webhook for channel %s: unreadable body kept as event %s",
                   channel.kind, channel.pk, event.pk)
    return 400, {"error": "invalid payload", "event": event.pk}


def refuse(channel: Channel, headers: Mapping[str, str],
           remote: str | None) -> tuple[int, dict[str, Any]]:
    logger.warning("%s webhook for channel %s refused: bad or missing signature (from %s)",
                   channel.kind, channel.pk, remote)
    sent = bool(headers.get(meta.SIGNATURE_HEADER.lower()))
    log_refused(channel, remote, "wrong signature" if sent else "missing signature")
    return 401, {"error": "unauthorized"}


def webhook_view(kind: str) -> Any:
    accept = accepter(kind)

    @csrf_exempt
    @require_http_methods(["GET", "POST"])
    def webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
        if request.method == "GET":
            found = CHANNELS[kind].lookup(channel_id)
            if found is None:
                return HttpResponse("unknown channel", status=404, content_type="text/plain")
            challenge = meta.handshake(request.GET, found.verify_token)
            if challenge is None:
                return HttpResponse("forbidden", status=403, content_type="text/plain")
            return HttpResponse(challenge, content_type="text/plain")
        headers = {name.lower(): value for name, value in request.headers.items()}
        status, answer = accept(channel_id, headers, request.body,
                                request.META.get("REMOTE_ADDR"))
        return JsonResponse(answer, status=status)

    return webhook
