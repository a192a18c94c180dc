"""Telegram's lean ASGI route (`atende.asgi`): the same answers as the Django view, through
the production ASGI application; on PostgreSQL through the kit's group commit (committed
data: the route runs outside the test's transaction)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from atende.asgi import application
from atende.channels.models import Channel, InboundEvent, InboundStatus, RefusedWebhook
from atende.connectors.telegram import group_commit
from atende.tickets.models import Message
from tests.conftest import Tenant
from tests.connectors.telegram.conftest import connect
from tests.fakes.telegram import SECRET_HEADER, FakeTelegram

pytestmark = pytest.mark.django_db(transaction=True)


def call(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """One POST through the ASGI application, the way uvicorn calls it."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": b"", "client": ("203.0.113.9", 5000),
             "server": ("testserver", 80),
             "headers": [(k.lower().encode(), v.encode()) for k, v in
                         {"host": "testserver", "content-type": "application/json",
                          **headers}.items()]}
    chunks = [body[:10], body[10:]]  # a body in two parts, as a socket may deliver it
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    async def run() -> None:
        try:
            await application(scope, receive, send)
        finally:  # PostgreSQL: the loop's connection pool goes with the loop
            await group_commit.close_for_this_loop()

    asyncio.run(run())
    return answer["status"], json.loads(answer["body"])


def test_an_update_is_acknowledged_stored_and_processed_through_the_lean_route(
        tenant: Tenant, tg: FakeTelegram) -> None:
    channel = connect(tenant, tg)
    path = f"/telegram/{channel.pk}/webhook"
    secret = {SECRET_HEADER: tg.webhook["secret_token"]}
    body = json.dumps(tg.customer_sends("Pelo ASGI")).encode()
    assert call(path, body, secret) == (200, {"ok": True})
    assert call(path, body, secret) == (200, {"ok": True})  # a redelivery
    [message] = Message.objects.filter(channel=channel)
    assert message.text == "Pelo ASGI"
    [event] = InboundEvent.objects.filter(channel=channel)
    assert event.status == InboundStatus.PROCESSED

    assert call(path, body, {})[0] == 401
    assert call(path, body, {SECRET_HEADER: "guess"})[0] == 401
    [refused] = RefusedWebhook.objects.filter(channel=channel)
    assert (refused.remote_addr, refused.reason) == ("203.0.113.9", "missing secret")

    status, answer = call(path, b'{"update_id": ', secret)
    assert status == 400
    kept = InboundEvent.objects.get(pk=answer["event"])
    assert kept.status == InboundStatus.QUARANTINED
    assert call("/telegram/999999/webhook", body, secret)[0] == 404


def test_another_organisations_secret_is_refused_on_the_lean_route(
        tenant: Tenant, other_tenant: Tenant, tg: FakeTelegram) -> None:
    ours = connect(tenant, tg)
    our_secret = {SECRET_HEADER: tg.webhook["secret_token"]}
    theirs: Channel = connect(other_tenant, tg)
    body = json.dumps(tg.customer_sends("Oi")).encode()
    assert call(f"/telegram/{theirs.pk}/webhook", body, our_secret)[0] == 401
    assert not InboundEvent.objects.filter(channel__in=[ours, theirs]).exists()
