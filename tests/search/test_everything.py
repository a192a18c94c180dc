"""One search over tickets, messages, contacts and articles (CORE-16), on whichever profile
the suite runs (SQLite FTS5 or PostgreSQL FTS): ranked, highlighted, kept current by the
real ingest pipeline, and never across tenants or past an agent's visibility."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from atende.channels.connector import ContactRef, InboundMessage
from atende.channels.models import Channel, ChannelKind
from atende.contacts.models import IdentityKind
from atende.contacts.services import find_or_create_contact
from atende.kb.models import ArticleStatus, Audience, Language
from atende.kb.services import Version, save_article
from atende.search.everything import search_everything
from atende.tenancy.models import Membership, Role, User
from atende.tickets.models import Message, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.ingest import ingest, ingest_many
from atende.tickets.services.replies import post_message
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db
MakeTicket = Callable[..., Ticket]


def admin_of(tenant: Tenant) -> Membership:
    return Membership.objects.get(organization=tenant.org, user=tenant.admin)


def inbound(channel: Channel, external_id: str, text: str, who: str = "ana") -> InboundMessage:
    return InboundMessage(
        channel_id=channel.pk, external_id=external_id, text=text,
        contact=ContactRef("email", f"{who}@example.com", who.title()),
        thread_keys=(f"conv-{who}",), thread_key=f"conv-{who}",
        sent_at=datetime(2026, 11, 20, 12, 0, tzinfo=UTC))


def test_words_in_any_accent_and_number_find_subject_message_and_description(
        tenant: Tenant, make_ticket: MakeTicket) -> None:
    billing = make_ticket(tenant.org, "Segunda via do boleto", "Preciso do boleto de março")
    card = make_ticket(tenant.org, "Cartão recusado", "A compra não passou")
    post_message(card, Actor(label="tests"), text="Verifique as configurações do cartão")
    make_ticket(tenant.org, "Troca de senha", "Esqueci a senha")
    me = admin_of(tenant)

    assert [h.ticket for h in search_everything(me, "boletos").tickets] == [billing]
    assert [h.ticket for h in search_everything(me, "CONFIGURACAO").tickets] == [card]
    hit = search_everything(me, "cartoes recusados").tickets[0]
    assert hit.ticket == card and "<mark>" in hit.snippet
    assert search_everything(me, "boleto cartão").tickets == []  # every word is needed


def test_ranking_puts_the_subject_before_a_passing_mention(
        tenant: Tenant, make_ticket: MakeTicket) -> None:
    passing = make_ticket(tenant.org, "Dúvida geral",
                          "Olá, tenho uma dúvida sobre o app e também sobre reembolso, obrigado")
    focused = make_ticket(tenant.org, "Reembolso do pedido", "Quero o reembolso")
    hits = search_everything(admin_of(tenant), "reembolsos").tickets
    assert [h.ticket for h in hits] == [focused, passing]
    assert hits[0].rank > hits[1].rank


def test_messages_ingested_one_by_one_or_in_a_batch_are_found_at_once(tenant: Tenant) -> None:
    channel = Channel.objects.create(organization=tenant.org, kind=ChannelKind.API,
                                     name="ERP", service=tenant.service)
    ingest(inbound(channel, "m1", "Minha fatura veio duplicada"))
    ingest_many(channel, [inbound(channel, "m2", "O aplicativo trava na inicialização", "bia"),
                 inbound(channel, "m3", "A entrega atrasou", "caio"),
                 inbound(channel, "m2", "O aplicativo trava na inicialização", "bia")])
    me = admin_of(tenant)
    assert len(search_everything(me, "faturas").tickets) == 1
    assert len(search_everything(me, "inicializacao").tickets) == 1
    assert len(search_everything(me, "entregas atrasadas").tickets) == 1
    # A later message of the same conversation; edited or deleted, it leaves the index.
    ingest(inbound(channel, "m4", "Quero cancelar a assinatura"))
    assert len(search_everything(me, "assinaturas").tickets) == 1
    message = Message.objects.get(external_id="m4")
    message.text = "Tudo resolvido"
    message.save()
    assert search_everything(me, "assinatura").tickets == []
    assert len(search_everything(me, "resolvidos").tickets) == 1
    message.delete()
    assert search_everything(me, "resolvido").tickets == []


def test_contacts_by_name_email_phone_and_cpf(tenant: Tenant) -> None:
    joao = find_or_create_contact(tenant.org, IdentityKind.EMAIL, "joao.silva@example.com",
                                  "João da Silva")
    joao.identities.create(organization=tenant.org, kind=IdentityKind.CPF,
                           value="12345678909")
    joao.identities.create(organization=tenant.org, kind=IdentityKind.PHONE,
                           value="+5511987654321")
    find_or_create_contact(tenant.org, IdentityKind.EMAIL, "maria@example.com", "Maria")
    me = admin_of(tenant)
    for query in ("joao", "SILVA", "joao.silva@", "123.456.789-09", "98765-4321"):
        assert [h.contact for h in search_everything(me, query).contacts] == [joao], query
    assert "<mark>" in search_everything(me, "joao").contacts[0].snippet


def test_protocol_finds_the_ticket(tenant: Tenant, make_ticket: MakeTicket) -> None:
    ticket = make_ticket(tenant.org, "Qualquer coisa")
    hits = search_everything(admin_of(tenant), ticket.protocol.lower()).tickets
    assert [h.ticket for h in hits] == [ticket]


def test_articles_for_agents_include_agents_only_but_never_drafts(tenant: Tenant) -> None:
    def article(title: str, status: str, audience: str) -> Any:
        return save_article(tenant.org.pk, versions=[Version(Language.PT_BR, title, "")],
                            status=status, audience=audience, category=None)

    public = article("Como emitir boleto", ArticleStatus.PUBLISHED, Audience.PUBLIC)
    internal = article("Boleto: procedimento interno", ArticleStatus.PUBLISHED,
                       Audience.AGENTS)
    article("Boleto rascunho", ArticleStatus.DRAFT, Audience.PUBLIC)
    found = {h.article for h in search_everything(admin_of(tenant), "boletos").articles}
    assert found == {public, internal}


def test_nothing_crosses_tenants(tenant: Tenant, other_tenant: Tenant,
                                 make_ticket: MakeTicket) -> None:
    mine = make_ticket(tenant.org, "Boleto vencido", email="x@example.com", name="Xavier")
    make_ticket(other_tenant.org, "Boleto vencido", email="x@example.com", name="Xavier")
    save_article(other_tenant.org.pk, versions=[Version(Language.PT_BR, "Boleto", "")],
                 status=ArticleStatus.PUBLISHED, audience=Audience.PUBLIC, category=None)
    results = search_everything(admin_of(tenant), "boleto")
    assert [h.ticket for h in results.tickets] == [mine]
    assert results.articles == []
    assert [h.contact.organization_id for h in
            search_everything(admin_of(tenant), "xavier").contacts] == [tenant.org.pk]
    other = make_ticket(other_tenant.org, "Outro")  # numbers count per organisation
    assert all(h.ticket.organization_id == tenant.org.pk
               for h in search_everything(admin_of(tenant), other.protocol).tickets)


def test_a_restricted_agent_finds_only_tickets_they_may_see(
        tenant: Tenant, make_ticket: MakeTicket,
        make_agent: Callable[..., tuple[User, Client]]) -> None:
    user, _client = make_agent(tenant.org, "restrita@example.com", Role.AGENT)
    membership = Membership.objects.get(organization=tenant.org, user=user)
    of_service = make_ticket(tenant.org, "Boleto A", service=tenant.service)
    assigned = make_ticket(tenant.org, "Boleto B")
    Ticket.objects.filter(pk=assigned.pk).update(assignee=user)
    hidden = make_ticket(tenant.org, "Boleto C")
    post_message(hidden, Actor(label="tests"), text="boleto boleto boleto")
    assert {h.ticket for h in search_everything(membership, "boleto").tickets} == {assigned}
    membership.services.add(tenant.service)
    assert {h.ticket for h in search_everything(membership, "boleto").tickets} == {
        assigned, of_service}
    assert search_everything(membership, hidden.protocol).tickets == []
    assert {h.ticket for h in search_everything(admin_of(tenant), "boleto").tickets} == {
        assigned, of_service, hidden}
