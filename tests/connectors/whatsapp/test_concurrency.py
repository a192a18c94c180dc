"""Worker threads processing messages of one new customer at the same moment open one
ticket, not one each (ingest finds or creates the contact before it looks for the thread,
so the identity's unique key makes the later threads wait for the first one's ticket)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from atende.channels.models import Channel, InboundEvent
from atende.connectors.whatsapp.inbound import split_events
from atende.connectors.whatsapp.receive import process_event
from atende.tickets.models import Message, Ticket
from tests.connectors.whatsapp.conftest import CUSTOMER
from tests.fakes.dialog360 import FakeDialog360


@pytest.mark.skipif(connection.vendor != "postgresql", reason=(
    "SQLite serialises writers, and its shared-cache test database refuses concurrent "
    "threads with 'table is locked'; the race exists on PostgreSQL"))
@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_messages_open_one_ticket(
        wa: FakeDialog360, wa_channel: Channel) -> None:
    for n in range(4):
        wa.customer_sends(CUSTOMER, f"parte {n}")
    # Stored as the webhook would, but not enqueued: the threads below are the workers.
    ids = [InboundEvent.objects.create(
        organization_id=wa_channel.organization_id, channel=wa_channel,
        provider_id=event.provider_id, payload=event.data).pk
        for body in wa.outbox for event in split_events(body)]
    barrier = threading.Barrier(len(ids))
    errors: list[BaseException] = []

    def work(event_id: int) -> None:
        try:
            barrier.wait()
            process_event(event_id)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert Message.objects.filter(channel=wa_channel).count() == 4
    assert Ticket.objects.count() == 1
