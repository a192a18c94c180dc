"""The JSON shape of tickets and messages in events and webhooks (the API uses the same)."""

from typing import Any

from atende.tickets.models import Message, Ticket


def ticket_payload(ticket: Ticket, tags: list[str] | None = None) -> dict[str, Any]:
    if tags is None:
        tags = sorted(t.name for t in ticket.tags.all())
    return {
        "id": ticket.pk,
        "number": ticket.number,
        "protocol": ticket.protocol,
        "title": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "category": ticket.category,
        "origin": ticket.origin,
        "channel_id": ticket.channel_id,
        "service_id": ticket.service_id,
        "assignee_id": ticket.assignee_id,
        "contact_id": ticket.contact_id,
        "tags": tags,
        "finalization_tag_id": ticket.finalization_tag_id,
        "custom_fields": ticket.custom_fields,
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
    }


def message_payload(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "ticket_id": message.ticket_id,
        "direction": message.direction,
        "channel_id": message.channel_id,
        "author_user_id": message.author_user_id,
        "author_contact_id": message.author_contact_id,
        "text": message.text,
        "html": message.html,
        "external_id": message.external_id,
        "delivery_status": message.delivery_status,
        "failure_reason": message.failure_reason,
        "created_at": message.created_at.isoformat(),
    }
