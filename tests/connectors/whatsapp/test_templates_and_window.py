"""The 24-hour window (WA-5) and approved templates (WA-4), through the services and the
REST API, against the fake provider."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from atende.channels.models import Channel
from atende.connectors.whatsapp.templates import send_event_template
from atende.connectors.whatsapp.window import window_state
from atende.tickets.models import DeliveryStatus, Message, Status, Ticket
from atende.tickets.services.actor import Actor
from tests.conftest import Tenant
from tests.connectors.whatsapp.conftest import CUSTOMER, Webhooks
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db
HOUR = 3600


@pytest.fixture
def old_ticket(wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> Ticket:
    """The customer last wrote 25 hours ago: the window is closed."""
    wa.customer_sends(CUSTOMER, "Oi", at=wa.now - 25 * HOUR, name="Maria Souza")
    webhooks.flush()
    wa.add_template("ticket_update", "Olá {{1}}, seu chamado {{2}} está {{3}}.")
    wa.add_template("rejected_one", "x", status="rejected")
    return Ticket.objects.get()


def test_window_follows_the_customers_last_message(
        wa: FakeDialog360, old_ticket: Ticket, webhooks: Webhooks) -> None:
    is_open, closes_at = window_state(old_ticket)
    assert not is_open and closes_at is not None and closes_at < timezone.now()
    wa.customer_sends(CUSTOMER, "Voltei")
    webhooks.flush()
    is_open, closes_at = window_state(old_ticket)
    assert is_open and closes_at is not None
    assert timedelta(hours=23) < closes_at - timezone.now() <= timedelta(hours=24)


def test_window_endpoint_is_tenant_scoped(tenant: Tenant, other_tenant: Tenant,
                                          old_ticket: Ticket) -> None:
    answer = tenant.client.get(f"/api/v1/tickets/{old_ticket.pk}/whatsapp/window")
    assert answer.status_code == 200 and answer.json()["open"] is False
    assert other_tenant.client.get(
        f"/api/v1/tickets/{old_ticket.pk}/whatsapp/window").status_code == 404


def test_templates_listed_approved_only_and_cached(
        wa: FakeDialog360, tenant: Tenant, other_tenant: Tenant, wa_channel: Channel,
        old_ticket: Ticket) -> None:
    url = f"/api/v1/whatsapp/channels/{wa_channel.pk}/templates"
    answer = tenant.client.get(url)
    assert answer.status_code == 200, answer.content
    assert answer.json() == [{"name": "ticket_update", "language": "pt_BR",
                              "category": "UTILITY", "variables": 3,
                              "body": "Olá {{1}}, seu chamado {{2}} está {{3}}."}]
    calls = wa.requests.count(("GET", "/v1/configs/templates?limit=1000&offset=0&sort=id"))
    tenant.client.get(url)
    assert wa.requests.count(
        ("GET", "/v1/configs/templates?limit=1000&offset=0&sort=id")) == calls  # cached
    assert other_tenant.client.get(url).status_code == 404


def test_template_goes_out_outside_the_window_filled_from_the_ticket(
        wa: FakeDialog360, tenant: Tenant, old_ticket: Ticket,
        django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        answer = tenant.client.post(f"/api/v1/tickets/{old_ticket.pk}/whatsapp/template",
                                    {"name": "ticket_update", "language": "pt_BR"})
    assert answer.status_code == 201, answer.content
    protocol = old_ticket.protocol
    assert answer.json()["text"] == f"Olá Maria Souza, seu chamado {protocol} está Novo."
    [sent] = wa.sent
    assert sent["type"] == "template" and sent["to"] == CUSTOMER
    assert sent["template"] == {"name": "ticket_update", "language": {"code": "pt_BR"},
                                "components": [{"type": "body", "parameters": [
                                    {"type": "text", "text": "Maria Souza"},
                                    {"type": "text", "text": protocol},
                                    {"type": "text", "text": "Novo"}]}]}
    message = Message.objects.get(pk=answer.json()["message_id"])
    assert message.delivery_status == DeliveryStatus.SENT


def test_template_errors_are_clear_and_send_nothing(
        wa: FakeDialog360, tenant: Tenant, old_ticket: Ticket, wa_channel: Channel) -> None:
    url = f"/api/v1/tickets/{old_ticket.pk}/whatsapp/template"
    wrong = tenant.client.post(url, {"name": "ticket_update", "params": ["só um"]})
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "params"
    assert tenant.client.post(url, {"name": "rejected_one"}).json()["error"]["code"] == \
        "unknown_template"
    wa_channel.settings = {**wa_channel.settings, "hsm_enabled": False}
    wa_channel.save()
    off = tenant.client.post(url, {"name": "ticket_update"})
    assert off.json()["error"]["code"] == "templates_disabled"
    assert wa.sent == [] and not Message.objects.filter(direction="outbound").exists()


def test_template_reopens_a_finished_ticket_when_configured(
        wa: FakeDialog360, old_ticket: Ticket, wa_channel: Channel,
        django_capture_on_commit_callbacks: Any) -> None:
    Ticket.objects.filter(pk=old_ticket.pk).update(status=Status.RESOLVED)
    wa_channel.settings = {**wa_channel.settings, "hsm_opens_attendance": True,
                           "templates": {"resolution": {"name": "ticket_update",
                                                        "language": "pt_BR",
                                                        "params": ["{name}", "{protocol}",
                                                                   "resolvido"]}}}
    wa_channel.save()
    old_ticket.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        message = send_event_template(old_ticket, "resolution", Actor(label="system"))
    assert message is not None and message.text.endswith("está resolvido.")
    old_ticket.refresh_from_db()
    assert old_ticket.status == Status.OPEN
    assert send_event_template(old_ticket, "answer_reminder", Actor(label="system")) is None


def test_new_conversation_gets_the_mapped_opening_confirmation(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    wa.add_template("recebemos", "Olá {{1}}, abrimos o chamado {{2}}.")
    wa_channel.settings = {**wa_channel.settings, "templates": {
        "opening": {"name": "recebemos", "language": "pt_BR"}}}
    wa_channel.save()
    wa.customer_sends(CUSTOMER, "Oi", name="Ana")
    wa.customer_sends(CUSTOMER, "Alguém aí?", name="Ana")
    webhooks.flush()
    ticket = Ticket.objects.get()
    [sent] = wa.sent  # once per ticket, not per message
    assert sent["template"]["name"] == "recebemos"
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == \
        ["Ana", ticket.protocol]
