"""The contacts screens: list and search, a contact's page, edit and merge with preview."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from atende.contacts.models import Contact, ContactAuditEntry, ContactIdentity
from atende.contacts.services import find_or_create_contact
from atende.tenancy.models import Role
from atende.tickets.models import Ticket
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def test_list_searches_by_phone_in_any_writing(tenant: Tenant, admin_client: Client) -> None:
    find_or_create_contact(tenant.org, "whatsapp", "5511987654321", "Ana Souza")
    find_or_create_contact(tenant.org, "email", "bruno@example.com", "Bruno")
    page = admin_client.get("/contacts/", {"q": "(11) 98765-4321"}).content.decode()
    assert "Ana Souza" in page and "Bruno" not in page
    assert "Bruno" in admin_client.get("/contacts/").content.decode()


def test_list_searches_by_company_and_the_ticket_links_to_the_contact(
        tenant: Tenant, admin_client: Client, make_ticket: Callable[..., Ticket]) -> None:
    ticket = make_ticket(tenant.org, "Oi", email="ana@example.com", name="Ana")
    admin_client.post(f"/contacts/{ticket.contact_id}/edit/", {"name": "Ana",
                                                               "company": "Tecidos Costa"})
    page = admin_client.get("/contacts/", {"q": "tecidos"}).content.decode()
    assert f"/contacts/{ticket.contact_id}/" in page
    screen = admin_client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert f'href="/contacts/{ticket.contact_id}/"' in screen


def test_an_invalid_cpf_says_so(tenant: Tenant, admin_client: Client) -> None:
    page = admin_client.get("/contacts/", {"q": "529.982.247-26"}).content.decode()
    assert "This is not a valid CPF." in page


def test_list_is_in_portuguese_by_default(tenant: Tenant) -> None:
    client = Client()
    client.force_login(tenant.admin)
    page = client.get("/contacts/").content.decode()
    assert "Contatos" in page and "Nenhum contato ainda" in page


def test_pages_cost_the_same_queries(tenant: Tenant, admin_client: Client) -> None:
    for n in range(60):
        find_or_create_contact(tenant.org, "email", f"c{n}@example.com", f"C{n}")
    admin_client.get("/contacts/")  # warm the session and memberships
    counts = []
    for before in ("", str(Contact.objects.order_by("-pk")[25].pk)):
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get("/contacts/", {"before": before}).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_another_organisation_s_contact_is_404(tenant: Tenant, other_tenant: Tenant,
                                               admin_client: Client) -> None:
    theirs = find_or_create_contact(other_tenant.org, "email", "s@globex.test", "Segredo")
    for suffix in ("", "edit/", "merge/"):
        assert admin_client.get(f"/contacts/{theirs.pk}/{suffix}").status_code == 404
    assert "Segredo" not in admin_client.get("/contacts/", {"q": "s@globex.test"}).content.decode()


def test_page_shows_only_tickets_the_agent_may_see(
        tenant: Tenant, make_agent: Callable[..., Any], make_ticket: Callable[..., Ticket]) -> None:
    seen = make_ticket(tenant.org, "Visible", email="ana@example.com", service=tenant.service)
    hidden = make_ticket(tenant.org, "Hidden", email="ana@example.com")
    user, client = make_agent(tenant.org, "carla@example.com", role=Role.AGENT)
    user.memberships.get().services.add(tenant.service)
    page = client.get(f"/contacts/{seen.contact_id}/").content.decode()
    assert seen.protocol in page and f"/tickets/{seen.pk}/" in page
    assert hidden.protocol not in page
    # Merging moves tickets the agent cannot see: not for them.
    assert client.get(f"/contacts/{seen.contact_id}/merge/").status_code == 403


def test_edit_changes_fields_and_refuses_a_taken_identity(tenant: Tenant,
                                                          admin_client: Client) -> None:
    ana = find_or_create_contact(tenant.org, "email", "ana@example.com", "Ana")
    find_or_create_contact(tenant.org, "email", "bruno@example.com", "Bruno")
    first = ana.identities.get()
    response = admin_client.post(f"/contacts/{ana.pk}/edit/", {
        "name": "Ana Souza", "company": "Acme", "notes": "VIP", "new_kind": "cpf",
        "new_value": "529.982.247-25", "remove": [first.pk]})
    assert response.status_code == 302
    ana.refresh_from_db()
    assert (ana.name, ana.notes, ana.company.name if ana.company else "") == (
        "Ana Souza", "VIP", "Acme")
    assert list(ana.identities.values_list("value", flat=True)) == ["52998224725"]
    taken = admin_client.post(f"/contacts/{ana.pk}/edit/", {
        "name": "Ana Souza", "new_kind": "email", "new_value": "bruno@example.com"})
    assert taken.status_code == 200 and "already belongs to contact" in taken.content.decode()
    bad = admin_client.post(f"/contacts/{ana.pk}/edit/", {
        "name": "Ana Souza", "new_kind": "cpf", "new_value": "111.111.111-11"})
    assert "This is not a valid CPF." in bad.content.decode()


def test_merge_previews_then_moves_with_an_audit_entry(
        tenant: Tenant, admin_client: Client, make_ticket: Callable[..., Ticket]) -> None:
    ana = find_or_create_contact(tenant.org, "email", "ana@example.com", "Ana")
    ticket = make_ticket(tenant.org, "Pelo WhatsApp", email="ana.zap@example.com", name="Ana Z")
    source = ticket.contact
    found = admin_client.get(f"/contacts/{ana.pk}/merge/", {"q": "ana.zap"}).content.decode()
    assert f"?source={source.pk}" in found
    preview = admin_client.get(f"/contacts/{ana.pk}/merge/", {"source": source.pk})
    assert "1 ticket" in preview.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).contact_id == source.pk  # nothing moved yet
    done = admin_client.post(f"/contacts/{ana.pk}/merge/", {"source": source.pk})
    assert done.status_code == 302
    assert Ticket.objects.get(pk=ticket.pk).contact_id == ana.pk
    assert ContactIdentity.objects.get(value="ana.zap@example.com").contact_id == ana.pk
    entry = ContactAuditEntry.objects.get(contact=ana, action="merged")
    assert entry.actor_user_id == tenant.admin.pk and entry.details["ticket_ids"] == [ticket.pk]
    page = admin_client.get(f"/contacts/{ana.pk}/").content.decode()
    assert "merged contact" in page and ticket.protocol in page
    # The merged contact's old address leads to the one it went into.
    assert admin_client.get(f"/contacts/{source.pk}/").status_code == 302


def test_contact_page_queries_do_not_grow_with_tickets(
        tenant: Tenant, admin_client: Client, make_ticket: Callable[..., Ticket]) -> None:
    first = make_ticket(tenant.org, "Um", email="ana@example.com", service=tenant.service)
    admin_client.get(f"/contacts/{first.contact_id}/")  # warm the session and memberships
    counts = []
    for n in range(2):
        with CaptureQueriesContext(connection) as ctx:
            page = admin_client.get(f"/contacts/{first.contact_id}/").content.decode()
        counts.append(len(ctx.captured_queries))
        if n == 0:
            for subject in ("Dois", "Três", "Quatro"):
                make_ticket(tenant.org, subject, email="ana@example.com", origin="whatsapp")
    assert "Quatro" in page and counts[0] == counts[1]
