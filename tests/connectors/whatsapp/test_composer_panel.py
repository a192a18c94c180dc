"""The ticket screen's WhatsApp panel: the window's time left, and templates once it closed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.tickets.models import Ticket
from tests.conftest import Tenant
from tests.connectors.whatsapp.conftest import CUSTOMER, Webhooks
from tests.fakes.dialog360 import FakeDialog360

pytestmark = pytest.mark.django_db
HOUR = 3600


def _ticket(wa: FakeDialog360, webhooks: Webhooks, hours_ago: float) -> Ticket:
    wa.customer_sends(CUSTOMER, "Oi", at=wa.now - hours_ago * HOUR, name="Maria Souza")
    webhooks.flush()
    wa.add_template("ticket_update", "Olá {{1}}, seu chamado {{2}} está {{3}}.")
    return Ticket.objects.get()


def test_the_screen_loads_the_panel_for_whatsapp_tickets_only(
        admin_client: Client, wa: FakeDialog360, wa_channel: Channel,
        webhooks: Webhooks) -> None:
    ticket = _ticket(wa, webhooks, hours_ago=2)
    screen = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert f"/tickets/{ticket.pk}/whatsapp/" in screen

    panel = admin_client.get(f"/tickets/{ticket.pk}/whatsapp/").content.decode()
    assert 'data-window="open"' in panel
    assert "minutes left to answer with free text" in panel


def test_once_the_window_closed_the_panel_says_why_and_sends_a_template(
        admin_client: Client, wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks,
        django_capture_on_commit_callbacks: Any) -> None:
    ticket = _ticket(wa, webhooks, hours_ago=25)
    panel = admin_client.get(f"/tickets/{ticket.pk}/whatsapp/").content.decode()
    assert 'data-window="closed"' in panel
    assert "only delivers approved templates" in panel
    assert 'value="ticket_update|pt_BR"' in panel

    with django_capture_on_commit_callbacks(execute=True):
        sent = admin_client.post(f"/tickets/{ticket.pk}/whatsapp/",
                                 {"template": "ticket_update|pt_BR"})
    assert "Template queued for sending." in sent.content.decode()
    [body] = wa.sent
    assert body["type"] == "template" and body["to"] == CUSTOMER


def test_an_unknown_template_is_explained(
        admin_client: Client, wa: FakeDialog360, wa_channel: Channel,
        webhooks: Webhooks) -> None:
    ticket = _ticket(wa, webhooks, hours_ago=25)
    answer = admin_client.post(f"/tickets/{ticket.pk}/whatsapp/", {"template": "nope|pt_BR"})
    assert "no approved template with this name" in answer.content.decode()
    assert wa.sent == []


def test_the_panel_is_tenant_scoped(
        other_tenant: Tenant, wa: FakeDialog360, wa_channel: Channel,
        webhooks: Webhooks) -> None:
    ticket = _ticket(wa, webhooks, hours_ago=2)
    outsider = Client()
    outsider.force_login(other_tenant.admin)
    assert outsider.get(f"/tickets/{ticket.pk}/whatsapp/").status_code == 404
    assert outsider.post(f"/tickets/{ticket.pk}/whatsapp/",
                         {"template": "ticket_update|pt_BR"}).status_code == 404
    assert wa.sent == []


def test_the_panel_is_404_for_an_agent_who_may_not_see_the_ticket(
        tenant: Tenant, wa: FakeDialog360, wa_channel: Channel, webhooks: Webhooks) -> None:
    from atende.tenancy.models import Membership, Role, User
    from atende.tickets.services.actor import Actor
    from atende.tickets.services.changes import update_ticket

    ticket = _ticket(wa, webhooks, hours_ago=2)
    carla = User.objects.create_user("carla@example.com", "a-long-password-1")
    Membership.objects.create(organization=tenant.org, user=carla, role=Role.AGENT)
    client = Client()
    client.force_login(carla)
    assert client.get(f"/tickets/{ticket.pk}/whatsapp/").status_code == 404
    update_ticket(ticket, Actor(user=tenant.admin), assignee=carla)
    assert 'data-window="open"' in client.get(f"/tickets/{ticket.pk}/whatsapp/").content.decode()
