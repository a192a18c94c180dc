"""Telegram's lean ASGI route (`atende.asgi`): the same answers as the Django view, through
the production ASGI application; on PostgreSQL through the kit's group commit (committed
data: the route runs outside the test's transaction)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from atende.channels.models import Channel, InboundEvent, InboundStatus, RefusedWebhook
from atende.connectors.telegram import group_commit
from atende.tickets.models import Message
from tests.channels.asgi_client import asgi_call
from tests.conftest import Tenant
from tests.connectors.telegram.conftest import connect
from tests.fakes.telegram import SECRET_HEADER, FakeTelegram

pytestmark = pytest.mark.django_db(transaction=True)


def call(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    status, _headers, answer = asgi_call("POST", path, body, headers,
                                         close=group_commit.close_for_this_loop)
    return status, json.loads(answer)


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
