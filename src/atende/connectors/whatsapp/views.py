"""The webhook the provider calls: verify on the raw bytes, store, answer 200 at once.

360dialog sends the secret header registered with the webhook (`X-Atende-Webhook-Token`);
Meta's Cloud API signs the body with the app secret (`X-Hub-Signature-256`) and checks the
URL with a GET handshake. Processing happens in a task after the answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from atende.connectors.models import Channel, ChannelKind
from atende.connectors.refusals import log_refused
from atende.connectors.whatsapp import receive
from atende.connectors.whatsapp.client import META
from atende.connectors.whatsapp.inbound import InvalidPayload

logger = logging.getLogger(__name__)
SECRET_HEADER = "X-Atende-Webhook-Token"  # noqa: S105 - a header name, not a secret


def _channel(channel_id: int) -> Channel | None:
    return (Channel.objects.filter(pk=channel_id, kind=ChannelKind.WHATSAPP, is_active=True)
            .select_related("organization").first())


def authentic(channel: Channel, request: HttpRequest) -> bool:
    """Constant-time checks of the registered secret header, or Meta's body signature."""
    secrets = channel.secrets
    token = str(secrets.get("webhook_secret") or "")
    sent = request.headers.get(SECRET_HEADER, "")
    if token and sent and hmac.compare_digest(sent.encode(), token.encode()):
        return True
    app_secret = str(secrets.get("app_secret") or "")
    signature = request.headers.get("X-Hub-Signature-256", "")
    if channel.settings.get("provider") == META and app_secret and signature:
        mac = hmac.new(app_secret.encode(), request.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"sha256={mac}".encode(), signature.encode())
    return False


def _sent_secret(request: HttpRequest) -> bool:
    return bool(request.headers.get(SECRET_HEADER) or request.headers.get("X-Hub-Signature-256"))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = _channel(channel_id)
    if channel is None:
        return JsonResponse({"error": "unknown channel"}, status=404)
    if request.method == "GET":
        return _handshake(request, channel)
    if not authentic(channel, request):
        logger.warning("WhatsApp webhook for channel %s refused: wrong or missing secret "
                       "(from %s)", channel.pk, request.META.get("REMOTE_ADDR"))
        log_refused(channel, request.META.get("REMOTE_ADDR"),
                    "wrong secret" if _sent_secret(request) else "missing secret")
        return JsonResponse({"error": "unauthorized"}, status=401)
    try:
        payload = json.loads(request.body)
        ids = receive.store_events(channel, payload)
    except (ValueError, InvalidPayload) as exc:  # JSONDecodeError is a ValueError
        event = receive.keep_invalid(channel, request.body, f"{type(exc).__name__}: {exc}")
        logger.warning("WhatsApp webhook for channel %s: unreadable body kept as event %s",
                       channel.pk, event.pk)
        return JsonResponse({"error": "invalid payload", "event": event.pk}, status=400)
    return JsonResponse({"ok": True, "events": len(ids)})


def _handshake(request: HttpRequest, channel: Channel) -> HttpResponse:
    """Meta's subscription check: echo `hub.challenge` when the verify token matches."""
    token = str(channel.secrets.get("webhook_secret") or "")
    sent = request.GET.get("hub.verify_token", "")
    if request.GET.get("hub.mode") == "subscribe" and token and sent \
            and hmac.compare_digest(sent.encode(), token.encode()):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return HttpResponse(status=403)
