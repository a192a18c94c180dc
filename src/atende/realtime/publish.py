"""The write side of the realtime port: `publish` inside a transaction, delivered on commit."""

from typing import Any

from django.db import transaction

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
