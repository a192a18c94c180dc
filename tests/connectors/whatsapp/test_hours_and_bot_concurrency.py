"""Worker threads at the same moment: the out-of-hours message still goes once per ticket,
the first messages of a customer start one bot conversation, and simultaneous hand-offs
open one ticket. PostgreSQL only (SQLite serialises writers)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from atende.automation.models import BusinessCalendar
from atende.channels.models import Channel, InboundEvent
from atende.connectors.whatsapp.bot import hand_off
from atende.connectors.whatsapp.channels import save_channel
from atende.connectors.whatsapp.inbound import split_events
from atende.connectors.whatsapp.models import Bot, BotConversation, BotEntry, OutOfHoursNotice
from atende.connectors.whatsapp.receive import process_event
from atende.tickets.models import Direction, Message, Ticket
from atende.tickets.services.actor import Actor
from tests.conftest import Tenant
from tests.connectors.whatsapp.conftest import CUSTOMER, channel_form
from tests.fakes.dialog360 import FakeDialog360
from tests.fakes.http_receiver import HttpReceiver

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason=(
        "SQLite serialises writers, and its shared-cache test database refuses concurrent "
        "threads with 'table is locked'; the race exists on PostgreSQL")),
    pytest.mark.django_db(transaction=True),
]


def stored_events(wa: FakeDialog360, channel: Channel, count: int) -> list[int]:
    for n in range(count):
        wa.customer_sends(CUSTOMER, f"parte {n}")
    # Stored as the webhook would, but not enqueued: the threads below are the workers.
    return [InboundEvent.objects.create(
        organization_id=channel.organization_id, channel=channel,
        provider_id=event.provider_id, payload=event.data).pk
        for body in wa.outbox for event in split_events(body)]


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []
    results: list[Any] = []

    def work(call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results.append(call())
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    return results


def test_simultaneous_messages_out_of_hours_get_one_notice(
        tenant: Tenant, wa: FakeDialog360, wa_channel: Channel) -> None:
    wa_channel.business_calendar = BusinessCalendar.objects.create(
        organization=tenant.org, name="Nunca", hours={})
    wa_channel.save()
    ids = stored_events(wa, wa_channel, 4)
    at_once([lambda i=i: process_event(i) for i in ids])
    ticket = Ticket.objects.get()
    assert OutOfHoursNotice.objects.filter(ticket=ticket).count() == 1
    assert Message.objects.filter(ticket=ticket, direction=Direction.OUTBOUND).count() == 1
    assert [b["type"] for b in wa.sent] == ["text"]


def test_simultaneous_first_messages_start_one_bot_conversation_and_one_ticket(
        tenant: Tenant, wa: FakeDialog360) -> None:
    with HttpReceiver() as endpoint:
        bot = Bot(organization=tenant.org, bot_id="triagem", name="Triagem",
                  webhook_url=endpoint.url)
        bot.secret = "bot-signing-secret-0123456789"
        bot.save()
        form = channel_form(tenant, return_to_bot="on", bot_id="triagem")
        assert form.is_valid(), form.errors
        channel = save_channel(tenant.org, form).channel
        ids = stored_events(wa, channel, 4)
        at_once([lambda i=i: process_event(i) for i in ids])
        conversation = BotConversation.objects.get()
        assert BotEntry.objects.filter(conversation=conversation).count() == 4
        assert not Ticket.objects.exists()
        results = at_once([lambda: hand_off(tenant.org.pk, conversation.pk,
                                            actor=Actor(label="bot"))] * 3)
        assert sorted(r.created for r in results) == [False, False, True]
        ticket = Ticket.objects.get()
        assert {r.ticket.pk for r in results} == {ticket.pk}
        assert ticket.messages.filter(direction=Direction.INBOUND).count() == 4
