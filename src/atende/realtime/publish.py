"""The write side of the realtime port: `publish` inside a transaction, delivered on commit."""

from collections.abc import Sequence
from typing import Any

from django.db import transaction

from atende.bulk_insert import bulk_insert
from atende.realtime.brokers import get_broker
from atende.realtime.models import Event


def publish(organization_id: int, event_type: str, payload: dict[str, Any]) -> Event:
    """Store the event in the outbox now; tell the broker once the transaction commits.

    If the transaction rolls back, the event never existed. Safe outside a transaction too
    (autocommit: the broker is told at once). A failing announcement never fails the
    caller: the change is committed and the outbox row is delivered by polling anyway.
    """
    event = Event.objects.create(organization_id=organization_id, type=event_type, payload=payload)
    transaction.on_commit(lambda: get_broker().announce(event), robust=True)
    return event


def publish_many(organization_id: int,
                 events: Sequence[tuple[str, dict[str, Any]]]) -> list[Event]:
    """`publish` for several events in order, with one INSERT (batched ingest)."""
    if not events:
        return []
    rows = [Event(organization_id=organization_id, type=t, payload=p) for t, p in events]
    bulk_insert(rows)

    def announce() -> None:
        # One wake-up is enough: a hub reads every row of the outbox it has not seen, and
        # these rows were committed together (one PUBLISH, not one per event).
        get_broker().announce(rows[-1])

    transaction.on_commit(announce, robust=True)
    return rows
