"""A complaint's whole life (CG-2..CG-7), the production code against the fake platform:
it arrives, an answer written at 15:00 on a Tuesday waits and goes out at 17:00, the
consumer replies (a new attendance, same protocol, same agent), the evaluation closes it, and
a finalization tag used twice leaves two tracking entries."""

from __future__ import annotations

from typing import Any

import pytest

from atende.channels.models import Channel
from atende.channels.registry import get_connector
from atende.connectors.consumidor_gov.models import Complaint, PlatformStatus
from atende.connectors.consumidor_gov.receive import sync_channel
from atende.tenancy.models import Membership, Role, User
from atende.tickets.errors import TicketError
from atende.tickets.models import (
    AuditEntry,
    DeliveryStatus,
    Direction,
    FinalizationTag,
    Message,
    Status,
    Ticket,
)
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import finalize, update_ticket
from atende.tickets.services.replies import post_message
from tests.conftest import Tenant
from tests.fakes.consumidor_gov import FakeConsumidorGov, brasilia

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(tenant: Tenant) -> User:
    user = User.objects.create_user("ana@acme.test", "pw-not-used-123", name="Ana")
    Membership.objects.create(organization=tenant.org, user=user, role=Role.AGENT)
    return user


def answer(ticket: Ticket, agent: User, text: str, capture: Any) -> Message:
    with capture(execute=True):
        message = post_message(ticket, Actor(user=agent), text=text)
    message.refresh_from_db()
    return message


def test_a_complaint_from_arrival_to_evaluation(
        tenant: Tenant, cg: FakeConsumidorGov, cg_channel: Channel, agent: User,
        django_capture_on_commit_callbacks: Any) -> None:
    capture = django_capture_on_commit_callbacks
    tag = FinalizationTag.objects.create(organization=tenant.org, name="Resposta enviada")

    # Tuesday 12:30 in Brasília: a complaint arrives and becomes a ticket.
    protocol = cg.new_complaint(text="Fui cobrada duas vezes.", request="Estorno")
    assert sync_channel(cg_channel).stored == 1
    complaint = Complaint.objects.get(channel=cg_channel, protocol=protocol)
    ticket = Ticket.objects.get(pk=complaint.ticket_id)
    assert ticket.organization_id == tenant.org.pk and ticket.origin == "consumidor_gov"
    assert protocol in ticket.subject
    [comment] = Message.objects.filter(ticket=ticket)
    assert comment.direction == Direction.NOTE  # the complaint's text: an internal comment
    assert comment.text == "Fui cobrada duas vezes.\n\nPedido: Estorno"
    assert complaint.status == PlatformStatus.OPEN
    assert complaint.consumer_name == "Maria Souza" and complaint.consumer_cpf == "12345678909"
    assert complaint.area == "Telecomunicações"
    assert complaint.deadline_at == brasilia(2026, 12, 18, 23, 59) .replace(second=59)

    # Distributed to an agent: "Em Análise pelo Gestor".
    with capture(execute=True):
        update_ticket(ticket, Actor(user=tenant.admin), assignee=agent)
    complaint.refresh_from_db()
    assert complaint.status == PlatformStatus.IN_ANALYSIS

    # 15:00: the API is closed; the answer waits, queued, and says when it goes.
    cg.set_time(brasilia(2026, 12, 8, 15, 0))
    first = answer(ticket, agent, "Estornamos o valor em dobro.", capture)
    assert first.delivery_status == DeliveryStatus.QUEUED and first.send_after is None
    assert "17:00" in first.failure_reason
    assert first.send_attempts == 0
    assert cg.answers == [] and cg.refusals == 0  # nothing was even tried
    assert sync_channel(cg_channel).skipped  # no synchronisation outside the windows

    # 17:00: the next window; the sync sends it.
    cg.set_time(brasilia(2026, 12, 8, 17, 0))
    assert sync_channel(cg_channel).sent == 1
    first.refresh_from_db()
    assert first.delivery_status == DeliveryStatus.SENT
    assert [a["texto"] for a in cg.answers] == ["Estornamos o valor em dobro."]
    assert cg.answers[0]["at"] == brasilia(2026, 12, 8, 17, 0)
    assert first.external_id == f"{protocol}:2"
    complaint.refresh_from_db()
    assert complaint.status == PlatformStatus.ANSWERED and complaint.last_agent_id == agent.pk
    assert cg.status_of(protocol) == "Respondida"

    # The agent finishes the attendance: it leaves the queue; nothing changes on the platform.
    finalize(ticket, Actor(user=agent), tag)
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    requests_before = len(cg.requests)
    sync_channel(cg_channel)  # reads our own answer back: no new entry
    assert Message.objects.filter(ticket=ticket).count() == 2
    assert not any(r.startswith("POST /reclamacao") for r in cg.requests[requests_before:])

    # The consumer replies on the platform: a new attendance under the same protocol, on the
    # same agent, with the whole history.
    cg.advance(minutes=20)
    cg.consumer_complements(protocol, "O estorno ainda não apareceu na fatura.")
    update_ticket(ticket, Actor(user=tenant.admin), assignee=None)  # the queue moved on
    with capture(execute=True):
        sync_channel(cg_channel)
    ticket.refresh_from_db()
    complaint.refresh_from_db()
    assert Ticket.objects.filter(organization=tenant.org).count() == 1
    assert ticket.status == Status.OPEN and ticket.assignee_id == agent.pk
    assert complaint.attendances == 2 and complaint.ticket_id == ticket.pk
    assert complaint.status == PlatformStatus.ANSWERED  # a complement changes no status
    assert Message.objects.filter(ticket=ticket).count() == 3

    # In the window an answer goes at once (a complement on the platform).
    second = answer(ticket, agent, "O estorno aparece na próxima fatura.", capture)
    assert second.delivery_status == DeliveryStatus.SENT
    assert cg.status_of(protocol) == "Respondida"
    finalize(ticket, Actor(user=agent), tag)
    assert AuditEntry.objects.filter(ticket=ticket, action="finalized").count() == 2

    # The evaluation enters the history, closes the complaint and the composer.
    cg.advance(days=2)
    cg.consumer_evaluates(protocol, resolved=True, score=4, comment="Resolveram, demorou.")
    sync_channel(cg_channel)
    complaint.refresh_from_db()
    assert complaint.status == PlatformStatus.EVALUATED
    assert (complaint.resolved, complaint.score) == (True, 4)
    evaluation = Message.objects.filter(ticket=ticket).order_by("-created_at", "-pk").first()
    assert evaluation is not None and evaluation.direction == Direction.NOTE
    # In the organisation's language (pt-BR by default).
    assert "nota 4 de 5" in evaluation.text and "Resolveram, demorou." in evaluation.text
    assert get_connector("consumidor_gov").reply_refusal(cg_channel, ticket.pk)
    with pytest.raises(TicketError):
        post_message(ticket, Actor(user=agent), text="Mais alguma coisa?")
    post_message(ticket, Actor(user=agent), text="Cliente satisfeito.", internal=True)
    # Synchronising again adds nothing; a finished complaint is no longer read.
    count = Message.objects.filter(ticket=ticket).count()
    sync_channel(cg_channel)
    assert Message.objects.filter(ticket=ticket).count() == count


