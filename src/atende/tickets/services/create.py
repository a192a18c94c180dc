"""Opening a ticket: the one definition of what a new ticket is, what its first message is,
and what opening it records, shared by `open_ticket` (agents, the API) and the ingest of
inbound messages (`ingest_batch`), which writes the same rows in bulk."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from django.db import transaction
from django.utils import timezone

from atende.channels.models import Channel
from atende.contacts.models import Contact
from atende.events import emit
from atende.tenancy.models import Organization, Service
from atende.tickets.models import Direction, Message, Priority, SlaPolicy, Status, Tag, Ticket
from atende.tickets.payloads import message_payload, ticket_payload
from atende.tickets.services import assignment, audit, sla
from atende.tickets.services.actor import Actor
from atende.tickets.services.ticket_numbers import allocate_number


def tag_names(names: Sequence[str]) -> list[str]:
    """The tag names a ticket gets for these: trimmed, cut to 60 characters, sorted, once."""
    return sorted({n.strip()[:60] for n in names if n.strip()})


def tags_by_name(organization_id: int, names: Sequence[str]) -> list[Tag]:
    """Existing tags with these names, creating the missing ones (`tag_names`)."""
    wanted = tag_names(names)
    if not wanted:
        return []
    existing = {t.name: t for t in Tag.objects.for_org(organization_id).filter(name__in=wanted)}
    missing = [Tag(organization_id=organization_id, name=n) for n in wanted if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.for_org(organization_id).filter(name__in=wanted)}
    return [existing[n] for n in wanted]


class Recorder(Protocol):
    """Where the audit entries and events of a change go: `Immediate` writes each at once;
    the set-based ingest collects them and writes each kind with one statement."""

    def audit(self, ticket: Ticket, action: str, field: str = "", before: Any = None,
              after: Any = None) -> None: ...

    def event(self, event_type: str, payload: dict[str, Any],
              about: Ticket | Message) -> None: ...


class Immediate:
    """A `Recorder` writing as it goes, as `actor`."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def audit(self, ticket: Ticket, action: str, field: str = "", before: Any = None,
              after: Any = None) -> None:
        audit.record(ticket, self.actor, action, field, before, after)

    def event(self, event_type: str, payload: dict[str, Any], about: Ticket | Message) -> None:
        emit(about.organization_id, event_type, payload)


def _service(channel: Channel | None, service: Service | None) -> Service | None:
    return service or (channel.service if channel else None)


def opening_policy(organization_id: int, channel: Channel | None,
                   service: Service | None = None) -> SlaPolicy | None:
    """The SLA policy a ticket opened on this channel and service follows (one query)."""
    chosen = _service(channel, service)
    return sla.resolve_policy(organization_id, channel.pk if channel else None,
                              chosen.pk if chosen else None)


def new_ticket(*, organization: Organization, number: int, contact: Contact, subject: str,
               origin: str, policy: SlaPolicy | None, now: datetime, description: str = "",
               priority: str = Priority.NORMAL, category: str = "",
               channel: Channel | None = None, service: Service | None = None,
               custom_fields: dict[str, Any] | None = None,
               created_at: datetime | None = None) -> Ticket:
    """A new ticket, unsaved: status new, on the channel's service unless another is given,
    its SLA clocks started under `policy` (`opening_policy`'s)."""
    ticket = Ticket(
        organization=organization,
        number=number,
        subject=subject[:300] or "—",
        description=description,
        category=category[:100],
        priority=priority,
        status=Status.NEW,
        contact=contact,
        channel=channel,
        service=_service(channel, service),
        origin=origin,
        custom_fields=custom_fields or {},
        created_at=created_at or now,
        updated_at=now,
        last_inbound_at=now,
    )
    ticket.sla_policy = policy  # with its calendar: `track` reads no more
    sla.track(ticket, now)
    return ticket


def first_message(ticket: Ticket, *, html: str = "", external_id: str = "") -> Message | None:
    """The ticket's description as its first inbound message, unsaved; None when there is
    no description at all."""
    if not (ticket.description or html):
        return None
    return Message(
        organization=ticket.organization, ticket=ticket, direction=Direction.INBOUND,
        channel=ticket.channel, author_contact=ticket.contact, text=ticket.description,
        html=html, external_id=external_id, created_at=ticket.created_at,
    )


def record_opening(recorder: Recorder, ticket: Ticket, message: Message | None,
                   tags: list[str]) -> None:
    """What opening a ticket records, in this order: the audit entry `created`, the event
    `ticket.created`, and `message.created` for its first message."""
    recorder.audit(ticket, "created", after={"status": Status.NEW, "origin": ticket.origin})
    recorder.event("ticket.created", ticket_payload(ticket, tags), ticket)
    if message is not None:
        recorder.event("message.created", message_payload(message), message)


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
    ticket = new_ticket(
        organization=organization, number=allocate_number(organization.pk), contact=contact,
        subject=subject, origin=origin,
        policy=opening_policy(organization.pk, channel, service), now=timezone.now(),
        description=description, priority=priority, category=category, channel=channel,
        service=service, custom_fields=custom_fields, created_at=created_at,
    )
    ticket.save(force_insert=True)
    tag_objs = tags_by_name(organization.pk, tags)
    if tag_objs:
        ticket.tags.add(*tag_objs)
    message = first_message(ticket, html=description_html,
                            external_id=first_message_external_id)
    if message is not None:
        message.save(force_insert=True)
    record_opening(Immediate(actor), ticket, message, [t.name for t in tag_objs])
    assignment.assign_on_commit(ticket)
    return ticket, message
