"""`atende.bulk_update`: the values Django's `bulk_update` would write, in one statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende.bulk_update import bulk_update
from atende.channels.connector import ContactRef, InboundMessage
from atende.channels.models import Channel, ChannelKind, InboundEvent, InboundStatus
from atende.tickets.models import SlaPolicy, Status, Ticket
from atende.tickets.services.ingest import ingest
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_and_other_rows_and_fields_are_untouched(
        tenant: Tenant) -> None:
    channel = Channel.objects.create(organization=tenant.org, kind=ChannelKind.WHATSAPP,
                                     name="WhatsApp")
    events = [InboundEvent.objects.create(organization=tenant.org, channel=channel,
                                          provider_id=f"e{n}", payload={"n": n})
              for n in range(4)]
    at = datetime(2026, 11, 22, 13, 45, 1, 123456, tzinfo=UTC)
    first, second, third, untouched = events
    first.status, first.error, first.processed_at = InboundStatus.PROCESSED, "", at
    second.status, second.error, second.processed_at = (
        InboundStatus.QUARANTINED, "ValidationError: número 'impossível' \\ \"12\"", None)
    third.status, third.error, third.processed_at = InboundStatus.DUPLICATE, "{1,2}", at
    third.provider_id = "not written"
    assert bulk_update([first, second, third], ["status", "error", "processed_at"]) == 3

    rows = {e.pk: (e.status, e.error, e.processed_at, e.provider_id, e.payload)
            for e in InboundEvent.objects.all()}
    assert rows == {
        first.pk: ("processed", "", at, "e0", {"n": 0}),
        second.pk: ("quarantined", "ValidationError: número 'impossível' \\ \"12\"", None,
                    "e1", {"n": 1}),
        third.pk: ("duplicate", "{1,2}", at, "e2", {"n": 2}),
        untouched.pk: ("received", "", None, "e3", {"n": 3}),
    }
    assert bulk_update([], ["status"]) == 0
    first.payload = {"changed": True}  # JSON goes through Django's bulk_update
    bulk_update([first], ["payload"])
    assert InboundEvent.objects.get(pk=first.pk).payload == {"changed": True}


TICKET_FIELDS = ["status", "updated_at", "last_inbound_at", "sla_policy_id",
                 "sla_paused_seconds"]


def _tickets(tenant: Tenant, count: int) -> list[Ticket]:
    channel = Channel.objects.create(organization=tenant.org, kind=ChannelKind.API, name="ERP")
    return [ingest(InboundMessage(channel_id=channel.pk, external_id=f"m{n}",
                                  contact=ContactRef("email", f"c{n}@example.com"),
                                  text="oi", thread_key=f"k{n}")).ticket
            for n in range(count)]


def _stored(rows: list[Ticket]) -> list[tuple[object, ...]]:
    return [tuple(getattr(Ticket.objects.get(pk=t.pk), f) for f in TICKET_FIELDS)
            for t in rows]


def test_writes_what_djangos_bulk_update_writes(tenant: Tenant) -> None:
    """Dates, enums, a foreign key by its attname, big integers and a column of NULLs only
    (PostgreSQL must still know its type), in one statement."""
    policy = SlaPolicy.objects.create(organization=tenant.org, name="P",
                                      first_response_minutes=60, resolution_minutes=480)
    rows = _tickets(tenant, 5)
    untouched = _stored(rows[4:])
    when = datetime(2026, 11, 20, 12, 0, 1, 123456, tzinfo=UTC)
    changes = [(Status.OPEN, when, None, policy.pk, 7),
               (Status.PENDING, when + timedelta(hours=1), None, None, 0),
               (Status.NEW, when - timedelta(days=400), None, policy.pk, 2**31 - 1),
               (Status.CLOSED, when, None, None, 5)]
    for ticket, values in zip(rows, changes, strict=False):
        for field, value in zip(TICKET_FIELDS, values, strict=True):
            setattr(ticket, field, value)
    with CaptureQueriesContext(connection) as queries:
        assert bulk_update(rows[:4], TICKET_FIELDS) == 4
    assert len(queries) == 1
    assert _stored(rows[:4]) == changes
    assert _stored(rows[4:]) == untouched
    # The same values through Django's bulk_update read back the same.
    again = [Ticket.objects.get(pk=t.pk) for t in rows[:4]]
    Ticket.objects.bulk_update(again, TICKET_FIELDS)
    assert _stored(rows[:4]) == changes
