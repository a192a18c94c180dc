"""The webhook: the subscription handshake, and the signature on the raw body, with a test
for each way to get it wrong; unreadable bodies kept, never lost; another organisation's
channel never reached."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from atende.channels.models import Channel, InboundEvent, InboundStatus, RefusedWebhook
from atende.tickets.models import Message
from tests.connectors.meta_messaging.conftest import Deliveries
from tests.fakes.meta_graph import FakeMetaGraph

pytestmark = pytest.mark.django_db


def test_the_handshake_echoes_the_challenge_only_with_the_verify_token(
        ig_channel: Channel) -> None:
    url = f"/instagram/{ig_channel.pk}/webhook"
    token = ig_channel.secrets["verify_token"]
    ok = Client().get(url, {"hub.mode": "subscribe", "hub.verify_token": token,
                            "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.content) == (200, b"1158201444")
    for params in ({"hub.mode": "subscribe", "hub.verify_token": "wrong",
                    "hub.challenge": "1"},
                   {"hub.mode": "unsubscribe", "hub.verify_token": token, "hub.challenge": "1"},
                   {"hub.challenge": "1"}):
        assert Client().get(url, params).status_code == 403
    # The channel's own token on the other kind's route finds no channel.
    assert Client().get(f"/messenger/{ig_channel.pk}/webhook", {
        "hub.mode": "subscribe", "hub.verify_token": token,
        "hub.challenge": "1"}).status_code == 404


@pytest.mark.parametrize("how", [
    "missing", "empty", "other secret", "no prefix", "sha1 prefix", "body changed",
    "body re-serialised", "truncated", "upper-case hex"])
def test_every_wrong_signature_is_refused_and_nothing_stored(
        ig_channel: Channel, graph: FakeMetaGraph, deliveries: Deliveries, how: str) -> None:
    body = graph.webhook(graph.customer_sends("Oi")["message"] and {})  # a second body
    graph.outbox.clear()
    item = graph.customer_sends("Vocês entregam em Campinas?")
    raw = json.dumps({"object": "instagram", "entry": [{
        "id": graph.ig_id, "time": 1, "messaging": [item]}]}, indent=1).encode()
    good = graph.sign(raw)
    signature, sent = {
        "missing": ("", raw), "empty": ("sha256=", raw),
        "other secret": (graph.sign(raw, "f" * 32), raw),
        "no prefix": (good.removeprefix("sha256="), raw),
        "sha1 prefix": ("sha1=" + good.removeprefix("sha256="), raw),
        "body changed": (good, raw.replace(b"Campinas", b"Santos")),
        "body re-serialised": (good, json.dumps(json.loads(raw)).encode()),
        "truncated": (good[:-2], raw),
        "upper-case hex": ("sha256=" + good.removeprefix("sha256=").upper(), raw),
    }[how]
    assert body is not None
    answer = deliveries.post(ig_channel, sent, signature=signature)
    assert answer.status_code == 401
    assert not InboundEvent.objects.filter(channel=ig_channel).exists()
    assert RefusedWebhook.objects.filter(channel=ig_channel).exists()
    # The same body with the right signature goes in.
    assert deliveries.post(ig_channel, raw, signature=good).status_code == 200
    assert Message.objects.filter(channel=ig_channel).count() == 1


def test_a_body_that_is_not_a_webhook_is_kept_quarantined(
        ig_channel: Channel, deliveries: Deliveries) -> None:
    for raw in (b"{not json", b'{"object": "instagram", "entry": "x"}'):
        answer = deliveries.post(ig_channel, raw)
        assert answer.status_code == 400
        event = InboundEvent.objects.get(pk=answer.json()["event"])
        assert event.status == InboundStatus.QUARANTINED and event.error


def test_another_organisations_secret_does_not_open_this_channel(
        ig_channel: Channel, graph: FakeMetaGraph, deliveries: Deliveries,
        other_tenant: object) -> None:
    graph.customer_sends("Oi")
    body = json.dumps(graph.outbox.pop()).encode()
    answer = deliveries.post(ig_channel, body, signature=graph.sign(body, "ab" * 16))
    assert answer.status_code == 401
    assert deliveries.post(ig_channel, body, signature=graph.sign(body)).status_code == 200
    unknown = Client().post("/instagram/999999/webhook", data=body,
                            content_type="application/json",
                            headers={"X-Hub-Signature-256": graph.sign(body)})
    assert unknown.status_code == 404
