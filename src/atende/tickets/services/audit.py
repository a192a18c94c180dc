from typing import Any

from atende.tickets.models import AuditEntry, Ticket
from atende.tickets.services.actor import Actor


def record(ticket: Ticket, actor: Actor, action: str, field: str = "",
           before: Any = None, after: Any = None) -> AuditEntry:
    """One line of interaction tracking; call inside the transaction that made the change."""
    return AuditEntry.objects.create(
        organization_id=ticket.organization_id, ticket=ticket, actor_user=actor.user,
        actor_label=actor.label[:200], action=action, field=field, before=before, after=after,
    )
