"""The per-organisation lists the queue filters and the ticket screen print are cached
(workspace.org_lists): a change in the settings shows on the very next page, another
organisation's lists never show, and a cached page reads none of them from the database.

Each test runs with the cache on (a per-process cache is fine in one test process);
on PostgreSQL the cache is Redis, as in production."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from atende.channels.models import Channel
from atende.tenancy.models import Membership, Presence, Service
from atende.tickets.models import CustomField, FinalizationTag
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.workspace.org_lists import org_lists

pytestmark = pytest.mark.django_db


# The lists' own queries (the pages' other queries only join these tables).
AGENTS = 'SELECT "tenancy_membership"."user_id", "tenancy_user"."name"'
QUEUE_LISTS = ('FROM "tenancy_service"', 'FROM "connectors_channel"', AGENTS)
SCREEN_LISTS = ('FROM "tenancy_service"', 'FROM "tickets_finalizationtag"',
                'FROM "tickets_customfield"', AGENTS)


def list_reads(captured: Any, reads: tuple[str, ...]) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if any(r in q["sql"] for r in reads)]


@pytest.fixture(autouse=True)
def _cache_on(settings: Any) -> None:
    settings.ATENDE_ORG_LISTS_CACHE = True


def options(page: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None, name
    return re.findall(r"<option [^>]*>([^<]*)</option>", select.group(1))


def test_queue_filters_show_a_settings_change_on_the_next_page(
        tenant: Any, admin_client: Client, make_agent: Any) -> None:
    page = admin_client.get("/").content.decode()  # caches the lists
    assert options(page, "service") == ["All services", "Suporte"]

    vendas = Service.objects.create(organization=tenant.org, name="Vendas")
    agent, _client = make_agent(tenant.org, "bia@example.com", name="Bia")
    Channel.objects.create(organization=tenant.org, kind="email", name="Caixa SAC")
    page = admin_client.get("/").content.decode()
    assert options(page, "service") == ["All services", "Suporte", "Vendas"]
    assert "Bia" in options(page, "assignee")
    assert "· Caixa SAC" in options(page, "channel")

    agent.name = "Beatriz"
    agent.save()
    vendas.is_active = False
    vendas.save()
    page = admin_client.get("/").content.decode()
    assert "Beatriz" in options(page, "assignee") and "Bia" not in options(page, "assignee")
    assert options(page, "service") == ["All services", "Suporte"]

    Membership.objects.filter(user=agent).get().delete()
    Channel.objects.get(name="Caixa SAC").delete()
    page = admin_client.get("/").content.decode()
    assert "Beatriz" not in options(page, "assignee")
    assert "· Caixa SAC" not in options(page, "channel")


def test_settings_screen_changes_show_at_once(tenant: Any, admin_client: Client,
                                              make_agent: Any) -> None:
    agent, _client = make_agent(tenant.org, "bia@example.com", name="Bia")
    assert "Bia" in options(admin_client.get("/").content.decode(), "assignee")
    response = admin_client.post("/settings/services/new/", {"name": "Financeiro"})
    assert response.status_code == 302
    # Deactivating an agent saves `is_active` only (update_fields): still a list change.
    membership = Membership.objects.get(user=agent)
    assert admin_client.post(f"/settings/agents/{membership.pk}/toggle/").status_code == 302
    page = admin_client.get("/").content.decode()
    assert "Financeiro" in options(page, "service")
    assert "Bia" not in options(page, "assignee")


def test_ticket_screen_lists_follow_changes(tenant: Any, admin_client: Client,
                                            make_ticket: Any) -> None:
    CustomField.objects.create(organization=tenant.org, key="pedido", label="Pedido")
    ticket = make_ticket(tenant.org, "Entrega", custom_fields={"pedido": "123"})
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "<dt>Pedido</dt>" in page and "No finalization tags yet" in page

    FinalizationTag.objects.create(organization=tenant.org, name="Resolvido por telefone")
    field = CustomField.objects.get(organization=tenant.org, key="pedido")
    field.label = "Número do pedido"
    field.save()
    Service.objects.create(organization=tenant.org, name="Vendas")
    page = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "Resolvido por telefone" in page
    assert "<dt>Número do pedido</dt>" in page
    assert '>Vendas</option>' in page


def test_lists_are_per_organisation(tenant: Any, other_tenant: Any, admin_client: Client,
                                    make_agent: Any) -> None:
    make_agent(other_tenant.org, "spy@example.com", name="Globex Spy")
    Service.objects.create(organization=other_tenant.org, name="Globex Only")
    org_lists(other_tenant.org.pk, "agents", "services")  # the other tenant's, cached
    page = admin_client.get("/").content.decode()
    assert "Globex Spy" not in page and "Globex Only" not in page
    # A change in one organisation leaves the other's cache in place, and right.
    Service.objects.create(organization=tenant.org, name="Acme Extra")
    assert [s.name for s in org_lists(other_tenant.org.pk, "services")["services"]] == [
        "Globex Only", "Suporte"]


def test_a_cached_page_reads_no_lists_and_presence_does_not_invalidate(
        tenant: Any, admin_client: Client, make_ticket: Any,
        django_assert_max_num_queries: Any) -> None:
    ticket = make_ticket(tenant.org, "Entrega")
    admin_client.get("/")
    admin_client.get(f"/tickets/{ticket.pk}/")
    # An agent going online and an ordinary ticket change touch none of the lists.
    membership = Membership.objects.get(user=tenant.admin)
    membership.presence = Presence.ONLINE
    membership.save(update_fields=["presence"])
    update_ticket(ticket, Actor(label="t"), priority="high")
    with django_assert_max_num_queries(8) as queue:
        admin_client.get("/")
    assert list_reads(queue, QUEUE_LISTS) == []
    with django_assert_max_num_queries(12) as screen:
        admin_client.get(f"/tickets/{ticket.pk}/")
    assert list_reads(screen, SCREEN_LISTS) == []
