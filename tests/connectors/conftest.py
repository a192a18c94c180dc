"""Fixtures for connector tests: an API channel wired to a real HTTP receiver."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from atende.channels.models import Channel
from atende.connectors.api.channels import create_api_channel
from tests.conftest import ApiClient, Tenant
from tests.fakes.http_receiver import HttpReceiver

_ids = itertools.count(1)


def customer_message(**overrides: Any) -> dict[str, Any]:
    """A valid payload for POST /channels/{id}/messages, with a fresh message_id."""
    n = next(_ids)
    return {
        "message_id": f"ext-msg-{n}",
        "conversation_id": "conv-1",
        "contact": {"id": "cust-42", "name": "Maria Souza", "email": "maria@example.com",
                    "phone": "+55 11 98765-4321"},
        "text": f"Mensagem {n}: meu pedido não chegou.",
        **overrides,
    }


@dataclass
class ApiChannel:
    tenant: Tenant
    channel: Channel
    raw_key: str
    signing_secret: str
    client: ApiClient  # authenticated with the channel's own key

    @property
    def messages_url(self) -> str:
        return f"/api/v1/channels/{self.channel.pk}/messages"

    def post(self, **overrides: Any) -> Any:
        return self.client.post(self.messages_url, customer_message(**overrides))


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


@pytest.fixture
def api_channel(tenant: Tenant, receiver: HttpReceiver) -> ApiChannel:
    channel, raw_key, secret = create_api_channel(
        tenant.org, name="ERP", service=tenant.service, webhook_url=receiver.url)
    return ApiChannel(tenant, channel, raw_key, secret, ApiClient(raw_key))
