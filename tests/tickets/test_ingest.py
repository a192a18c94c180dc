"""The inbound pipeline every channel feeds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from atende.channels.connector import ContactRef, InboundAttachment, InboundMessage
from atende.channels.models import Channel, ChannelKind
from atende.contacts.models import Contact
from atende.realtime.models import Event
from atende.tickets.models import AuditEntry, Message, Status, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.ingest import ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(tenant: Any) -> Channel:
    return Channel.objects.create(organization=tenant.org, kind=ChannelKind.API, name="ERP",
                                  service=tenant.service)


def inbound(channel: Channel, external_id: str, conversation: str = "conv-1", **kw: Any) -> \
        InboundMessage:
    defaults: dict[str, Any] = {
        "contact": ContactRef("email", "cliente@example.com", "Cliente"),
        "text": f"mensagem {external_id}",
        "thread_keys": (conversation,),
        "thread_key": conversation,
    }
    return InboundMessage(channel_id=channel.pk, external_id=external_id, **{**defaults, **kw})


def test_first_message_opens_ticket_on_the_channel_service(channel: Channel) -> None:
    result = ingest(inbound(channel, "m1", subject="Pedido atrasado"))
    assert result.created_ticket and not result.duplicate
    ticket = result.ticket
    assert ticket.subject == "Pedido atrasado"
    assert ticket.origin == "api" and ticket.channel == channel
    assert ticket.service == channel.service
    assert result.message.direction == "inbound"
    assert AuditEntry.objects.filter(ticket=ticket, action="created").count() == 1


def test_same_conversation_threads_into_the_ticket(channel: Channel) -> None:
    first = ingest(inbound(channel, "m1"))
    second = ingest(inbound(channel, "m2"))
    assert second.ticket.pk == first.ticket.pk and not second.created_ticket
    other = ingest(inbound(channel, "m3", conversation="conv-2"))
    assert other.ticket.pk != first.ticket.pk


def test_duplicate_delivery_leaves_one_entry(channel: Channel) -> None:
    first = ingest(inbound(channel, "m1"))
    again = ingest(inbound(channel, "m1"))
    assert again.duplicate and again.message.pk == first.message.pk
    assert Message.objects.filter(ticket=first.ticket).count() == 1
    assert Ticket.objects.count() == 1


def test_out_of_order_delivery_keeps_provider_order(channel: Channel) -> None:
    now = timezone.now()
    ingest(inbound(channel, "late", sent_at=now))
    ingest(inbound(channel, "early", sent_at=now - timedelta(minutes=5)))
    ingest(inbound(channel, "middle", sent_at=now - timedelta(minutes=2)))
    ticket = Ticket.objects.get()
    order = list(Message.objects.filter(ticket=ticket).order_by("created_at", "id")
                 .values_list("external_id", flat=True))
    assert order == ["early", "middle", "late"]


def test_message_to_resolved_ticket_reopens_it(channel: Channel) -> None:
    first = ingest(inbound(channel, "m1"))
    update_ticket(first.ticket, Actor(label="t"), status=Status.RESOLVED)
    again = ingest(inbound(channel, "m2"))
    assert again.reopened
    again.ticket.refresh_from_db()
    assert again.ticket.status == Status.OPEN
    assert AuditEntry.objects.filter(ticket=again.ticket, action="reopened").exists()


def test_html_is_sanitised_and_attachments_stored(channel: Channel) -> None:
    result = ingest(inbound(
        channel, "m1", html='<p>oi<img src="x" onerror="alert(1)"><script>x()</script></p>',
        attachments=(InboundAttachment("../nota.pdf", "application/pdf", b"%PDF-1.4"),),
    ))
    assert "onerror" not in result.message.html and "script" not in result.message.html
    stored = result.message.attachments.get()
    assert stored.filename == "nota.pdf" and stored.size == 8
    assert "nota" not in stored.file.name  # the stored name never comes from the sender


def test_invalid_sender_identity_raises_without_writing(channel: Channel) -> None:
    with pytest.raises(ValidationError):
        ingest(inbound(channel, "m1", contact=ContactRef("email", "not-an-address")))
    assert not Ticket.objects.exists() and not Contact.objects.exists()


def test_events_are_published_for_queue_and_webhooks(channel: Channel,
                                                     django_capture_on_commit_callbacks: Any) -> \
        None:
    with django_capture_on_commit_callbacks(execute=True):
        ingest(inbound(channel, "m1"))
        ingest(inbound(channel, "m2"))
    types = list(Event.objects.order_by("id").values_list("type", flat=True))
    assert types[:2] == ["ticket.created", "message.created"]
    assert "ticket.updated" in types[2:] and types.count("message.created") == 2
