"""The SSRF guard on the settings screens where an admin types a URL: an API channel's webhook
and a WhatsApp bot's endpoint, refused when created or changed, with the reason on the form."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils.html import escape

from atende.channels.models import Channel
from atende.connectors.api.channels import create_api_channel
from atende.connectors.whatsapp.models import Bot
from tests.conftest import Tenant
from tests.net.refused_urls import REFUSED_URLS

REFUSAL = "This address cannot receive webhooks"


@pytest.mark.parametrize(("url", "_words"), REFUSED_URLS)
def test_a_new_api_channel_with_an_internal_or_malformed_url_is_refused(
        ssrf_guard: None, tenant: Tenant, admin_client: Client, url: str, _words: str) -> None:
    response = admin_client.post("/settings/channels/new/api/", {
        "name": "ERP", "service": tenant.service.pk, "webhook_url": url})
    assert response.status_code == 200
    assert escape(REFUSAL) in response.content.decode()
    assert not Channel.objects.exists()


@pytest.mark.parametrize(("url", "_words"), REFUSED_URLS)
def test_changing_an_api_channels_url_to_an_internal_one_is_refused(
        ssrf_guard: None, tenant: Tenant, admin_client: Client, url: str, _words: str) -> None:
    channel, _key, _secret = create_api_channel(tenant.org, name="ERP",
                                                webhook_url="https://8.8.8.8/hook")
    response = admin_client.post(f"/settings/channels/{channel.pk}/", {
        "name": "ERP", "service": "", "webhook_url": url})
    assert escape(REFUSAL) in response.content.decode()
    channel.refresh_from_db()
    assert channel.settings["webhook_url"] == "https://8.8.8.8/hook"


def test_the_reason_is_named_on_the_form(ssrf_guard: None, tenant: Tenant,
                                         admin_client: Client) -> None:
    page = admin_client.post("/settings/channels/new/api/", {
        "name": "ERP", "webhook_url": "http://169.254.169.254/latest/"}).content.decode()
    assert escape("169.254.169.254 is a link-local address") in page


@pytest.mark.parametrize(("url", "_words"), REFUSED_URLS)
def test_a_bot_with_an_internal_or_malformed_url_is_refused(
        ssrf_guard: None, admin_client: Client, url: str, _words: str) -> None:
    response = admin_client.post("/settings/bots/new/", {
        "bot_id": "triagem", "name": "Triagem", "webhook_url": url,
        "signing_secret": "a-secret-of-sixteen-chars"})
    assert response.status_code == 200
    assert escape(REFUSAL) in response.content.decode()
    assert not Bot.objects.exists()
