"""SLA in the workspace (CORE-13): the queue's "SLA due" column and sort, the ticket header's
clocks, and the "SLA policies" settings screen (CRUD, validation, tenant isolation)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from atende.channels.models import Channel
from atende.tickets.models import SlaPolicy, Status, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.replies import post_message
from atende.tickets.services.sla import set_scope, sweep_breaches
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def _default_policy(tenant: Tenant, first: int | None = 30,
                    resolution: int | None = 600) -> SlaPolicy:
    return SlaPolicy.objects.create(organization=tenant.org, name="Padrão", is_default=True,
                                    first_response_minutes=first,
                                    resolution_minutes=resolution)


def _ago(minutes: int) -> Any:
    return timezone.now() - timedelta(minutes=minutes)


def sla_cells(response: Any) -> dict[str, tuple[str, str]]:
    """protocol → (state, text) of the SLA column; "—" rows have no state."""
    html = response.content.decode()
    rows = re.findall(r'class="protocol" href="/tickets/\d+/">(TKT-\d+)<.*?</tr>', html,
                      re.DOTALL)
    cells = {}
    for protocol, row in zip(rows, re.findall(r'<tr class="ticket-row.*?</tr>', html,
                                              re.DOTALL), strict=True):
        match = re.search(r'class="sla sla-([\w-]+)" datetime="[^"]+">([^<]+)<', row)
        cells[protocol] = (match.group(1), match.group(2)) if match else ("", "—")
    return cells


def test_queue_column_shows_the_nearest_clock_with_its_colour(
        tenant: Tenant, admin_client: Client, make_ticket: Any) -> None:
    _default_policy(tenant)
    late = make_ticket(tenant.org, "late", created_at=_ago(150))
    close = make_ticket(tenant.org, "close", created_at=_ago(26))
    fresh = make_ticket(tenant.org, "fresh")
    answered = make_ticket(tenant.org, "answered")
    post_message(answered, Actor(user=tenant.admin), text="Olá")
    cells = sla_cells(admin_client.get("/"))
    assert cells[late.protocol] == ("breached", "overdue 2 h")
    assert cells[close.protocol][0] == "warning" and cells[close.protocol][1].startswith("in ")
    assert cells[fresh.protocol] in (("ok", "in 30 min"), ("ok", "in 29 min"))
    # Answered: the nearest running clock is now the resolution (10 h).
    assert cells[answered.protocol] in (("ok", "in 9 h"), ("ok", "in 10 h"))


def test_queue_column_in_portuguese(tenant: Tenant, make_agent: Any,
                                    make_ticket: Any) -> None:
    _default_policy(tenant)
    ticket = make_ticket(tenant.org, "atrasado", created_at=_ago(150))
    user, client = make_agent(tenant.org, "pt@example.com", language="pt-br")
    Ticket.objects.filter(pk=ticket.pk).update(assignee=user)  # within a plain agent's reach
    page = client.get("/")
    assert sla_cells(page)[ticket.protocol] == ("breached", "atrasado há 2 h")
    assert "Prazo do SLA" in page.content.decode()


def test_sort_by_sla_due_soonest_puts_tickets_without_clock_last(
        tenant: Tenant, admin_client: Client, make_ticket: Any) -> None:
    free = make_ticket(tenant.org, "no clock")  # opened before any policy existed
    _default_policy(tenant)
    fresh = make_ticket(tenant.org, "fresh")
    late = make_ticket(tenant.org, "late", created_at=_ago(100))
    later = make_ticket(tenant.org, "later", created_at=_ago(20))
    page = admin_client.get("/?sort=sla").content.decode()
    order = re.findall(r'class="protocol" href="/tickets/\d+/">(TKT-\d+)<', page)
    assert order == [late.protocol, later.protocol, fresh.protocol, free.protocol]
    assert "SLA due soonest" in page


@pytest.mark.parametrize("rows", [5, 40])
def test_sla_sort_query_count_does_not_grow(rows: int, tenant: Tenant, admin_client: Client,
                                            make_ticket: Any,
                                            django_assert_max_num_queries: Any) -> None:
    _default_policy(tenant)
    for n in range(rows):
        make_ticket(tenant.org, f"row {n}", created_at=_ago(n))
    with django_assert_max_num_queries(10):
        response = admin_client.get("/?sort=sla")
    assert len(sla_cells(response)) == rows


def test_ticket_header_shows_both_clocks(tenant: Tenant, admin_client: Client,
                                         make_ticket: Any) -> None:
    _default_policy(tenant)
    ticket = make_ticket(tenant.org, "header", created_at=_ago(45))
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert re.search(r'sla-breached">First response: <time[^>]*>overdue 15 min<', page)
    assert re.search(r'sla-ok">Resolution: <time[^>]*>in 9 h<', page)

    post_message(ticket, Actor(user=tenant.admin), text="Olá")
    update_ticket(ticket, Actor(label="t"), status=Status.PENDING)
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert 'sla-met">First response: met<' in page
    assert 'sla-paused">Resolution: paused while waiting on the customer<' in page
    # The live partial carries them too.
    live = admin_client.get(f"/tickets/{ticket.pk}/live/").content.decode()
    assert "paused while waiting on the customer" in live


def test_breach_is_a_line_of_interaction_tracking(tenant: Tenant, admin_client: Client,
                                                 make_ticket: Any) -> None:
    _default_policy(tenant)
    ticket = make_ticket(tenant.org, "late", created_at=_ago(45))
    assert sweep_breaches() == 1
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "missed the first-response target (SLA)" in page
    assert re.search(r'sla-breached">First response: <time[^>]*>overdue 15 min<', page)


def test_ticket_without_policy_has_no_sla_row(tenant: Tenant, admin_client: Client,
                                              make_ticket: Any) -> None:
    ticket = make_ticket(tenant.org, "no sla")
    assert 'data-field="sla"' not in admin_client.get(f"/tickets/{ticket.pk}/").content.decode()


def test_settings_create_edit_list_and_toggle(tenant: Tenant, admin_client: Client) -> None:
    channel = Channel.objects.create(organization=tenant.org, kind="email", name="Suporte")
    assert "No SLA policies yet" in admin_client.get("/settings/sla-policies/").content.decode()
    response = admin_client.post("/settings/sla-policies/new/", {
        "name": "Ouro", "first_response_minutes": "15", "resolution_minutes": "240",
        "urgent_first_response_minutes": "5", "channels": [channel.pk],
        "services": [tenant.service.pk]})
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(organization=tenant.org, name="Ouro")
    assert policy.targets("urgent") == (5, 240)
    assert [link.channel_id for link in policy.channel_links.all()] == [channel.pk]
    page = admin_client.get("/settings/sla-policies/").content.decode()
    assert "Ouro" in page and "Suporte" in page and tenant.service.name in page

    form = admin_client.get(f"/settings/sla-policies/{policy.pk}/").content.decode()
    assert re.search(rf'value="{channel.pk}"[^>]*checked', form)
    admin_client.post(f"/settings/sla-policies/{policy.pk}/", {
        "name": "Ouro", "resolution_minutes": "120", "is_default": "on"})
    policy.refresh_from_db()
    assert (policy.first_response_minutes, policy.resolution_minutes) == (None, 120)
    assert policy.is_default and not policy.channel_links.exists()

    admin_client.post(f"/settings/sla-policies/{policy.pk}/toggle/")
    policy.refresh_from_db()
    assert policy.is_active is False


def test_settings_validation_is_for_a_person(tenant: Tenant, admin_client: Client) -> None:
    channel = Channel.objects.create(organization=tenant.org, kind="api", name="API")
    taken = SlaPolicy.objects.create(organization=tenant.org, name="Prata", is_default=True,
                                     resolution_minutes=60)
    set_scope(taken, [channel], [])
    page = admin_client.post("/settings/sla-policies/new/", {"name": "Vazia"})
    assert page.status_code == 200
    assert "Give a first-response target, a resolution target, or both." in page.content.decode()
    page = admin_client.post("/settings/sla-policies/new/", {
        "name": "Zero", "first_response_minutes": "0"})
    assert "greater than or equal to 1" in page.content.decode()
    page = admin_client.post("/settings/sla-policies/new/", {
        "name": "Eterna", "resolution_minutes": "9999999999"})
    assert page.status_code == 200
    assert "less than or equal to 527040" in page.content.decode()
    page = admin_client.post("/settings/sla-policies/new/", {
        "name": "Bronze", "first_response_minutes": "10", "channels": [channel.pk],
        "is_default": "on"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "Already in another policy: API: API (Prata)." in body
    assert "Another policy is already the default." in body
    assert SlaPolicy.objects.for_org(tenant.org).count() == 1


def test_settings_never_reach_another_organisation(tenant: Tenant, other_tenant: Tenant,
                                                   admin_client: Client) -> None:
    foreign = SlaPolicy.objects.create(organization=other_tenant.org, name="Globex SLA",
                                       first_response_minutes=5)
    foreign_channel = Channel.objects.create(organization=other_tenant.org, kind="api",
                                             name="Globex API")
    assert admin_client.get(f"/settings/sla-policies/{foreign.pk}/").status_code == 404
    assert admin_client.post(f"/settings/sla-policies/{foreign.pk}/toggle/").status_code == 404
    assert "Globex" not in admin_client.get("/settings/sla-policies/").content.decode()
    form = admin_client.get("/settings/sla-policies/new/").content.decode()
    assert "Globex API" not in form
    page = admin_client.post("/settings/sla-policies/new/", {
        "name": "Roubo", "first_response_minutes": "10", "channels": [foreign_channel.pk]})
    assert page.status_code == 200 and "Select a valid choice" in page.content.decode()
    assert not SlaPolicy.objects.filter(name="Roubo").exists()


def test_agent_without_general_settings_gets_403(tenant: Tenant, make_agent: Any) -> None:
    _user, client = make_agent(tenant.org, "agente@example.com")
    assert client.get("/settings/sla-policies/").status_code == 403
