"""The visitor's live stream: the organisation's realtime events (the same SSE machinery
and Last-Event-ID replay as the agents'), narrowed to this visitor's conversation and
reshaped so that nothing but its public messages, typing and status leaves the server."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async

from atende.connectors.webchat.conversation import VISIBLE, agent_name, visitor_message
from atende.connectors.webchat.inbound import EVENT_TICKET
from atende.connectors.webchat.indicators import EVENT_TYPING
from atende.realtime.models import Event
from atende.realtime.outbox import releasing_connection
from atende.tenancy.models import User
from atende.tickets.models import Attachment


@releasing_connection
def _author(user_id: int) -> str:
    name = User.objects.filter(pk=user_id).values_list("name", flat=True).first()
    return agent_name(name or "")


@releasing_connection
def _files(organization_id: int, message_id: int) -> list[dict[str, Any]]:
    return [{"name": n, "type": t, "size": s} for n, t, s in
            Attachment.objects.for_org(organization_id).filter(message_id=message_id)
            .values_list("filename", "content_type", "size")]


class VisitorFilter:
    """Called on each event of the organisation: the visitor's form of it, or None.
    Judged on the payload alone, except an agent's name and files (looked up once)."""

    def __init__(self, channel_id: int, digest: str, ticket_id: int | None) -> None:
        self.channel_id, self.digest, self.ticket_id = channel_id, digest, ticket_id
        self.names: dict[int, str] = {}

    def _as(self, event: Event, kind: str, payload: dict[str, Any]) -> Event:
        return Event(pk=event.pk, organization_id=event.organization_id, type=kind,
                     payload=payload)

    async def __call__(self, event: Event) -> Event | None:
        p: dict[str, Any] = event.payload if isinstance(event.payload, dict) else {}
        if event.type == EVENT_TICKET:
            if p.get("channel_id") != self.channel_id or p.get("visitor") != self.digest:
                return None
            self.ticket_id = p.get("ticket_id")
            found = p.get("message")
            first: dict[str, Any] = found if isinstance(found, dict) else {}
            if not isinstance(first.get("id"), int):
                return None
            files = await sync_to_async(_files)(event.organization_id, first["id"])
            return self._as(event, "message", visitor_message(
                first["id"], "inbound", str(first.get("text") or ""),
                str(first.get("created_at") or ""), "", files))
        if self.ticket_id is None:
            return None
        if event.type == "message.created" and p.get("ticket_id") == self.ticket_id \
                and p.get("direction") in VISIBLE:
            author = ""
            user_id = p.get("author_user_id")
            if isinstance(user_id, int):
                if user_id not in self.names:
                    self.names[user_id] = await sync_to_async(_author)(user_id)
                author = self.names[user_id]
            files = await sync_to_async(_files)(event.organization_id, p["id"])
            return self._as(event, "message", visitor_message(
                p["id"], p["direction"], str(p.get("text") or ""),
                str(p.get("created_at") or ""), author, files))
        if event.type == EVENT_TYPING and p.get("ticket_id") == self.ticket_id \
                and p.get("from") == "agent":
            return self._as(event, "typing", {"typing": bool(p.get("typing"))})
        if event.type.startswith("ticket.") and p.get("id") == self.ticket_id:
            return self._as(event, "status", {"assigned": p.get("assignee_id") is not None,
                                              "status": p.get("status")})
        return None
