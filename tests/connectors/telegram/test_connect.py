"""Connecting a bot from the channels screen: the token proved with getMe, the webhook
registered with a per-channel secret, the secrets encrypted, and "test connection"
reporting Telegram's last delivery error."""

from __future__ import annotations

import pytest
from django.test import Client

from atende.channels.models import Channel, ChannelKind
from tests.conftest import Tenant
from tests.fakes.telegram import FakeTelegram

pytestmark = pytest.mark.django_db


def test_connecting_a_bot_registers_the_webhook_with_a_secret(
        admin_client: Client, tenant: Tenant, tg: FakeTelegram) -> None:
    response = admin_client.post("/settings/channels/new/telegram/", {
        "name": "Telegram Suporte", "bot_token": tg.token, "service": tenant.service.pk},
        follow=True)
    assert response.status_code == 200
    channel = Channel.objects.get(organization=tenant.org, kind=ChannelKind.TELEGRAM)
    page = response.content.decode()
    assert "@atende_test_bot" in page
    assert tg.webhook["url"].endswith(f"/telegram/{channel.pk}/webhook")
    assert tg.webhook["allowed_updates"] == ["message", "edited_message"]
    secret = tg.webhook["secret_token"]
    assert len(secret) >= 32 and channel.secrets["webhook_secret"] == secret
    assert channel.secrets["bot_token"] == tg.token
    # Encrypted at rest: neither secret is readable in the row.
    assert tg.token not in channel.encrypted_secrets and secret not in channel.encrypted_secrets
    assert tg.token not in str(channel.settings) and secret not in page

    # Editing without retyping the token keeps it, and the webhook's secret.
    edit = admin_client.post(f"/settings/channels/{channel.pk}/",
                             {"name": "Telegram SAC", "bot_token": ""})
    assert edit.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "Telegram SAC" and channel.secrets["bot_token"] == tg.token
    assert tg.webhook["secret_token"] == secret


@pytest.mark.parametrize("token", ["not-a-token", "123:short"])
def test_a_malformed_token_is_explained(token: str, admin_client: Client,
                                        tg: FakeTelegram) -> None:
    response = admin_client.post("/settings/channels/new/telegram/",
                                 {"name": "X", "bot_token": token})
    assert response.status_code == 200
    assert "bot_token" in response.context["form"].errors
    assert not tg.requests  # refused before calling Telegram
    assert not Channel.objects.filter(kind=ChannelKind.TELEGRAM).exists()


def test_a_token_telegram_refuses_is_explained(admin_client: Client,
                                               tg: FakeTelegram) -> None:
    wrong = tg.token.split(":")[0] + ":" + "B" * 35
    response = admin_client.post("/settings/channels/new/telegram/",
                                 {"name": "X", "bot_token": wrong})
    assert response.status_code == 200
    [error] = response.context["form"].errors["bot_token"]
    assert "401" in error
    assert not Channel.objects.filter(kind=ChannelKind.TELEGRAM).exists()
    assert not tg.webhook


def test_test_connection_reports_telegrams_last_delivery_error(
        admin_client: Client, tg_channel: Channel, tg: FakeTelegram) -> None:
    ok = admin_client.post(f"/settings/channels/{tg_channel.pk}/test/", follow=True)
    assert "connection works" in ok.content.decode()
    assert "@atende_test_bot" in ok.content.decode()

    tg.last_error = "Connection refused"
    failed = admin_client.post(f"/settings/channels/{tg_channel.pk}/test/", follow=True)
    page = failed.content.decode()
    assert "connection failed" in page and "Connection refused" in page


def test_a_telegram_channel_is_offered_on_the_screens(admin_client: Client,
                                                      tg: FakeTelegram) -> None:
    assert "/settings/channels/new/telegram/" in admin_client.get(
        "/settings/channels/").content.decode()
    assert 'value="telegram"' in admin_client.get("/").content.decode()  # queue filter
