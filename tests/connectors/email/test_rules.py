"""Processing rules (EM-8): route, tag, ignore, never auto-answer; per tenant."""

from __future__ import annotations

from typing import Any

from atende.channels.models import Channel, InboundEvent
from atende.connectors.email.models import ProcessingRule
from atende.connectors.email.receive import receive
from atende.tenancy.models import Service
from atende.tickets.models import Message, Ticket
from tests.conftest import Tenant
from tests.connectors.email.conftest import customer_mail


def rule(channel: Channel, **values: Any) -> ProcessingRule:
    values.setdefault("name", "regra")
    return ProcessingRule.objects.create(organization=channel.organization, channel=channel,
                                         **values)


def test_matching_rules_route_the_new_ticket(tenant: Tenant, email_channel: Channel) -> None:
    billing = Service.objects.create(organization=tenant.org, name="Financeiro")
    rule(email_channel, field="subject", value="boleto", service=billing,
         category="cobrança", priority="high", position=1)
    rule(email_channel, field="from", operator="ends_with", value="@vip.example.com",
         tag="vip", assignee=tenant.admin, position=2)
    rule(email_channel, field="subject", value="nunca casa", category="errado")
    receipt = receive(email_channel, customer_mail(subject="Segunda via do BOLETO",
                                                   sender="Rita <rita@vip.example.com>"))
    ticket = Message.objects.get(pk=receipt.message_id).ticket
    assert ticket.service == billing and ticket.category == "cobrança"
    assert ticket.priority == "high" and ticket.assignee == tenant.admin
    assert list(ticket.tags.values_list("name", flat=True)) == ["vip"]
    assert ticket.audit_entries.filter(actor_label__startswith="email-rules:").exists()


def test_header_and_body_conditions(email_channel: Channel) -> None:
    rule(email_channel, field="header", header_name="X-Origem", operator="equals",
         value="loja-app", category="app")
    rule(email_channel, field="body", value="cancelar", priority="urgent")
    receipt = receive(email_channel, customer_mail(text="Quero CANCELAR já",
                                                   X_Origem="Loja-App"))
    ticket = Message.objects.get(pk=receipt.message_id).ticket
    assert (ticket.category, ticket.priority) == ("app", "urgent")


def test_ignore_rule_takes_nothing_in_but_keeps_the_log(email_channel: Channel) -> None:
    rule(email_channel, field="from", value="spam@", ignore=True)
    receipt = receive(email_channel, customer_mail(sender="spam@example.net"))
    assert receipt.message_id is None and not Ticket.objects.exists()
    assert "ignored by rule" in InboundEvent.objects.get(pk=receipt.event_id).error


def test_no_auto_reply_rule_is_recorded(email_channel: Channel) -> None:
    rule(email_channel, field="to", value="suporte@", no_auto_reply=True)
    receipt = receive(email_channel, customer_mail())
    assert receipt.message_id is not None


def test_bad_rule_value_never_loses_the_mail(email_channel: Channel) -> None:
    rule(email_channel, field="subject", value="pedido", priority="altíssima")
    receipt = receive(email_channel, customer_mail(subject="Pedido"))
    assert receipt.message_id is not None
    assert Ticket.objects.get().priority == "normal"


def test_rules_of_another_tenant_never_apply(tenant: Tenant, other_tenant: Tenant,
                                             email_channel: Channel) -> None:
    from tests.connectors.email.conftest import make_email_channel

    theirs = make_email_channel(other_tenant)
    rule(theirs, field="subject", value="pedido", ignore=True)
    assert receive(email_channel, customer_mail(subject="Pedido")).message_id is not None
    assert ProcessingRule.objects.for_org(tenant.org).count() == 0


def test_regex_condition_and_a_stale_dangerous_pattern(email_channel: Channel) -> None:
    rule(email_channel, field="subject", operator="regex", value=r"pedido\s+n?º?\s*\d{5}",
         category="pedidos")
    # Saved by hand, past the form: never evaluated, and the mail is still taken in.
    rule(email_channel, field="body", operator="regex", value=r"(a+)+$", priority="urgent")
    receipt = receive(email_channel, customer_mail(subject="Sobre o PEDIDO nº 12345",
                                                   text="a" * 40 + "!"))
    ticket = Message.objects.get(pk=receipt.message_id).ticket
    assert (ticket.category, ticket.priority) == ("pedidos", "normal")
