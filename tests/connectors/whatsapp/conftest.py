"""A WhatsApp channel connected (through the production settings service) to the fake
360dialog server, and a way to deliver the fake's webhooks into the app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.connectors.whatsapp.channels import save_channel
from atende.connectors.whatsapp.settings_form import WhatsAppChannelForm
from tests.conftest import Tenant
from tests.fakes.dialog360 import FakeDialog360
from tests.fakes.http_receiver import HttpReceiver

CUSTOMER = "5511987654321"
CUSTOMER_OLD_FORM = "551187654321"  # the same person without the ninth digit


@pytest.fixture
def wa(settings: Any) -> Iterator[FakeDialog360]:
    with FakeDialog360() as fake:
        settings.WHATSAPP_BASE_URLS = {"360dialog": fake.url, "meta": fake.url}
        yield fake


def channel_form(tenant: Tenant, **overrides: Any) -> WhatsAppChannelForm:
    data = {"name": "WhatsApp Vendas", "provider": "360dialog", "api_key": "d360-test-key",
            "number": "+55 11 3000-0000", "service": tenant.service.pk, "hsm_enabled": "on",
            **overrides}
    return WhatsAppChannelForm(tenant.org.pk, data=data)


@pytest.fixture
def wa_channel(tenant: Tenant, wa: FakeDialog360) -> Channel:
    form = channel_form(tenant)
    assert form.is_valid(), form.errors
    connection = save_channel(tenant.org, form)
    assert connection.registered, connection.message
    return connection.channel


class Webhooks:
    """Posts the fake's queued webhook bodies into the app through Django's test client,
    with exactly the headers the fake holds from the webhook registration."""

    def __init__(self, wa: FakeDialog360, capture: Any) -> None:
        self.wa, self.capture = wa, capture

    def post(self, body: Any, headers: dict[str, str] | None = None) -> Any:
        hook = self.wa.webhook
        sent = hook["headers"] if headers is None else headers
        client = Client(headers=sent)
        with self.capture(execute=True):
            return client.post(urlsplit(hook["url"]).path, data=body,
                               content_type="application/json")

    def flush(self, *, reverse: bool = False) -> list[int]:
        bodies, self.wa.outbox = self.wa.outbox, []
        if reverse:
            bodies.reverse()
        statuses = []
        for body in bodies:
            statuses.append(self.post(body).status_code)
            self.wa.delivered.append(body)
        return statuses


@pytest.fixture
def webhooks(wa: FakeDialog360, django_capture_on_commit_callbacks: Any) -> Webhooks:
    return Webhooks(wa, django_capture_on_commit_callbacks)


BOT_SECRET = "bot-signing-secret-0123456789"


@pytest.fixture
def bot_endpoint() -> Iterator[HttpReceiver]:
    """The bot's webhook: a real HTTP server on 127.0.0.1 that records what it receives."""
    with HttpReceiver() as receiver:
        yield receiver


def bot_channel_for(tenant: Tenant, admin_client: Client, endpoint: HttpReceiver,
                    **bot_fields: str) -> Channel:
    """A bot created through Settings → Bots, and a WhatsApp channel that returns to it."""
    created = admin_client.post("/settings/bots/new/", {
        "bot_id": "triagem", "name": "Triagem", "webhook_url": endpoint.url,
        "signing_secret": BOT_SECRET, **bot_fields})
    assert created.status_code == 302
    form = channel_form(tenant, return_to_bot="on", bot_id="triagem")
    assert form.is_valid(), form.errors
    return save_channel(tenant.org, form).channel
