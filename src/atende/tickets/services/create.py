"""Opening a ticket."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from atende.channels.models import Channel
from atende.contacts.models import Contact
from atende.events import emit
from atende.tenancy.models import Organization, Service
from atende.tickets.models import Direction, Message, Priority, Status, Tag, Ticket
from atende.tickets.payloads import message_payload, ticket_payload
from atende.tickets.services import assignment, audit, sla
from atende.tickets.services.actor import Actor
from atende.tickets.services.ticket_numbers import allocate_number


def tags_by_name(organization_id: int, names: Sequence[str]) -> list[Tag]:
    """Existing tags with these names, creating the missing ones (names are trimmed)."""
    wanted = sorted({n.strip()[:60] for n in names if n.strip()})
    if not wanted:
        return []
    existing = {t.name: t for t in Tag.objects.for_org(organization_id).filter(name__in=wanted)}
    missing = [Tag(organization_id=organization_id, name=n) for n in wanted if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.for_org(organization_id).filter(name__in=wanted)}
    return [existing[n] for n in wanted]


# No savepoint: nothing below raises on valid input, and a failure aborts the caller's
# transaction anyway; this saves two round trips on the hottest write path.
@transaction.atomic(savepoint=False)
def open_ticket(
    *,
    organization: Organization,
    contact: Contact,
    subject: str,
    actor: Actor,
    origin: str,
    description: str = "",
    description_html: str = "",
    priority: str = Priority.NORMAL,
    category: str = "",
    channel: Channel | None = None,
    service: Service | None = None,
    custom_fields: dict[str, Any] | None = None,
    tags: Sequence[str] = (),
    first_message_external_id: str = "",
    created_at: Any = None,
) -> tuple[Ticket, Message | None]:
    """Create a ticket, its first inbound message (the description) and the audit entry.

    Emits `ticket.created` (and `message.created` for the first message) on commit.
    Custom fields must already be validated.
    """
    now = timezone.now()
    ticket = Ticket(
        organization=organization,
        number=allocate_number(organization.pk),
        subject=subject[:300] or "—",
        description=description,
        category=category[:100],
        priority=priority,
        status=Status.NEW,
        contact=contact,
        channel=channel,
        service=service or (channel.service if channel else None),
        origin=origin,
        custom_fields=custom_fields or {},
        created_at=created_at or now,
        updated_at=now,
        last_inbound_at=now,
    )
    sla.track(ticket, now, repolicy=True)
    ticket.save(force_insert=True)
    tag_objs = tags_by_name(organization.pk, tags)
    if tag_objs:
        ticket.tags.add(*tag_objs)
    message = None
    if description or description_html:
        message = Message.objects.create(
            organization=organization, ticket=ticket, direction=Direction.INBOUND,
            channel=channel, author_contact=contact, text=description, html=description_html,
            external_id=first_message_external_id, created_at=created_at or now,
        )
    audit.record(ticket, actor, "created", after={"status": Status.NEW, "origin": origin})
    emit(organization.pk, "ticket.created", ticket_payload(ticket, [t.name for t in tag_objs]))
    if message is not None:
        emit(organization.pk, "message.created", message_payload(message))
    assignment.assign_on_commit(ticket)
    return ticket, message
