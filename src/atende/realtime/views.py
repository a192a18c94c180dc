"""The SSE stream: one long response per connected agent (or API client)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

from atende.realtime.brokers import get_broker, latest_event_id
from atende.realtime.models import Event
from atende.tenancy.access import organization_for_stream

HEARTBEAT_SECONDS = 15.0


def format_sse(event: Event) -> bytes:
    data = json.dumps({"id": event.pk, "type": event.type, "data": event.payload},
                      separators=(",", ":"))
    return f"id: {event.pk}\nevent: {event.type}\ndata: {data}\n\n".encode()


async def _stream(organization_id: int, after_id: int) -> AsyncIterator[bytes]:
    yield b"retry: 2000\n\n"
    events = get_broker().subscribe(organization_id, after_id).__aiter__()
    pending: asyncio.Task[Event] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(events.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=HEARTBEAT_SECONDS)
            if not done:
                yield b": keep-alive\n\n"
                continue
            event = pending.result()
            pending = None
            yield format_sse(event)
    finally:
        if pending is not None:
            pending.cancel()
        await events.aclose()  # type: ignore[attr-defined]


def _last_event_id(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    if raw is None:
        return None
    try:
        return max(int(raw), 0)
    except ValueError:
        return None


async def stream(request: HttpRequest) -> HttpResponse:
    """Events of the caller's organisation, as text/event-stream.

    Signed-in agents use their session; integrations may use `Authorization: Bearer <key>`.
    `Last-Event-ID` (or `?last_event_id=`) replays what was missed; without it the stream
    starts with the next event.
    """
    organization_id = await sync_to_async(organization_for_stream)(request)
    if organization_id is None:
        return JsonResponse(
            {"error": {"code": "unauthorized", "message": _("Sign in or send a valid API key.")}},
            status=401,
        )
    after = _last_event_id(request)
    if after is None:
        after = await sync_to_async(latest_event_id)(organization_id)
    response = StreamingHttpResponse(_stream(organization_id, after),
                                     content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
