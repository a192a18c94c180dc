"""Saved replies: whitelisted variables only, no template injection, tenant check."""

from __future__ import annotations

import pytest

from atende.automation.models import SavedReply
from atende.contacts.models import Contact
from atende.tickets.models import Ticket
from atende.tickets.saved_replies import render_saved_reply, unknown_variables
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def _ticket(tenant: Tenant) -> Ticket:
    contact = Contact.objects.create(organization=tenant.org, name="Maria Souza")
    ticket = Ticket.objects.create(organization=tenant.org, number=42, subject="Pedido atrasado",
                                   contact=contact, service=tenant.service, origin="api")
    return Ticket.objects.select_related("contact", "service", "organization").get(pk=ticket.pk)


def test_variables_are_filled_without_queries(tenant: Tenant,
                                              django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    reply = SavedReply.objects.create(
        organization=tenant.org, title="Olá",
        body="Olá {{contact.name}}, sobre {{ ticket.protocol }} ({{ticket.subject}}): "
             "{{agent.name}} do {{service.name}} em {{organization.name}}.")
    ticket = _ticket(tenant)
    tenant.admin.name = "Ana"
    with django_assert_num_queries(0):
        text = render_saved_reply(reply, ticket, tenant.admin)
    assert text == ("Olá Maria Souza, sobre TKT-000042 (Pedido atrasado): "
                    "Ana do Suporte em Acme.")


def test_no_template_injection(tenant: Tenant) -> None:
    body = ("{{ticket.contact.organization}} {% load log %}{% debug %} {{ settings.SECRET_KEY }} "
            "{{contact.name|upper}} {{unknown.thing}} {{contact.__class__}}")
    reply = SavedReply.objects.create(organization=tenant.org, title="x", body=body)
    assert render_saved_reply(reply, _ticket(tenant), None) == body
    assert unknown_variables(body) == ["contact.__class__", "unknown.thing"]


def test_a_value_that_looks_like_a_variable_is_not_expanded_again(tenant: Tenant) -> None:
    ticket = _ticket(tenant)
    ticket.contact.name = "{{agent.name}}"
    reply = SavedReply(organization=tenant.org, title="x", body="Oi {{contact.name}}")
    assert render_saved_reply(reply, ticket, tenant.admin) == "Oi {{agent.name}}"


def test_another_organisations_reply_is_refused(tenant: Tenant, other_tenant: Tenant) -> None:
    reply = SavedReply.objects.create(organization=other_tenant.org, title="x", body="oi")
    with pytest.raises(ValueError, match="different organisations"):
        render_saved_reply(reply, _ticket(tenant), None)
