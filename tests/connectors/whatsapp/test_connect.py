"""Connecting a number (WA-1, WA-7): options validated, webhook registered with the provider
under a per-channel secret header, the test message, and idle expiry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from atende.channels.connection import webhook_url
from atende.channels.models import Channel
from atende.connectors.whatsapp.channels import save_channel, send_test_message
from atende.connectors.whatsapp.expiry import expire_idle_attendances
from atende.tickets.models import Direction, Message, Status, Ticket
from tests.conftest import Tenant
from tests.connectors.whatsapp.conftest import CUSTOMER, Webhooks, channel_form
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db


def test_options_are_validated(tenant: Tenant, wa: FakeDialog360) -> None:
    form = channel_form(tenant, api_key="", number="12", return_to_bot="on", bot_id="",
                        provider="meta", idle_expiry_minutes="-5")
    assert not form.is_valid()
    assert set(form.errors) == {"api_key", "number", "bot_id", "phone_number_id",
                                "idle_expiry_minutes"}
    good = channel_form(tenant, number="+55 (11) 8765-4321", idle_expiry_minutes="30")
    assert good.is_valid(), good.errors
    assert good.cleaned_data["number"] == "+5511987654321"  # ninth digit restored


def test_save_registers_the_webhook_with_a_secret_header(
        tenant: Tenant, wa: FakeDialog360, wa_channel: Channel) -> None:
    secret = wa_channel.secrets["webhook_secret"]
    assert wa.webhook == {"url": webhook_url(wa_channel),
                          "headers": {"X-Atende-Webhook-Token": secret}}
    assert wa_channel.settings["number"] == "+551130000000"
    assert "d360-test-key" not in str(wa_channel.settings)  # the key is only in secrets

    form = channel_form(tenant, api_key="", name="Renamed")  # blank key keeps the stored one
    form.has_key = True
    assert form.is_valid(), form.errors
    again = save_channel(tenant.org, form, wa_channel)
    assert again.registered and again.channel.name == "Renamed"
    assert again.channel.secrets == {"api_key": "d360-test-key", "app_secret": "",
                                     "webhook_secret": secret}


def test_refused_registration_is_reported_and_the_channel_kept(
        tenant: Tenant, wa: FakeDialog360) -> None:
    form = channel_form(tenant, api_key="wrong-key")
    assert form.is_valid()
    connection = save_channel(tenant.org, form)
    assert not connection.registered and "Invalid api_key" in connection.message
    assert Channel.objects.filter(pk=connection.channel.pk).exists()


def test_test_message_shows_the_provider_answer(
        tenant: Tenant, wa: FakeDialog360, wa_channel: Channel) -> None:
    result = send_test_message(wa_channel, "+55 11 98765-4321", "Teste")
    assert result.ok and "wamid.OUT" in result.message
    assert wa.sent[-1]["to"] == CUSTOMER and wa.sent[-1]["text"]["body"] == "Teste"
    wa.fail_next(503)
    failed = tenant.client.post(f"/api/v1/whatsapp/channels/{wa_channel.pk}/test-message",
                                {"number": "+5511987654321"})
    assert failed.status_code == 200 and failed.json()["ok"] is False
    assert "503" in failed.json()["message"]
    bad = tenant.client.post(f"/api/v1/whatsapp/channels/{wa_channel.pk}/test-message",
                             {"number": "abcd"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "number"


def test_test_message_endpoint_is_tenant_scoped(
        other_tenant: Tenant, wa: FakeDialog360, wa_channel: Channel) -> None:
    answer = other_tenant.client.post(
        f"/api/v1/whatsapp/channels/{wa_channel.pk}/test-message", {"number": CUSTOMER})
    assert answer.status_code == 404 and wa.sent == []


def test_idle_attendance_is_finished_with_a_system_entry_and_message(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks,
        django_capture_on_commit_callbacks: Any) -> None:
    wa_channel.settings = {**wa_channel.settings, "idle_expiry_minutes": 30,
                           "idle_message": "Encerramos por inatividade."}
    wa_channel.save()
    wa.customer_sends(CUSTOMER, "Oi")
    webhooks.flush()
    ticket = Ticket.objects.get()
    assert expire_idle_attendances(timezone.now() + timedelta(minutes=29)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert expire_idle_attendances(timezone.now() + timedelta(minutes=31)) == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    [system] = Message.objects.filter(ticket=ticket, direction=Direction.SYSTEM)
    assert "30 minutos" in system.text
    assert wa.sent[-1]["text"]["body"] == "Encerramos por inatividade."
    assert expire_idle_attendances(timezone.now() + timedelta(minutes=90)) == 0  # once


@pytest.mark.django_db(transaction=True)
def test_provider_delivers_to_the_registered_url_over_http(
        tenant: Tenant, wa: FakeDialog360, live_server: Any, settings: Any) -> None:
    settings.PUBLIC_URL = live_server.url
    form = channel_form(tenant)
    assert form.is_valid()
    channel = save_channel(tenant.org, form).channel
    body = wa.customer_sends(CUSTOMER, "Pelo HTTP de verdade")
    assert wa.flush() == [200]
    assert wa.deliver(body) == 200  # a replay
    [message] = Message.objects.filter(channel=channel)
    assert message.text == "Pelo HTTP de verdade"
