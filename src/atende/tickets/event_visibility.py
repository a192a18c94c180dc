"""The visibility rule applied to one agent's live event stream: an agent who may not see a
ticket never receives its data (ticket events carry the whole ticket, message events the
text). See `atende.tickets.visibility` for the rule itself."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async

from atende.realtime.models import Event
from atende.realtime.outbox import releasing_connection
from atende.tenancy.models import Membership
from atende.tickets.models import Ticket
from atende.tickets.visibility import payload_visible, restrict, sees_every_ticket, service_ids

# Tickets whose visibility a stream remembers; past this it starts over (a lookup each).
MEMORY = 10_000


class StreamVisibility:
    """Called on each event of a restricted agent's stream: the event, a stripped copy, or
    None to skip it. Costs a query only for a message of a ticket the stream has not yet
    seen a ticket event for; ticket events are judged on their own payload."""

    def __init__(self, membership: Membership) -> None:
        self.membership = membership
        self.services = service_ids(membership)
        self.known: dict[int, bool] = {}

    @releasing_connection
    def _lookup(self, ticket_id: int) -> bool:
        qs = Ticket.objects.for_org(self.membership.organization_id).filter(pk=ticket_id)
        return restrict(qs, self.membership).exists()

    def _remember(self, ticket_id: int, visible: bool) -> None:
        if len(self.known) >= MEMORY:
            self.known.clear()
        self.known[ticket_id] = visible

    async def __call__(self, event: Event) -> Event | None:
        payload: dict[str, Any] = event.payload if isinstance(event.payload, dict) else {}
        if event.type.startswith("ticket.") and isinstance(payload.get("id"), int):
            ticket_id = payload["id"]
            visible = payload_visible(self.membership, self.services,
                                      payload.get("assignee_id"), payload.get("service_id"))
            was = self.known.get(ticket_id)
            self._remember(ticket_id, visible)
            if visible:
                return event
            if event.type == "ticket.created" or was is False:
                return None
            # It may just have left the agent's reach (transferred): the id alone lets an
            # open queue drop the row, without telling what the ticket now is.
            return Event(pk=event.pk, organization_id=event.organization_id, type=event.type,
                         payload={"id": ticket_id, "hidden": True})
        ticket_id = payload.get("ticket_id")
        if isinstance(ticket_id, int):
            if ticket_id not in self.known:
                self._remember(ticket_id, await sync_to_async(self._lookup)(ticket_id))
            return event if self.known[ticket_id] else None
        return event


def stream_visibility(membership: Membership) -> StreamVisibility | None:
    """The filter for this agent's stream, or None when they see every ticket."""
    return None if sees_every_ticket(membership) else StreamVisibility(membership)
