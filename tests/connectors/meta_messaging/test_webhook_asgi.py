"""Instagram's lean ASGI route (`atende.asgi`): the Django view's answers through the
production ASGI application; on PostgreSQL through the kit's group commit (committed data:
the route runs outside the test's transaction)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from atende.channels.models import InboundEvent, InboundStatus, RefusedWebhook
from atende.connectors.meta_messaging import group_commit
from atende.tickets.models import Message
from tests.channels.asgi_client import asgi_call
from tests.conftest import Tenant
from tests.connectors.meta_messaging.conftest import connect
from tests.fakes.meta_graph import FakeMetaGraph

pytestmark = pytest.mark.django_db(transaction=True)


def call(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    status, _headers, answer = asgi_call("POST", path, body, headers,
                                         close=group_commit.close_for_this_loop)
    return status, json.loads(answer)


def test_a_delivery_is_acknowledged_stored_and_processed_through_the_lean_route(
        tenant: Tenant, admin_client: Client, graph: FakeMetaGraph) -> None:
    channel = connect(admin_client, tenant, graph)
    path = f"/instagram/{channel.pk}/webhook"
    graph.customer_sends("Pelo ASGI")
    graph.reaction("aWdfZAG1faWQ000001")
    body = json.dumps({"object": "instagram", "entry": [
        entry for delivery in graph.outbox for entry in delivery["entry"]]}).encode()
    signed = {"X-Hub-Signature-256": graph.sign(body)}
    assert call(path, body, signed) == (200, {"ok": True})
    assert call(path, body, signed) == (200, {"ok": True})  # a redelivery
    texts = sorted(Message.objects.filter(channel=channel).values_list("text", flat=True))
    assert len(texts) == 2 and texts[0] == "Pelo ASGI" and "❤" in texts[1]
    assert set(InboundEvent.objects.filter(channel=channel).values_list(
        "status", flat=True)) == {InboundStatus.PROCESSED}

    assert call(path, body, {})[0] == 401
    assert call(path, body, {"X-Hub-Signature-256": graph.sign(body, "ab" * 16)})[0] == 401
    assert RefusedWebhook.objects.filter(channel=channel).exists()
    status, answer = call(path, b'{"object": ', {"X-Hub-Signature-256": graph.sign(
        b'{"object": ')})
    assert status == 400
    assert InboundEvent.objects.get(pk=answer["event"]).status == InboundStatus.QUARANTINED
    assert call("/instagram/999999/webhook", body, signed)[0] == 404
    # A Messenger route does not take an Instagram channel.
    assert call(f"/messenger/{channel.pk}/webhook", body, signed)[0] == 404
