"""The seam between the ticket domain and the roll-ups: every event that can change a
ticket's figures marks the ticket pending inside the change's transaction (one small
INSERT), and a task recomputes it after commit, off the request path."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from atende import events

# message.created covers answers; ticket.updated every change of status, assignee,
# service, category or finalization; ticket.sla_breached the breach sweep.
EVENTS = ("ticket.created", "ticket.updated", "message.created", "ticket.sla_breached")


def _ticket_id(event_type: str, payload: dict[str, Any]) -> int | None:
    value = payload.get("ticket_id") if event_type.startswith("message.") else payload.get("id")
    return value if isinstance(value, int) else None


def on_events(organization_id: int, event_type: str, payloads: list[dict[str, Any]]) -> None:
    from atende.reports import rollups, tasks

    ids = {t for t in (_ticket_id(event_type, p) for p in payloads) if t is not None}
    if not ids:
        return
    rollups.mark(organization_id, ids)
    transaction.on_commit(lambda: tasks.refresh_rollups.enqueue(organization_id))


def connect() -> None:
    for event_type in EVENTS:
        events.listen_many(event_type, on_events)