def test_answers_written_outside_the_hours_go_out_in_order_and_survive_a_restart(
        tenant: Tenant, cg: FakeConsumidorGov, cg_channel: Channel, agent: User,
        django_capture_on_commit_callbacks: Any) -> None:
    from atende.connectors.consumidor_gov.outbound import flush_waiting

    one, two = cg.new_complaint(), cg.new_complaint()
    sync_channel(cg_channel)
    tickets = {c.protocol: c.ticket for c in Complaint.objects.filter(channel=cg_channel)}
    cg.set_time(brasilia(2026, 12, 8, 22, 30))  # Tuesday night: closed until 12:00
    for n, protocol in enumerate([one, two, one]):
        ticket = tickets[protocol]
        assert ticket is not None
        answer(ticket, agent, f"Resposta {n}", django_capture_on_commit_callbacks)
    assert cg.answers == []
    # A restart: nothing in memory matters, the queue is the database.
    cg.set_time(brasilia(2026, 12, 9, 11, 59))
    assert flush_waiting(Channel.objects.get(pk=cg_channel.pk)) == 0
    cg.set_time(brasilia(2026, 12, 9, 12, 0))
    cg.fail_next(502)  # the first try of the window fails: the order holds
    assert flush_waiting(Channel.objects.get(pk=cg_channel.pk)) == 0
    assert flush_waiting(Channel.objects.get(pk=cg_channel.pk)) == 3
    assert [a["texto"] for a in cg.answers] == ["Resposta 0", "Resposta 1", "Resposta 2"]
    assert [a["protocolo"] for a in cg.answers] == [one, two, one]
    assert not Message.objects.filter(delivery_status=DeliveryStatus.QUEUED).exists()
