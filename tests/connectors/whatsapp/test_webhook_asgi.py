"""The lean ASGI route for deliveries (`atende.asgi`): the same answers as the Django view,
through the production ASGI application (committed data: the route runs in its own thread)."""

from __future__ import annotations

import json
import logging

import pytest

from atende.channels.models import Channel, InboundEvent, InboundStatus, RefusedWebhook
from atende.connectors.whatsapp import group_commit
from atende.connectors.whatsapp.channels import save_channel
from atende.tickets.models import Message
from tests.channels.asgi_client import asgi_call
from tests.conftest import Tenant
from tests.connectors.whatsapp.conftest import CUSTOMER, channel_form
from tests.connectors.whatsapp.test_inbound import assert_deep_body_quarantined
from tests.fakes.dialog360 import FakeDialog360
from tests.test_json_input import DEEP_BODY

pytestmark = pytest.mark.django_db(transaction=True)


def call(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
         query: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    return asgi_call(method, path, body, headers, query=query,
                     close=group_commit.close_for_this_loop)


def test_delivery_is_stored_and_processed_through_the_lean_route(
        wa: FakeDialog360, wa_channel: Channel, caplog: pytest.LogCaptureFixture) -> None:
    path = f"/whatsapp/{wa_channel.pk}/webhook"
    body = json.dumps(wa.customer_sends(CUSTOMER, "Pelo ASGI")).encode()
    status, headers, answer = call("POST", path, body, wa.webhook["headers"])
    assert (status, json.loads(answer)) == (200, {"ok": True, "events": 1})
    assert headers["content-type"] == "application/json"
    [message] = Message.objects.filter(channel=wa_channel)
    assert message.text == "Pelo ASGI"
    assert InboundEvent.objects.get(channel=wa_channel).status == InboundStatus.PROCESSED
    # A redelivery is recognised: still one entry.
    assert call("POST", path, body, wa.webhook["headers"])[0] == 200
    assert Message.objects.filter(channel=wa_channel).count() == 1

    with caplog.at_level(logging.WARNING, logger="atende.connectors.whatsapp.views"):
        assert call("POST", path, body, {})[0] == 401
        assert call("POST", path, body, {"X-Atende-Webhook-Token": "guess"})[0] == 401
    assert "refused" in caplog.text and "203.0.113.9" in caplog.text
    # The channel log records it (rate-limited: the second refusal is only counted).
    [refused] = RefusedWebhook.objects.filter(channel=wa_channel)
    assert (refused.remote_addr, refused.reason) == ("203.0.113.9", "missing secret")

    status, _headers, answer = call("POST", path, b"{not json", wa.webhook["headers"])
    assert status == 400
    kept = InboundEvent.objects.get(pk=json.loads(answer)["event"])
    assert kept.status == InboundStatus.QUARANTINED and "{not json" in kept.payload["body"]
    assert call("POST", "/whatsapp/999999/webhook", body, wa.webhook["headers"])[0] == 404


def test_other_tenant_channel_and_changed_secret_are_refused(
        wa: FakeDialog360, wa_channel: Channel, tenant: Tenant, other_tenant: Tenant) -> None:
    mine = dict(wa.webhook["headers"])
    form = channel_form(other_tenant)
    assert form.is_valid()
    other = save_channel(other_tenant.org, form).channel
    body = json.dumps(wa.customer_sends(CUSTOMER, "Oi")).encode()
    assert call("POST", f"/whatsapp/{other.pk}/webhook", body, mine)[0] == 401
    assert not InboundEvent.objects.filter(channel=other).exists()

    path = f"/whatsapp/{wa_channel.pk}/webhook"
    assert call("POST", path, body, mine)[0] == 200  # the channel is now cached
    wa_channel.secrets = {**wa_channel.secrets, "webhook_secret": "rotated"}
    wa_channel.save()
    assert call("POST", path, body, mine)[0] == 401  # the save dropped the cached secret
    wa_channel.is_active = False
    wa_channel.save()
    assert call("POST", path, body, {"X-Atende-Webhook-Token": "rotated"})[0] == 404


def test_other_requests_still_go_to_django(wa: FakeDialog360, wa_channel: Channel) -> None:
    path = f"/whatsapp/{wa_channel.pk}/webhook"
    status, _headers, _body = call("GET", path, query=b"hub.mode=subscribe&hub.verify_token=x")
    assert status == 403  # Meta's handshake, answered by the Django view
    assert call("GET", "/healthz")[0] == 200


def test_deep_webhook_body_is_quarantined_through_the_lean_route(
        wa: FakeDialog360, wa_channel: Channel) -> None:
    status, _headers, answer = call("POST", f"/whatsapp/{wa_channel.pk}/webhook", DEEP_BODY,
                                    wa.webhook["headers"])
    assert status == 400 and json.loads(answer)["error"] == "invalid payload"
    assert_deep_body_quarantined(wa_channel, json.loads(answer)["event"])
