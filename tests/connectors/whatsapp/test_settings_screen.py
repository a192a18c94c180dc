"""A WhatsApp number connected from the channels screen: the provider gets the webhook."""

from __future__ import annotations

import pytest
from django.test import Client

from atende.connectors.models import Channel, ChannelKind
from tests.conftest import Tenant
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db



def test_connecting_a_number_registers_the_webhook_and_keeps_the_key_secret(
    admin_client: Client, tenant: Tenant, wa: FakeDialog360,
) -> None:
    form = {"name": "WhatsApp Vendas", "provider": "360dialog", "api_key": wa.api_key,
            "number": "+55 11 3000-0000", "service": tenant.service.pk, "hsm_enabled": "on"}
    response = admin_client.post("/settings/channels/new/whatsapp/", form, follow=True)

    assert response.status_code == 200
    channel = Channel.objects.get(organization=tenant.org, kind=ChannelKind.WHATSAPP)
    assert channel.settings["number"] == "+551130000000"
    assert wa.webhook["url"].endswith(f"/whatsapp/{channel.pk}/webhook")
    assert wa.webhook["url"] in response.content.decode()
    assert wa.api_key not in channel.settings.values()

    # Editing without retyping the key keeps the stored one.
    edit = admin_client.post(f"/settings/channels/{channel.pk}/",
                             {**form, "api_key": "", "name": "WhatsApp SAC"})
    assert edit.status_code == 302
    channel.refresh_from_db()
    assert channel.name == "WhatsApp SAC"
    assert channel.secrets["api_key"] == wa.api_key


def test_a_wrong_number_is_explained(admin_client: Client, wa: FakeDialog360) -> None:
    response = admin_client.post("/settings/channels/new/whatsapp/", {
        "name": "X", "provider": "360dialog", "api_key": "k", "number": "12"})
    assert response.status_code == 200
    assert not Channel.objects.filter(kind=ChannelKind.WHATSAPP).exists()
    assert "number" in response.context["form"].errors
