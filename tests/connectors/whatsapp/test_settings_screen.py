"""A WhatsApp number connected from the channels screen: the provider gets the webhook."""

from __future__ import annotations

import pytest
from django.test import Client

from atende.channels.models import Channel, ChannelKind
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


def test_business_hours_are_chosen_on_the_screen_from_this_tenant_calendars(
    admin_client: Client, tenant: Tenant, other_tenant: Tenant, wa: FakeDialog360,
) -> None:
    from atende.automation.models import BusinessCalendar

    mine = BusinessCalendar.objects.create(organization=tenant.org, name="Comercial SP")
    BusinessCalendar.objects.create(organization=other_tenant.org, name="Calendario Globex")
    page = admin_client.get("/settings/channels/new/whatsapp/").content.decode()
    assert "Comercial SP" in page and "Calendario Globex" not in page
    assert "24x7" in page and "answer_reminder_hours" in page and "waba_id" in page
    admin_client.post("/settings/channels/new/whatsapp/", {
        "name": "WhatsApp Vendas", "provider": "360dialog", "api_key": wa.api_key,
        "number": "+55 11 3000-0000", "business_calendar": mine.pk,
        "out_of_hours_message": "Voltamos às 8h."})
    channel = Channel.objects.get(organization=tenant.org, kind=ChannelKind.WHATSAPP)
    assert channel.business_calendar == mine
    edit = admin_client.get(f"/settings/channels/{channel.pk}/").content.decode()
    assert f'value="{mine.pk}" selected' in edit and "Voltamos às 8h." in edit
