"""`update_rows`: what `bulk_update` writes, in one statement per chunk of rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atende import bulk_update
from atende.connectors.base import ContactRef, InboundMessage
from atende.connectors.models import Channel, ChannelKind
from atende.tickets.models import SlaPolicy, Status, Ticket
from atende.tickets.services.ingest import ingest
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db
FIELDS = ["status", "updated_at", "last_inbound_at", "sla_policy_id", "sla_paused_seconds"]


def tickets(tenant: Tenant, count: int) -> list[Ticket]:
    channel = Channel.objects.create(organization=tenant.org, kind=ChannelKind.API, name="ERP")
    return [ingest(InboundMessage(channel_id=channel.pk, external_id=f"m{n}",
                                  contact=ContactRef("email", f"c{n}@example.com"),
                                  text="oi", thread_key=f"k{n}")).ticket
            for n in range(count)]


def stored(rows: list[Ticket]) -> list[tuple[object, ...]]:
    return [tuple(getattr(Ticket.objects.get(pk=t.pk), f) for f in FIELDS) for t in rows]


def test_writes_what_bulk_update_writes(tenant: Tenant, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    policy = SlaPolicy.objects.create(organization=tenant.org, name="P",
                                      first_response_minutes=60, resolution_minutes=480)
    rows = tickets(tenant, 5)
    untouched = stored(rows[4:])
    when = datetime(2026, 11, 20, 12, 0, 1, 123456, tzinfo=UTC)
    changes = [(Status.OPEN, when, None, policy.pk, 7),  # a column of NULLs alone too
               (Status.PENDING, when + timedelta(hours=1), None, None, 0),
               (Status.NEW, when - timedelta(days=400), None, policy.pk, 2**31 - 1),
               (Status.CLOSED, when, None, None, 5)]
    for ticket, values in zip(rows, changes, strict=False):
        for field, value in zip(FIELDS, values, strict=True):
            setattr(ticket, field, value)
    monkeypatch.setattr(bulk_update, "CHUNK", 3)
    with CaptureQueriesContext(connection) as queries:
        bulk_update.update_rows(rows[:4], FIELDS)
    assert len(queries) == 2  # 3 rows, then 1
    assert stored(rows[:4]) == changes
    assert stored(rows[4:]) == untouched
    # The same values through Django's bulk_update read back the same.
    again = [Ticket.objects.get(pk=t.pk) for t in rows[:4]]
    Ticket.objects.bulk_update(again, FIELDS)
    assert stored(rows[:4]) == changes


def test_no_rows_no_statement(tenant: Tenant) -> None:
    with CaptureQueriesContext(connection) as queries:
        bulk_update.update_rows([], FIELDS)
    assert len(queries) == 0
