"""The answer-reminder template (WA-4) on the core's `ticket.answer_reminder`, Meta's Cloud
API template list through the production client, and "sending a template opens an
attendance" turned off."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from atende.channels.models import Channel
from atende.connectors.whatsapp.channels import save_channel
from atende.connectors.whatsapp.client import ProviderError, WhatsAppClient
from atende.connectors.whatsapp.templates import approved_templates, send_event_template
from atende.tenancy.models import Membership
from atende.tickets.models import Status, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.reminders import send_due_reminders
from atende.tickets.services.replies import post_message
from tests.conftest import Tenant
from tests.connectors.whatsapp.conftest import CUSTOMER, Webhooks, channel_form
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db


def template_names(wa: FakeDialog360) -> list[str]:
    return [b["template"]["name"] for b in wa.sent if b["type"] == "template"]


@pytest.fixture
def pending(wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks,
            django_capture_on_commit_callbacks: Any) -> Ticket:
    wa.add_template("lembrete", "Olá {{1}}, ainda aguardamos sua resposta no chamado {{2}}.")
    wa_channel.settings = {**wa_channel.settings, "answer_reminder_hours": 2, "templates": {
        "answer_reminder": {"name": "lembrete", "language": "pt_BR"}}}
    wa_channel.save()
    wa.customer_sends(CUSTOMER, "Meu boleto não chegou", name="Maria Souza")
    webhooks.flush()
    ticket = Ticket.objects.get()
    agent = Actor(user=Membership.objects.get(organization=ticket.organization).user)
    with django_capture_on_commit_callbacks(execute=True):
        post_message(ticket, agent, text="Pode confirmar seu e-mail?")
        update_ticket(ticket, agent, status=Status.PENDING)
    ticket.refresh_from_db()
    return ticket


def test_answer_reminder_sends_the_mapped_template_once(
        wa: FakeDialog360, pending: Ticket,
        django_capture_on_commit_callbacks: Any) -> None:
    now = pending.last_outbound_at
    assert now is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_reminders(now + timedelta(hours=1)) == 0
    assert template_names(wa) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_reminders(now + timedelta(hours=3)) == 1
        assert send_due_reminders(now + timedelta(hours=9)) == 0
    assert template_names(wa) == ["lembrete"]
    sent = next(b for b in wa.sent if b["type"] == "template")
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == [
        "Maria Souza", pending.protocol]
    assert pending.messages.filter(
        text=f"Olá Maria Souza, ainda aguardamos sua resposta no chamado {pending.protocol}."
    ).exists()


def test_no_mapped_reminder_template_sends_nothing(
        wa: FakeDialog360, pending: Ticket, wa_channel: Channel,
        django_capture_on_commit_callbacks: Any) -> None:
    wa_channel.settings = {**wa_channel.settings, "templates": {}}
    wa_channel.save()
    assert pending.last_outbound_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert send_due_reminders(pending.last_outbound_at + timedelta(hours=3)) == 1
    assert template_names(wa) == []


@pytest.fixture
def meta_channel(tenant: Tenant, wa: FakeDialog360) -> Channel:
    form = channel_form(tenant, provider="meta", phone_number_id=wa.phone_number_id,
                        waba_id=wa.waba_id, app_secret="meta-app-secret")
    assert form.is_valid(), form.errors
    return save_channel(tenant.org, form).channel


def test_meta_lists_approved_templates_across_pages(
        wa: FakeDialog360, meta_channel: Channel) -> None:
    for n in range(300):  # more than one page of 250
        wa.add_template(f"modelo_{n}", f"Texto {n} para {{{{1}}}}")
    wa.add_template("recusado", "Não pode", status="rejected")
    templates = approved_templates(meta_channel)
    assert len(templates) == 300
    assert {t.name for t in templates} >= {"modelo_0", "modelo_299"}
    assert "recusado" not in {t.name for t in templates}
    assert templates[0].variables == 1 and templates[0].language == "pt_BR"
    asked = [p for m, p in wa.requests if "message_templates" in p]
    assert len(asked) == 2 and "status=APPROVED" in asked[0]


def test_meta_template_list_through_the_api_and_its_errors(
        wa: FakeDialog360, meta_channel: Channel, tenant: Tenant) -> None:
    wa.add_template("boas_vindas", "Bem-vindo, {{1}}!")
    url = f"/api/v1/whatsapp/channels/{meta_channel.pk}/templates"
    assert [t["name"] for t in tenant.client.get(url).json()] == ["boas_vindas"]
    meta_channel.secrets = {**meta_channel.secrets, "api_key": "expired-token"}
    meta_channel.save()
    refused = tenant.client.get(url, {"refresh": "true"})
    assert refused.status_code == 502 and "190" in refused.json()["error"]["message"]
    meta_channel.settings = {**meta_channel.settings, "waba_id": ""}
    with pytest.raises(ProviderError, match="Business Account id"):
        WhatsAppClient.for_channel(meta_channel).list_templates()


def test_template_on_a_finished_ticket_does_not_reopen_it_when_turned_off(
        wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks,
        django_capture_on_commit_callbacks: Any) -> None:
    wa.add_template("pesquisa", "Como foi o atendimento do chamado {{1}}?")
    wa_channel.settings = {**wa_channel.settings, "hsm_opens_attendance": False,
                           "templates": {"status_update": {"name": "pesquisa",
                                                           "language": "pt_BR",
                                                           "params": ["{protocol}"]}}}
    wa_channel.save()
    wa.customer_sends(CUSTOMER, "Obrigada!")
    webhooks.flush()
    Ticket.objects.update(status=Status.RESOLVED)
    ticket = Ticket.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        message = send_event_template(ticket, "status_update", Actor(label="system"))
    assert message is not None and template_names(wa) == ["pesquisa"]
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED and Ticket.objects.count() == 1
