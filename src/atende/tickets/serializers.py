"""Model → API dictionaries (validated by the response schemas)."""

from __future__ import annotations

from typing import Any

from atende.tickets.models import AuditEntry, Message, Ticket


def contact_out(ticket: Ticket) -> dict[str, Any]:
    contact = ticket.contact
    return {
        "id": contact.pk,
        "name": contact.name,
        "identities": [{"kind": i.kind, "value": i.value} for i in contact.identities.all()],
    }


def ticket_out(ticket: Ticket, tags: list[str] | None = None) -> dict[str, Any]:
    """Expects tags (unless their names are given), contact and contact identities loaded
    (see selectors) or cheap to load."""
    return {
        "id": ticket.pk, "number": ticket.number, "protocol": ticket.protocol,
        "title": ticket.subject, "description": ticket.description, "status": ticket.status,
        "priority": ticket.priority, "category": ticket.category, "origin": ticket.origin,
        "channel_id": ticket.channel_id, "service_id": ticket.service_id,
        "assignee_id": ticket.assignee_id, "contact": contact_out(ticket),
        "tags": sorted(t.name for t in ticket.tags.all()) if tags is None else tags,
        "finalization_tag": ticket.finalization_tag.name if ticket.finalization_tag_id
        and ticket.finalization_tag else None,
        "custom_fields": ticket.custom_fields, "created_at": ticket.created_at,
        "updated_at": ticket.updated_at, "first_response_at": ticket.first_response_at,
        "resolved_at": ticket.resolved_at, "closed_at": ticket.closed_at,
        "sla_policy_id": ticket.sla_policy_id,
        "first_response_due_at": ticket.first_response_due_at,
        "resolution_due_at": ticket.resolution_due_at,
        "first_response_breached_at": ticket.first_response_breached_at,
        "resolution_breached_at": ticket.resolution_breached_at,
    }


def message_out(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk, "direction": message.direction, "channel_id": message.channel_id,
        "author_user_id": message.author_user_id, "author_contact_id": message.author_contact_id,
        "text": message.text, "html": message.html, "external_id": message.external_id,
        "delivery_status": message.delivery_status, "failure_reason": message.failure_reason,
        "created_at": message.created_at,
        "attachments": [
            {"id": a.pk, "filename": a.filename, "content_type": a.content_type, "size": a.size,
             "url": f"/api/v1/attachments/{a.pk}"}
            for a in message.attachments.all()
        ],
    }


def audit_out(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk, "actor_user_id": entry.actor_user_id,
        "actor": str(entry.actor_user) if entry.actor_user_id else entry.actor_label,
        "action": entry.action, "field": entry.field, "before": entry.before,
        "after": entry.after, "created_at": entry.created_at,
    }


def ticket_detail_out(ticket: Ticket, items: list[Message | AuditEntry]) -> dict[str, Any]:
    timeline = [
        {"type": "message", "message": message_out(i)} if isinstance(i, Message)
        else {"type": "audit", "audit": audit_out(i)}
        for i in items
    ]
    return {**ticket_out(ticket), "timeline": timeline}
