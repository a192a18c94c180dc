"""Thread keys a connector learns after the fact (e.g. the Message-ID of a mail it sent)."""

from __future__ import annotations

from atende.channels.models import Channel
from atende.tickets.models import ThreadReference, Ticket


def remember_thread_key(ticket_id: int, channel: Channel, key: str) -> None:
    """Lead later inbound messages carrying `key` on `channel` to the ticket. Idempotent; a
    key already leading elsewhere keeps its ticket."""
    if not key:
        return
    ticket = Ticket.objects.for_org(channel.organization_id).get(pk=ticket_id)
    ThreadReference.objects.get_or_create(
        organization_id=channel.organization_id, channel=channel, key=key[:500],
        defaults={"ticket": ticket},
    )
