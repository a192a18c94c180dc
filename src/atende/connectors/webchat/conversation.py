"""What a visitor may read: their own conversation (found by their thread key, never by
an id the request names), without internal notes or system lines."""

from __future__ import annotations

from typing import Any

from atende.channels.models import Channel
from atende.connectors.webchat.visitors import Visitor, thread_key
from atende.tickets.models import Direction, Message, Status, ThreadReference, Ticket

VISIBLE = (Direction.INBOUND, Direction.OUTBOUND)
HISTORY_LIMIT = 200


def ticket_id_of(channel: Channel, visitor: Visitor) -> int | None:
    return (ThreadReference.objects.for_org(channel.organization_id)
            .filter(channel=channel, key=thread_key(visitor))
            .values_list("ticket_id", flat=True).first())


def agent_name(name: str) -> str:
    """Visitors see an agent's first name only."""
    return name.split()[0] if name.strip() else ""


def visitor_message(message_id: int, direction: str, text: str, created_at: str,
                    author: str = "", files: list[dict[str, Any]] | None = None
                    ) -> dict[str, Any]:
    """One message as the widget receives it (history and stream alike)."""
    return {"id": message_id, "from": "visitor" if direction == Direction.INBOUND else "agent",
            "text": text, "at": created_at, "author": author, "files": files or []}


def history(channel: Channel, visitor: Visitor) -> list[dict[str, Any]]:
    ticket_id = ticket_id_of(channel, visitor)
    if ticket_id is None:
        return []
    messages = list(
        Message.objects.for_org(channel.organization_id)
        .filter(ticket_id=ticket_id, direction__in=VISIBLE)
        .select_related("author_user").prefetch_related("attachments")
        .order_by("-created_at", "-pk")[:HISTORY_LIMIT])
    return [visitor_message(
        m.pk, m.direction, m.text, m.created_at.isoformat(),
        agent_name(m.author_user.name if m.author_user else ""),
        [{"name": a.filename, "type": a.content_type, "size": a.size} for a in
         m.attachments.all()]) for m in reversed(messages)]


def waiting_position(channel: Channel, visitor: Visitor) -> int | None:
    """The visitor's place among this widget's unassigned open chats (1 = next), or None
    when an agent has the chat or there is none."""
    ticket_id = ticket_id_of(channel, visitor)
    if ticket_id is None:
        return None
    waiting = (Ticket.objects.for_org(channel.organization_id)
               .filter(channel=channel, assignee__isnull=True,
                       status__in=(Status.NEW, Status.OPEN, Status.PENDING)))
    mine = waiting.filter(pk=ticket_id).values_list("created_at", flat=True).first()
    if mine is None:
        return None
    return waiting.filter(created_at__lt=mine).count() + 1
