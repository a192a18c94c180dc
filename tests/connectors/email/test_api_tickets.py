"""Tickets created through the REST API notify their requester when the organisation wants
it (CORE-12): an e-mail channel marked "answers API tickets" becomes the ticket's channel, its
"ticket opened" notification goes to the requester (real SMTP server), and the
conversation then continues by mail. Off by default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from atende.channels.models import Channel
from atende.connectors.email.models import NotificationEvent
from atende.connectors.email.receive import receive
from atende.tickets.models import Direction, Message, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.replies import post_message
from tests.conftest import Tenant
from tests.connectors.email.conftest import SMTP_USER, customer_mail, make_email_channel, turn_on
from tests.fakes.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db
NEW_TICKET = {"title": "Erro no servidor XYZ", "description": "O servidor caiu às 3h.",
              "requester_email": "ana@cliente.example", "requester_name": "Ana Lima"}


def mail_channel(tenant: Tenant, smtp_sink: SmtpSink, *, api_tickets: bool) -> Channel:
    channel = make_email_channel(tenant, smtp_host=smtp_sink.host, smtp_port=smtp_sink.port,
                                 smtp_security="none", smtp_username=SMTP_USER)
    channel.settings = {**channel.settings, "api_tickets": api_tickets}
    channel.save()
    turn_on(channel, NotificationEvent.OPENED)
    return channel


@pytest.fixture
def create(django_capture_on_commit_callbacks: Any) -> Callable[..., Ticket]:
    def post(tenant: Tenant, **fields: Any) -> Ticket:
        with django_capture_on_commit_callbacks(execute=True):
            response = tenant.client.post("/api/v1/tickets", {**NEW_TICKET, **fields})
        assert response.status_code == 201, response.content
        return Ticket.objects.get(pk=response.json()["id"])

    return post


def test_off_by_default_nobody_is_written_to(tenant: Tenant, smtp_sink: SmtpSink,
                                             create: Callable[..., Ticket]) -> None:
    mail_channel(tenant, smtp_sink, api_tickets=False)
    ticket = create(tenant)
    assert ticket.channel_id is None
    assert smtp_sink.deliveries == []


def test_the_requester_hears_from_the_chosen_channel_and_the_conversation_goes_on_by_mail(
        tenant: Tenant, smtp_sink: SmtpSink, create: Callable[..., Ticket],
        django_capture_on_commit_callbacks: Any) -> None:
    channel = mail_channel(tenant, smtp_sink, api_tickets=True)
    ticket = create(tenant)
    assert ticket.channel_id == channel.pk and ticket.service_id == channel.service_id
    [ack] = smtp_sink.deliveries
    assert ack.rcpt_tos == ["ana@cliente.example"]
    mail = ack.message()
    assert mail["Subject"] == f"[#{ticket.protocol}] Recebemos sua mensagem: Erro no servidor XYZ"
    assert mail["In-Reply-To"] is None and mail["Auto-Submitted"] == "auto-replied"

    # The agent's answer goes out by mail; the requester's reply joins the same ticket.
    with django_capture_on_commit_callbacks(execute=True):
        post_message(ticket, Actor(user=tenant.admin), text="Já reiniciamos o servidor.")
    assert len(smtp_sink.deliveries) == 2
    answer = smtp_sink.deliveries[1].message()
    assert answer["To"].endswith("ana@cliente.example>") or answer["To"] == "ana@cliente.example"
    with django_capture_on_commit_callbacks(execute=True):
        receipt = receive(channel, customer_mail(
            subject=answer["Subject"], sender="Ana Lima <ana@cliente.example>",
            In_Reply_To=answer["Message-ID"]))
    assert Message.objects.get(pk=receipt.message_id).ticket_id == ticket.pk
    assert Ticket.objects.count() == 1
    assert len(smtp_sink.deliveries) == 2  # acknowledged once, never again
    assert Message.objects.filter(ticket=ticket, direction=Direction.INBOUND).count() == 2


def test_another_organisations_channel_never_answers_our_tickets(
        tenant: Tenant, other_tenant: Tenant, smtp_sink: SmtpSink,
        create: Callable[..., Ticket]) -> None:
    mail_channel(other_tenant, smtp_sink, api_tickets=True)
    ticket = create(tenant)
    assert ticket.channel_id is None and smtp_sink.deliveries == []
