"""Status-update and resolution templates (WA-4): mapped per channel, sent to the fake
provider when the ticket's status changes, through the ticket services themselves."""

from __future__ import annotations

from typing import Any

import pytest

from atende.channels.models import Channel
from atende.connectors.whatsapp.ticket_events import send_for_ticket, template_event
from atende.tenancy.models import Membership
from atende.tickets.models import FinalizationTag, Status, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import finalize, update_ticket
from tests.conftest import Tenant
from tests.connectors.whatsapp.conftest import CUSTOMER, Webhooks
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> Ticket:
    wa.add_template("ticket_update", "Olá {{1}}, seu chamado {{2}} está {{3}}.")
    wa.add_template("ticket_resolved", "Chamado {{1}} resolvido.")
    wa_channel.settings = {**wa_channel.settings, "templates": {
        "status_update": {"name": "ticket_update", "language": "pt_BR"},
        "resolution": {"name": "ticket_resolved", "language": "pt_BR",
                       "params": ["{protocol}"]}}}
    wa_channel.save()
    wa.customer_sends(CUSTOMER, "Meu pedido não chegou", name="Maria Souza")
    webhooks.flush()
    return Ticket.objects.get()


def templates_sent(wa: FakeDialog360) -> list[tuple[str, list[str]]]:
    return [(b["template"]["name"],
             [p["text"] for c in b["template"].get("components", []) for p in c["parameters"]])
            for b in wa.sent if b["type"] == "template"]


def agent(ticket: Ticket) -> Actor:
    return Actor(user=Membership.objects.get(organization=ticket.organization).user)


def test_pending_sends_the_status_update_and_resolving_the_resolution(
        wa: FakeDialog360, ticket: Ticket, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket, agent(ticket), status=Status.PENDING)
    assert templates_sent(wa) == [("ticket_update",
                                   ["Maria Souza", ticket.protocol, "Pendente"])]
    tag = FinalizationTag.objects.create(organization=ticket.organization, name="Resolvido")
    with django_capture_on_commit_callbacks(execute=True):
        finalize(ticket, agent(ticket), tag)
    assert templates_sent(wa)[1:] == [("ticket_resolved", [ticket.protocol])]
    # The templates are on the timeline like any answer.
    assert ticket.messages.filter(text=f"Chamado {ticket.protocol} resolvido.").exists()


def test_becoming_open_or_an_unmapped_event_sends_nothing(
        wa: FakeDialog360, ticket: Ticket, wa_channel: Channel,
        django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket, agent(ticket), status=Status.OPEN)
    wa_channel.settings = {**wa_channel.settings, "templates": {}}
    wa_channel.save()
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket, agent(ticket), status=Status.PENDING)
    assert templates_sent(wa) == []
    assert template_event(Status.RESOLVED, Status.CLOSED) is None
    assert template_event(Status.OPEN, Status.CLOSED) == "status_update"


def test_a_provider_failure_is_logged_and_the_status_change_stands(
        wa: FakeDialog360, ticket: Ticket, django_capture_on_commit_callbacks: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    wa.fail_next(401, path_prefix="/v1/configs/templates")
    with django_capture_on_commit_callbacks(execute=True):
        update_ticket(ticket, agent(ticket), status=Status.PENDING)
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING and templates_sent(wa) == []
    assert "status_update template" in caplog.text


def test_another_organisation_cannot_trigger_a_template_on_this_ticket(
        wa: FakeDialog360, ticket: Ticket, other_tenant: Tenant,
        django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        send_for_ticket(other_tenant.org.pk, ticket.pk, "resolution")
    assert templates_sent(wa) == [] and ticket.messages.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        send_for_ticket(ticket.organization_id, ticket.pk, "resolution")
    assert templates_sent(wa) == [("ticket_resolved", [ticket.protocol])]
