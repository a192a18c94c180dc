"""The SSE generator of the stream view: framing, heartbeats, and what happens when the client
goes away (Django cancels the response while the generator waits for the next event)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from atende.realtime import views
from atende.realtime.models import Event


class FakeBroker:
    """A subscription that yields the given events, then waits for ever (like a quiet
    organisation); records whether it was closed."""

    def __init__(self, events: list[Event], end: bool = False) -> None:
        self.events = events
        self.end = end
        self.closed = False

    def announce(self, event: Event) -> None:
        pass

    async def subscribe(self, organization_id: int, after_id: int | None
                        ) -> AsyncGenerator[Event, None]:
        try:
            for event in self.events:
                yield event
            if not self.end:
                await asyncio.Event().wait()
        finally:
            self.closed = True


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> FakeBroker:
    fake = FakeBroker([Event(pk=7, organization_id=1, type="ticket.created",
                             payload={"id": 3})])
    monkeypatch.setattr(views, "get_broker", lambda: fake)
    return fake


def collect(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout=10))


def test_frames_carry_id_event_type_and_json_data(broker: FakeBroker) -> None:
    async def scenario() -> list[bytes]:
        stream = views.event_stream(1, None)
        frames = [await anext(stream), await anext(stream)]
        await stream.aclose()
        return frames

    preamble, frame = collect(scenario())
    assert preamble == b"retry: 2000\n\n"
    assert frame == (b'id: 7\nevent: ticket.created\n'
                     b'data: {"id":7,"type":"ticket.created","data":{"id":3}}\n\n')
    assert broker.closed


def test_a_quiet_stream_sends_heartbeats(broker: FakeBroker,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "HEARTBEAT_SECONDS", 0.01)

    async def scenario() -> list[bytes]:
        stream = views.event_stream(1, None)
        frames = [await anext(stream) for _ in range(4)]
        await stream.aclose()
        return frames

    assert collect(scenario())[2:] == [b": keep-alive\n\n", b": keep-alive\n\n"]
    assert broker.closed


def test_client_disconnect_while_waiting_closes_the_subscription(broker: FakeBroker) -> None:
    """What Django does on http.disconnect: cancel the task iterating the response. The
    generator must end with the cancellation (not a RuntimeError from closing a running
    subscription) and the subscription's cleanup must have run."""

    async def scenario() -> None:
        stream = views.event_stream(1, None)
        await anext(stream)
        await anext(stream)
        waiting = asyncio.create_task(anext(stream))  # blocked: nothing more to send
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await stream.aclose()

    collect(scenario())
    assert broker.closed


def test_stream_ends_when_the_subscription_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeBroker([], end=True)
    monkeypatch.setattr(views, "get_broker", lambda: fake)

    async def scenario() -> list[bytes]:
        return [frame async for frame in views.event_stream(1, 5)]

    assert collect(scenario()) == [b"retry: 2000\n\n"]
    assert fake.closed


def test_stream_ends_once_access_is_withdrawn(broker: FakeBroker, settings: Any) -> None:
    """Checked again while open (a revoked key, a deactivated agent): the stream ends, with
    no keep-alive needed to notice."""
    settings.REALTIME_ACCESS_RECHECK_SECONDS = 0.05
    answers = [True, True, False]

    async def still_allowed() -> bool:
        return answers.pop(0)

    async def scenario() -> list[bytes]:
        return [frame async for frame in views.event_stream(1, None, None, still_allowed)]

    frames = collect(scenario())
    assert frames[0] == b"retry: 2000\n\n" and frames[1].startswith(b"id: 7\n")
    assert b": keep-alive\n\n" not in frames  # ended well before a heartbeat was due
    assert answers == [] and broker.closed


