"""The SSE stream: one long response per connected agent (or API client)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

from asgiref.sync import sync_to_async
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from atende.ids import parse_id
from atende.realtime import outbox
from atende.realtime.brokers import get_broker
from atende.realtime.models import Event
from atende.realtime.outbox import releasing_connection
from atende.tenancy.access import (
    ChannelKeyForbidden,
    active_membership,
    bearer_token,
    organization_for_stream,
)
from atende.tenancy.models import Membership

# Per-stream event filter: the event as given, another one in its place, or None to skip.
EventFilter = Callable[[Event], Awaitable[Event | None]]
# The filter for a signed-in agent's stream, or None when they may see every event. What an
# agent may see is the tickets' rule: tickets sets it in its AppConfig.ready (realtime sits
# below tickets and does not import it). Unset, no agent's stream opens.
AgentFilter = Callable[[Membership], EventFilter | None]
_agent_filter: AgentFilter | None = None


def set_agent_filter(agent_filter: AgentFilter) -> None:
    global _agent_filter
    _agent_filter = agent_filter

HEARTBEAT_SECONDS = 15.0
RECONNECT_MILLISECONDS = 2000


def format_sse(event: Event) -> bytes:
    data = json.dumps({"id": event.pk, "type": event.type, "data": event.payload},
                      separators=(",", ":"))
    return f"id: {event.pk}\nevent: {event.type}\ndata: {data}\n\n".encode()


async def _next(events: AsyncGenerator[Event, None]) -> Event | None:
    try:
        return await anext(events)
    except StopAsyncIteration:
        return None


async def event_stream(organization_id: int, after_id: int | None,
                       event_filter: EventFilter | None = None) -> AsyncIterator[bytes]:
    """SSE frames: the preamble, then events, with a comment line when idle (it keeps
    proxies from timing out and lets the server notice a vanished client).

    The subscription is read in a task of its own so the heartbeat timeout never cancels
    it mid-read. On client disconnect Django cancels this generator; the task is cancelled
    and awaited before the subscription is closed (closing a generator that a task is
    still running raises, and would leak the subscription).
    """
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n".encode()
    events = get_broker().subscribe(organization_id, after_id)
    pending: asyncio.Task[Event | None] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.create_task(_next(events))
            done, _still_pending = await asyncio.wait({pending}, timeout=HEARTBEAT_SECONDS)
            if not done:
                yield b": keep-alive\n\n"
                continue
            event = pending.result()
            pending = None
            if event is None:  # the subscription ended; the client reconnects and replays
                return
            if event_filter is not None:
                event = await event_filter(event)
                if event is None:
                    continue
            yield format_sse(event)
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.wait({pending})
        await events.aclose()


def _last_event_id(request: HttpRequest) -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    if raw is None:
        return None
    return parse_id(raw)


@releasing_connection
def _open_stream(request: HttpRequest) -> tuple[int, int, EventFilter | None] | None:
    """The caller's organisation, the outbox id its stream starts after and, for an agent
    who may not see every ticket, the filter that keeps the others' data out; or None.

    The start is fixed here, before the response begins: an event committed after the
    client sees the stream open is never missed, however long subscribing takes. The
    connection is released at once, as the response lives for hours.
    """
    event_filter: EventFilter | None = None
    if bearer_token(request):
        organization_id = organization_for_stream(request)
    else:
        membership = active_membership(request)
        organization_id = membership.organization_id if membership else None
        if membership is not None:
            if _agent_filter is None:
                raise RuntimeError("no agent stream filter set (realtime.views.set_agent_filter)")
            event_filter = _agent_filter(membership)
    if organization_id is None:
        return None
    after_id = _last_event_id(request)
    if after_id is None:
        after_id = outbox.latest_id_for_org(organization_id)
    return organization_id, after_id, event_filter


async def stream(request: HttpRequest) -> HttpResponseBase:
    """Events of the caller's organisation, as text/event-stream.

    Signed-in agents use their session; integrations may use `Authorization: Bearer <key>`.
    `Last-Event-ID` (or `?last_event_id=`) replays what was missed; without it the stream
    starts with the next event. A key bound to one channel is refused (403), as on the
    API's organisation-wide reads.
    """
    try:
        opened = await sync_to_async(_open_stream)(request)
    except ChannelKeyForbidden:
        return JsonResponse(
            {"error": {"code": "forbidden", "message": _(
                "This key belongs to a channel and can only post into it.")}},
            status=403,
        )
    if opened is None:
        return JsonResponse(
            {"error": {"code": "unauthorized", "message": _("Sign in or send a valid API key.")}},
            status=401,
        )
    response = StreamingHttpResponse(event_stream(*opened), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
