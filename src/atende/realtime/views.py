"""The SSE stream: one long response per connected agent (or API client)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from importlib import import_module

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.http import HttpRequest, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from atende.ids import parse_id
from atende.realtime import outbox
from atende.realtime.brokers import get_broker
from atende.realtime.models import Event
from atende.realtime.outbox import releasing_connection
from atende.tenancy.access import (
    ChannelKeyForbidden,
    IssuerForbidden,
    active_membership,
    bearer_token,
)
from atende.tenancy.api_keys import authenticate_api_key, key_permits
from atende.tenancy.models import Membership, Permission, User

# Per-stream event filter: the event as given, another one in its place, or None to skip.
EventFilter = Callable[[Event], Awaitable[Event | None]]
# Whether the caller may still read the stream (key not revoked, session and agent active).
AccessCheck = Callable[[], Awaitable[bool]]
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
                       event_filter: EventFilter | None = None,
                       still_allowed: AccessCheck | None = None) -> AsyncIterator[bytes]:
    """SSE frames: the preamble, then events, with a comment line when idle (it keeps
    proxies from timing out and lets the server notice a vanished client).

    Every REALTIME_ACCESS_RECHECK_SECONDS `still_allowed` is asked again, and the stream
    ends once it says no: a revoked key, a deactivated agent or a signed-out session stops
    receiving events within that time, and the client's reconnection is refused.

    The subscription is read in a task of its own so the heartbeat timeout never cancels
    it mid-read. On client disconnect Django cancels this generator; the task is cancelled
    and awaited before the subscription is closed (closing a generator that a task is
    still running raises, and would leak the subscription).
    """
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n".encode()
    loop = asyncio.get_running_loop()
    recheck = float(settings.REALTIME_ACCESS_RECHECK_SECONDS)
    next_check = loop.time() + recheck
    next_heartbeat = loop.time() + HEARTBEAT_SECONDS
    events = get_broker().subscribe(organization_id, after_id)
    pending: asyncio.Task[Event | None] | None = None
    try:
        while True:
            if still_allowed is not None and loop.time() >= next_check:
                if not await still_allowed():
                    return
                next_check = loop.time() + recheck
            if pending is None:
                pending = asyncio.create_task(_next(events))
            wake = next_heartbeat if still_allowed is None else min(next_heartbeat, next_check)
            done, _still_pending = await asyncio.wait({pending},
                                                      timeout=max(wake - loop.time(), 0))
            if not done:
                if loop.time() >= next_heartbeat:
                    next_heartbeat = loop.time() + HEARTBEAT_SECONDS
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
            next_heartbeat = loop.time() + HEARTBEAT_SECONDS
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


def _key_check(token: str) -> AccessCheck:
    @releasing_connection
    def check() -> bool:
        return authenticate_api_key(token) is not None

    return sync_to_async(check)


def _session_check(session_key: str | None, membership: Membership) -> AccessCheck:
    """The session still signs in the same user (not signed out, not expired, password not
    changed since), who is still an active agent of the organisation.

    Read without django.contrib.auth.get_user, which may rotate or flush the session it
    reads: this check must never change the browser's session.
    """

    @releasing_connection
    def check() -> bool:
        if not session_key:
            return False
        session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        if session.get(SESSION_KEY) != str(membership.user_id):
            return False
        user = User.objects.filter(pk=membership.user_id, is_active=True).first()
        stored_hash = str(session.get(HASH_SESSION_KEY, ""))
        if user is None or not stored_hash:
            return False
        hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
        if not any(constant_time_compare(stored_hash, h) for h in hashes):
            return False
        return Membership.objects.filter(pk=membership.pk, is_active=True).exists()

    return sync_to_async(check)


@releasing_connection
def _open_stream(request: HttpRequest
                 ) -> tuple[int, int, EventFilter | None, AccessCheck] | None:
    """The caller's organisation, the outbox id its stream starts after, for an agent who
    may not see every ticket the filter that keeps the others' data out, and the check of
    the caller's access the open stream repeats; or None.

    The start is fixed here, before the response begins: an event committed after the
    client sees the stream open is never missed, however long subscribing takes. The
    connection is released at once, as the response lives for hours.
    """
    event_filter: EventFilter | None = None
    token = bearer_token(request)
    if token:
        key = authenticate_api_key(token)
        if key is None:
            return None
        if key.channel_id is not None:
            raise ChannelKeyForbidden
        if not key_permits(key, Permission.VIEW_ALL_TICKETS):
            raise IssuerForbidden  # the key shows every ticket's events
        organization_id = key.organization_id
        still_allowed = _key_check(token)
    else:
        membership = active_membership(request)
        if membership is None:
            return None
        if _agent_filter is None:
            raise RuntimeError("no agent stream filter set (realtime.views.set_agent_filter)")
        organization_id = membership.organization_id
        event_filter = _agent_filter(membership)
        still_allowed = _session_check(request.session.session_key, membership)
    after_id = _last_event_id(request)
    if after_id is None:
        after_id = outbox.latest_id_for_org(organization_id)
    return organization_id, after_id, event_filter, still_allowed


async def stream(request: HttpRequest) -> HttpResponseBase:
    """Events of the caller's organisation, as text/event-stream.

    Signed-in agents use their session; integrations may use `Authorization: Bearer <key>`.
    `Last-Event-ID` (or `?last_event_id=`) replays what was missed; without it the stream
    starts with the next event. A key bound to one channel is refused (403), as on the
    API's organisation-wide reads.
    """
    try:
        opened = await sync_to_async(_open_stream)(request)
    except IssuerForbidden:
        return JsonResponse(
            {"error": {"code": "forbidden", "message": _(
                "The agent who issued this API key does not have the permission "
                "\"%(permission)s\".") % {"permission": Permission.VIEW_ALL_TICKETS.label}}},
            status=403,
        )
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
