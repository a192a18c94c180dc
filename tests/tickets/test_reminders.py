"""The answer reminder: once per agent answer, only while the ticket waits on the customer."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from atende.channels.models import Channel
from atende.contacts.services import find_or_create_contact
from atende.events import listen
from atende.tickets.models import AuditEntry, Status, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.create import open_ticket
from atende.tickets.services.reminders import send_due_reminders
from atende.tickets.services.replies import post_message

pytestmark = pytest.mark.django_db

heard: list[int] = []


def _record(organization_id: int, event_type: str, payload: dict[str, Any]) -> None:
    heard.append(payload["id"])


listen("ticket.answer_reminder", _record)


def _pending_ticket(tenant: Any, hours: int | None) -> Ticket:
    settings = {} if hours is None else {"answer_reminder_hours": hours}
    channel = Channel.objects.create(organization=tenant.org, kind="api", name="API",
                                     settings=settings)
    contact = find_or_create_contact(tenant.org, "email", f"c{channel.pk}@example.com")
    ticket, _ = open_ticket(organization=tenant.org, contact=contact, subject="Ajuda",
                            actor=Actor(user=tenant.admin), origin="api", channel=channel)
    channel.is_active = False  # the answer then counts as sent without a delivery task
    channel.save()
    post_message(ticket, Actor(user=tenant.admin), text="Pode confirmar o pedido?")
    update_ticket(ticket, Actor(user=tenant.admin), status=Status.PENDING)
    channel.is_active = True
    channel.save()
    ticket.refresh_from_db()
    return ticket


def test_reminder_is_sent_once_after_the_delay(tenant: Any) -> None:
    heard.clear()
    ticket = _pending_ticket(tenant, hours=24)
    assert ticket.last_outbound_at is not None
    assert send_due_reminders(timezone.now() + timedelta(hours=23)) == 0
    later = timezone.now() + timedelta(hours=25)
    assert send_due_reminders(later) == 1
    assert send_due_reminders(later + timedelta(hours=48)) == 0
    assert heard == [ticket.pk]
    assert AuditEntry.objects.filter(ticket=ticket, action="answer_reminder").count() == 1


def _age(ticket: Ticket, hours: int) -> None:
    """Move the ticket's clocks back in time."""
    ticket.refresh_from_db()
    back = timedelta(hours=hours)
    Ticket.objects.filter(pk=ticket.pk).update(
        last_outbound_at=ticket.last_outbound_at - back,
        last_inbound_at=ticket.last_inbound_at - back,
        answer_reminder_sent_at=(ticket.answer_reminder_sent_at - back
                                 if ticket.answer_reminder_sent_at else None))


def test_a_new_answer_allows_a_new_reminder(tenant: Any) -> None:
    heard.clear()
    ticket = _pending_ticket(tenant, hours=1)
    _age(ticket, 2)
    assert send_due_reminders() == 1
    assert send_due_reminders() == 0
    _age(ticket, 1)
    Channel.objects.filter(pk=ticket.channel_id).update(is_active=False)
    post_message(ticket, Actor(user=tenant.admin), text="Ainda precisa de ajuda?")
    Channel.objects.filter(pk=ticket.channel_id).update(is_active=True)
    assert send_due_reminders() == 0
    _age(ticket, 2)
    assert send_due_reminders() == 1
    assert heard == [ticket.pk, ticket.pk]


def test_no_reminder_when_off_or_not_pending_or_customer_answered(tenant: Any) -> None:
    heard.clear()
    off = _pending_ticket(tenant, hours=None)
    zero = _pending_ticket(tenant, hours=0)
    reopened = _pending_ticket(tenant, hours=1)
    update_ticket(reopened, Actor(user=tenant.admin), status=Status.OPEN)
    answered = _pending_ticket(tenant, hours=1)
    Ticket.objects.filter(pk=answered.pk).update(
        last_inbound_at=answered.last_outbound_at + timedelta(minutes=5))
    assert send_due_reminders(timezone.now() + timedelta(hours=30)) == 0
    assert heard == []
    assert off.pk and zero.pk
