"""A Telegram channel connected (through the production settings service) to the fake Bot
API, and a way to deliver the fake's updates into the app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.connectors.telegram.channels import save_channel
from atende.connectors.telegram.settings_form import TelegramChannelForm
from tests.conftest import Tenant
from tests.fakes.telegram import SECRET_HEADER, FakeTelegram


@pytest.fixture
def tg(settings: Any) -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        settings.TELEGRAM_BASE_URL = fake.url
        yield fake


def channel_form(tenant: Tenant, token: str, **overrides: Any) -> TelegramChannelForm:
    data = {"name": "Telegram Suporte", "bot_token": token, "service": tenant.service.pk,
            **overrides}
    return TelegramChannelForm(tenant.org.pk, data=data)


def connect(tenant: Tenant, fake: FakeTelegram) -> Channel:
    form = channel_form(tenant, fake.token)
    assert form.is_valid(), form.errors
    connection = save_channel(tenant.org, form)
    assert connection.registered, connection.message
    return connection.channel


@pytest.fixture
def tg_channel(tenant: Tenant, tg: FakeTelegram) -> Channel:
    return connect(tenant, tg)


class Updates:
    """Posts the fake's queued updates into the app through Django's test client, with the
    secret header the fake holds from `setWebhook` (or the one given)."""

    def __init__(self, fake: FakeTelegram, capture: Any) -> None:
        self.fake, self.capture = fake, capture

    def post(self, update: Any, *, secret: str | None = None, url: str = "") -> Any:
        token = self.fake.webhook.get("secret_token") if secret is None else secret
        headers = {SECRET_HEADER: token} if token else {}
        body = update if isinstance(update, bytes) else json.dumps(update)
        with self.capture(execute=True):
            return Client(headers=headers).post(
                urlsplit(url or self.fake.webhook["url"]).path, data=body,
                content_type="application/json")

    def flush(self, *, reverse: bool = False) -> list[int]:
        updates, self.fake.outbox = self.fake.outbox, []
        if reverse:
            updates.reverse()
        statuses = [self.post(update).status_code for update in updates]
        self.fake.delivered.extend(updates)
        return statuses


@pytest.fixture
def updates(tg: FakeTelegram, django_capture_on_commit_callbacks: Any) -> Updates:
    return Updates(tg, django_capture_on_commit_callbacks)
