"""Meta's Cloud API direct, on the same code: Bearer token, paths under the phone number
id, the GET verification handshake and `X-Hub-Signature-256` on webhook calls."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.connectors.whatsapp.channels import save_channel, send_test_message
from atende.tickets.models import Attachment, Message
from tests.conftest import Tenant
from tests.connectors.whatsapp.conftest import CUSTOMER, channel_form
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db
APP_SECRET = "meta-app-secret"


@pytest.fixture
def meta_channel(tenant: Tenant, wa: FakeDialog360) -> Channel:
    form = channel_form(tenant, provider="meta", phone_number_id=wa.phone_number_id,
                        app_secret=APP_SECRET)
    assert form.is_valid(), form.errors
    connection = save_channel(tenant.org, form)
    assert not connection.registered and "Meta" in connection.message
    return connection.channel


def signed_post(channel: Channel, body: dict[str, Any], secret: str,
                capture: Any) -> Any:
    raw = json.dumps(body).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    with capture(execute=True):
        return Client(headers={"X-Hub-Signature-256": signature}).post(
            f"/whatsapp/{channel.pk}/webhook", data=raw, content_type="application/json")


def test_verification_handshake_echoes_the_challenge(meta_channel: Channel) -> None:
    token = meta_channel.secrets["webhook_secret"]
    url = f"/whatsapp/{meta_channel.pk}/webhook"
    ok = Client().get(url, {"hub.mode": "subscribe", "hub.challenge": "1158201444",
                            "hub.verify_token": token})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    assert Client().get(url, {"hub.mode": "subscribe", "hub.challenge": "1",
                              "hub.verify_token": "wrong"}).status_code == 403


def test_signed_webhook_is_accepted_and_media_fetched_with_the_token(
        wa: FakeDialog360, meta_channel: Channel,
        django_capture_on_commit_callbacks: Any) -> None:
    media_id = wa.store_media(b"\x89PNG", "image/png")
    body = wa.customer_sends(CUSTOMER, kind="image", content={"id": media_id,
                                                               "caption": "print"})
    bad = signed_post(meta_channel, body, "not-the-secret", django_capture_on_commit_callbacks)
    assert bad.status_code == 401
    good = signed_post(meta_channel, body, APP_SECRET, django_capture_on_commit_callbacks)
    assert good.status_code == 200
    [message] = Message.objects.filter(channel=meta_channel)
    assert message.text == "print"
    assert Attachment.objects.get(message=message).file.read() == b"\x89PNG"


def test_sends_with_the_bearer_token_under_the_phone_number_id(
        wa: FakeDialog360, meta_channel: Channel) -> None:
    result = send_test_message(meta_channel, CUSTOMER, "Olá pela Meta")
    assert result.ok, result.message
    assert (wa.requests[-1][0], wa.requests[-1][1]) == ("POST",
                                                        f"/{wa.phone_number_id}/messages")
    assert wa.sent[-1]["text"]["body"] == "Olá pela Meta"