@pytest.mark.django_db
def test_a_stream_without_last_event_id_starts_after_the_latest_event(tenant: Any,
                                                                       other_tenant: Any
                                                                       ) -> None:
    """Fixed before the response starts: whatever commits once the client sees the stream
    open is after this position, so subscribing late cannot skip it."""
    from django.test import RequestFactory

    from atende.realtime.publish import publish

    own = publish(tenant.org.pk, "t", {})
    publish(other_tenant.org.pk, "t", {})
    request = RequestFactory().get("/realtime/stream",
                                   HTTP_AUTHORIZATION=f"Bearer {tenant.raw_key}")
    assert views._open_stream(request)[:3] == (tenant.org.pk, own.pk, None)

    request = RequestFactory().get("/realtime/stream", HTTP_LAST_EVENT_ID="3",
                                   HTTP_AUTHORIZATION=f"Bearer {tenant.raw_key}")
    assert views._open_stream(request)[:3] == (tenant.org.pk, 3, None)

    anonymous = RequestFactory().get("/realtime/stream")
    anonymous.user = AnonymousUser()
    assert views._open_stream(anonymous) is None


def _serve(request: Any) -> tuple[int, str, list[bytes]]:
    """The stream view's answer: status, content type and, for a stream, every frame (the
    fake subscription ends). Run with async_to_sync so its database reads see the test's
    transaction."""
    from asgiref.sync import async_to_sync

    async def scenario() -> tuple[int, str, list[bytes]]:
        response = await views.stream(request)
        if not response.streaming:
            return response.status_code, response["Content-Type"], [response.content]
        frames = [frame async for frame in response.streaming_content]
        return response.status_code, response["Content-Type"], frames

    return async_to_sync(scenario)()


@pytest.mark.django_db
def test_a_channel_key_may_not_open_its_organisations_stream(
        tenant: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key bound to a channel may only post into it (GET /api/v1/tickets answers 403);
    its organisation's stream would show every other channel's tickets and internal notes.
    An organisation-wide key is still served."""
    import json

    from django.test import RequestFactory

    from atende.connectors.api.channels import create_api_channel
    from tests.conftest import ApiClient

    monkeypatch.setattr(views, "get_broker", lambda: FakeBroker(
        [Event(pk=7, organization_id=tenant.org.pk, type="ticket.created",
               payload={"id": 3})], end=True))
    _channel, channel_key, _secret = create_api_channel(tenant.org, name="ERP")
    assert tenant.client.get("/api/v1/tickets").status_code == 200
    assert ApiClient(channel_key).get("/api/v1/tickets").status_code == 403
    headers = {"HTTP_AUTHORIZATION": f"Bearer {channel_key}", "HTTP_LAST_EVENT_ID": "0"}

    status, content_type, body = _serve(RequestFactory().get("/realtime/stream", **headers))
    assert (status, content_type) == (403, "application/json")
    assert json.loads(body[0])["error"]["code"] == "forbidden"
    status, _type, body = _serve(RequestFactory().get(
        "/realtime/stream", HTTP_X_API_KEY=channel_key, HTTP_LAST_EVENT_ID="0"))
    assert status == 403 and b"ticket.created" not in b"".join(body)

    status, content_type, frames = _serve(RequestFactory().get(
        "/realtime/stream", HTTP_AUTHORIZATION=f"Bearer {tenant.raw_key}",
        HTTP_LAST_EVENT_ID="0"))
    assert (status, content_type) == (200, "text/event-stream")
    assert frames[1].startswith(b"id: 7\nevent: ticket.created\n")


@pytest.mark.django_db
def test_a_sessions_check_fails_once_the_password_changes_and_leaves_the_session_alone(
    tenant: Any,
) -> None:
    from importlib import import_module

    from django.conf import settings
    from django.test import Client

    from atende.tenancy.models import Membership

    client = Client()
    client.force_login(tenant.admin)
    session_key = client.session.session_key
    membership = Membership.objects.get(user=tenant.admin, organization=tenant.org)
    check = views._session_check(session_key, membership).func  # type: ignore[attr-defined]
    assert check() is True
    assert views._session_check(None, membership).func() is False  # type: ignore[attr-defined]
    tenant.admin.set_password("a-brand-new-password-7")
    tenant.admin.save()
    assert check() is False
    # Only read: the check neither flushes nor rotates the browser's session.
    assert import_module(settings.SESSION_ENGINE).SessionStore().exists(session_key)
