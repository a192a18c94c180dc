"""The one ingest implementation: how inbound messages of one channel join a ticket or
open one, as a run with a constant number of statements, whatever the run's length.
`ingest` is a run of one; `ingest_many` runs consecutive messages of its channel together.

A run of several has the outcome of its messages ingested one after another, each as a run
of one: the same contacts, tickets, messages, thread references, audit entries and events
(types, payloads and order). It is reached in three steps:

1. read what the run needs in bulk: stored duplicates, contacts by identity (also the
   extra identities), thread references, the tickets they or a ticket-number token lead to
   (locked in id order, one statement), their tags, the SLA policy;
2. decide each message in Python, in order, against that state and what earlier messages
   of the run changed (a new customer's second message joins the ticket the first opened;
   a key keeps its first ticket, as `ON CONFLICT DO NOTHING` does);
3. write with one statement per table (numbers from one counter update; attachment files
   saved as `store_attachment` does, their rows in one insert), then the events with one
   outbox insert and one webhook-deliveries insert.

An invalid identity or a too large attachment fails its message alone before anything is
written; anything unexpected (a concurrent insert of the same contact, say) is raised, and
the caller redoes the run one message at a time. So is the one run that cannot be decided
before its numbers are allocated (`OneByOne`, raised before any write): a ticket-number
token naming no ticket yet but a number an earlier message of the run may give a ticket it
opens (never in a run of one).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db.models import Q
from django.utils import timezone

from atende.bulk_insert import bulk_insert
from atende.bulk_update import bulk_update
from atende.channels.connector import InboundMessage
from atende.channels.models import Channel
from atende.contacts.identities import normalize_identity
from atende.contacts.models import Contact
from atende.contacts.services import contacts_by_identity, create_contacts
from atende.events import emit_many
from atende.tickets.errors import AttachmentTooLarge
from atende.tickets.models import (
    OPEN_STATUSES,
    Attachment,
    AuditEntry,
    Direction,
    Message,
    SlaPolicy,
    Status,
    ThreadReference,
    Ticket,
)
from atende.tickets.payloads import message_payload, ticket_payload
from atende.tickets.services import assignment, sla
from atende.tickets.services.attachments import check_size, prepare_attachment
from atende.tickets.services.create import (
    first_message,
    new_ticket,
    opening_policy,
    record_opening,
)
from atende.tickets.services.ingest import IngestResult, sanitize_html
from atende.tickets.services.ticket_numbers import allocate_numbers, last_number

Event = tuple[str, dict[str, Any]]
Identity = tuple[str, str]


class OneByOne(Exception):
    """The run cannot be decided in bulk: `ingest_many` redoes it message by message."""


def batchable(inbound: InboundMessage, channel: Channel) -> bool:
    """A message of a run on `channel`: any of the channel's own (a message naming another
    channel is a run of one on that channel, through `ingest`, which loads it)."""
    return inbound.channel_id == channel.pk


def _keys(inbound: InboundMessage) -> set[str]:
    return {k[:500] for k in (*inbound.thread_keys, inbound.thread_key) if k}


class _Run:
    """The state of one run while its messages are decided, and what is to be written; the
    `Recorder` its audit entries and events go to."""

    def __init__(self, channel: Channel, inbounds: Sequence[InboundMessage],
                 first_delivery: bool) -> None:
        self.channel = channel
        self.org = channel.organization
        self.actor_label = f"channel:{channel.pk}"[:200]
        self.inbounds = inbounds
        self.first_delivery = first_delivery
        self.new_contacts: list[Contact] = []
        # In the order the messages name them, as runs of one would add them.
        self.new_identities: list[tuple[str, str, Contact]] = []
        self.new_tickets: list[Ticket] = []
        self.touched: dict[int, Ticket] = {}  # stored tickets changed by the run
        self.touched_fields: set[str] = set()
        self.messages: list[Message] = []
        self.attachments: list[tuple[Attachment, bytes]] = []
        self.audit_entries: list[AuditEntry] = []
        self.references: list[ThreadReference] = []
        # "thread_linked" entries and the other ticket each names (its id known on write).
        self.links: list[tuple[AuditEntry, Ticket]] = []
        self.events: list[Event] = []
        # Payloads built before the rows have ids: patched once they are inserted.
        self.ticket_payloads: list[tuple[dict[str, Any], Ticket]] = []
        self.message_payloads: list[tuple[dict[str, Any], Message]] = []
        self._policy: tuple[SlaPolicy | None] | None = None
        self._policies_loaded = False

    # --- step 1: bulk reads -------------------------------------------------------------
    def load(self) -> None:
        external_ids = sorted({i.external_id for i in self.inbounds if i.external_id})
        self.stored: dict[str, Message] = {}
        if external_ids and not self.first_delivery:
            # The redundant `<> ''` lets SQLite use the partial unique index (channel,
            # external_id); without it the lookup scans every message of the channel.
            self.stored = {m.external_id: m for m in Message.objects.filter(
                ~Q(external_id=""), channel=self.channel, external_id__in=external_ids,
            ).select_related("ticket")}
        # Per message: its sender's identity and its extra identities, or why they fail.
        self.identities: list[tuple[Identity, list[Identity]] | ValidationError] = []
        for inbound in self.inbounds:
            try:
                self.identities.append((
                    _identity(inbound.contact.kind, inbound.contact.value),
                    [_identity(e.kind, e.value) for e in inbound.extra_identities]))
            except ValidationError as exc:
                self.identities.append(exc)
        self.contacts = contacts_by_identity(self.org, {
            i for found in self.identities if not isinstance(found, ValidationError)
            for i in (found[0], *found[1])})
        # The references first, then their tickets by id: as one join ordered by
        # `updated_at`, PostgreSQL walked every ticket of the organisation by its update
        # index for a new customer (no reference), tens of milliseconds per message.
        keys = sorted(set().union(*(_keys(i) for i in self.inbounds)))
        refs = dict(ThreadReference.objects.filter(channel=self.channel, key__in=keys)
                    .values_list("key", "ticket_id")) if keys else {}
        # A ticket number counts only when no reference leads anywhere; reading the
        # tickets of every named number with the referenced ones costs no statement more.
        numbers = sorted({i.ticket_number for i in self.inbounds if i.ticket_number})
        wanted = Q(pk__in=sorted(set(refs.values()))) | Q(number__in=numbers)
        # Locked in id order: two runs touching the same tickets never deadlock. Always in
        # the organisation: a number or a key never leads to another tenant's ticket.
        tickets = {t.pk: t for t in Ticket.objects.select_for_update().filter(
            wanted, organization_id=self.org.pk).order_by("pk")} if refs or numbers else {}
        self.by_number = {t.number: t for t in tickets.values()}
        # A number no ticket has yet may be the one a ticket opened by an earlier message
        # of the run gets, which that message's run of one would then find: known only once
        # allocated, so one by one instead. The first message has none before it.
        unknown = [(position, i.ticket_number) for position, i in enumerate(self.inbounds)
                   if position and i.ticket_number and i.ticket_number not in self.by_number]
        if unknown:
            last = last_number(self.org.pk)
            if any(last < n <= last + position for position, n in unknown):
                raise OneByOne(f"a ticket number the run may allocate: {unknown}")
        # Every stored key, also one leading to no ticket here: it keeps its ticket.
        self.key_tickets: dict[str, Ticket | None] = {k: tickets.get(t) for k, t in refs.items()}
        self.tags: dict[int, list[str]] = {pk: [] for pk in tickets}
        if tickets:
            through = Ticket.tags.through.objects.filter(ticket_id__in=sorted(tickets))
            for ticket_id, name in through.values_list("ticket_id", "tag__name"):
                self.tags[ticket_id].append(name)
            for names in self.tags.values():
                names.sort()
        self.stored_tickets = tickets

    def policy(self) -> SlaPolicy | None:
        """The SLA policy of a ticket opened on this channel (read once per run)."""
        if self._policy is None:
            self._policy = (opening_policy(self.org.pk, self.channel),)
        return self._policy[0]

    def load_policies(self) -> None:
        """The policies (with calendars) of the stored tickets, for `sla.track` when a
        reply reopens one: one query, and only in a run that reopens a ticket."""
        if self._policies_loaded:
            return
        self._policies_loaded = True
        ids = {t.sla_policy_id for t in self.stored_tickets.values() if t.sla_policy_id}
        policies = SlaPolicy.objects.select_related("calendar").in_bulk(sorted(ids))
        for ticket in self.stored_tickets.values():
            if ticket.sla_policy_id in policies:
                ticket.sla_policy = policies[ticket.sla_policy_id]

    # --- step 2: decide each message ------------------------------------------------------
    def decide(self) -> list[IngestResult | Exception]:
        results: list[IngestResult | Exception] = []
        in_run: dict[str, Message] = {}
        for inbound, identities in zip(self.inbounds, self.identities, strict=True):
            external_id = inbound.external_id
            earlier = in_run.get(external_id) or self.stored.get(external_id)
            if external_id and earlier is not None:
                results.append(IngestResult(earlier.ticket, earlier, duplicate=True))
                continue
            if isinstance(identities, ValidationError):
                results.append(identities)  # nothing of it was written: it fails alone
                continue
            try:  # checked first: a too large file fails its message before any write
                for attachment in inbound.attachments:
                    check_size(len(attachment.data))
            except AttachmentTooLarge as exc:
                results.append(exc)
                continue
            identity, extras = identities
            contact = self._contact(inbound, identity)
            for extra in extras:  # an identity already known stays with its contact
                if extra not in self.contacts:
                    self.contacts[extra] = contact
                    self.new_identities.append((*extra, contact))
            result = self._one(inbound, contact)
            if external_id:
                in_run[external_id] = result.message
            results.append(result)
        return results

    def _contact(self, inbound: InboundMessage, identity: Identity) -> Contact:
        contact = self.contacts.get(identity)
        if contact is None:
            contact = Contact(organization=self.org, name=inbound.contact.name[:200])
            self.contacts[identity] = contact
            self.new_contacts.append(contact)
            self.new_identities.append((*identity, contact))
        return contact

    def _one(self, inbound: InboundMessage, contact: Contact) -> IngestResult:
        html = sanitize_html(inbound.html)
        sent_at = inbound.sent_at or timezone.now()
        ticket = self._thread_ticket(inbound)
        if ticket is None and inbound.ticket_number:
            ticket = self.by_number.get(inbound.ticket_number)
        linked_from = None
        if ticket is not None and ticket.status == Status.CLOSED and not inbound.reopen_closed:
            linked_from, ticket = ticket, None
        created = reopened = False
        if ticket is None:
            ticket, message = self._open(inbound, contact, html, sent_at, linked_from)
            created = True
        else:
            message = self._message(ticket, contact, inbound, html, sent_at)
            reopened = self._touch(ticket)  # its events come before the message's
            self.event("message.created", message_payload(message), message)
        for attachment in inbound.attachments:
            row = prepare_attachment(message, attachment.filename, attachment.content_type,
                                     attachment.data)
            self.attachments.append((row, attachment.data))
        for key in sorted(_keys(inbound)):
            if key not in self.key_tickets:
                self.key_tickets[key] = ticket
                self.references.append(ThreadReference(
                    organization=self.org, channel=self.channel, key=key, ticket=ticket))
        return IngestResult(ticket, message, created_ticket=created, reopened=reopened)

    def _thread_ticket(self, inbound: InboundMessage) -> Ticket | None:
        """The ticket of the first of the message's keys that leads to one (most specific
        first, as the connector orders them; the key it leaves behind last, if not among
        them): a mail taken in after its reply finds the ticket the reply opened. Another
        ticket a later key leads to is never merged: the link is noted on the chosen one."""
        found: list[Ticket] = []
        for key in dict.fromkeys(k[:500] for k in (*inbound.thread_keys, inbound.thread_key)
                                 if k):
            ticket = self.key_tickets.get(key)
            if ticket is not None and all(ticket is not t for t in found):
                found.append(ticket)
        for other in found[1:]:
            self.audit(found[0], "thread_linked")
            self.links.append((self.audit_entries[-1], other))
        return found[0] if found else None

    def _open(self, inbound: InboundMessage, contact: Contact, html: str, sent_at: Any,
              linked_from: Ticket | None) -> tuple[Ticket, Message]:
        """A new ticket for the message (`open_ticket`'s rows, numbered as the run ends)."""
        channel, now = self.channel, timezone.now()
        # The subject, unless the message has one: its first line.
        subject = inbound.subject or (inbound.text.strip().splitlines() or [""])[0][:120]
        ticket = new_ticket(
            organization=self.org, number=0, contact=contact, subject=subject,
            origin=channel.kind, policy=self.policy(), now=now, description=inbound.text,
            channel=channel, created_at=sent_at)
        self.new_tickets.append(ticket)
        self.tags[id(ticket)] = []
        first = first_message(ticket, html=html, external_id=inbound.external_id)
        # An empty message (e.g. attachments only) still gets its entry, announced by none.
        message = first or Message(
            organization=self.org, ticket=ticket, direction=Direction.INBOUND, channel=channel,
            author_contact=contact, text=inbound.text, html=html,
            external_id=inbound.external_id, created_at=sent_at)
        self.messages.append(message)
        record_opening(self, ticket, first, [])
        if linked_from is not None:
            self.audit(ticket, "linked", after={"ticket": linked_from.pk})
        return ticket, message

    def _message(self, ticket: Ticket, contact: Contact, inbound: InboundMessage, html: str,
                 sent_at: Any) -> Message:
        message = Message(
            organization=self.org, ticket=ticket, direction=Direction.INBOUND,
            channel=self.channel, author_contact=contact, text=inbound.text, html=html,
            external_id=inbound.external_id, created_at=sent_at,
        )
        self.messages.append(message)
        return message

    def _touch(self, ticket: Ticket) -> bool:
        """The customer wrote again: reopen a finished ticket, wake a pending one."""
        before = ticket.status
        reopened = before not in OPEN_STATUSES
        now = timezone.now()
        if reopened or before == Status.PENDING:
            ticket.status = Status.OPEN
            self.audit(ticket, "reopened" if reopened else "status_changed", "status",
                       before, Status.OPEN)
        ticket.updated_at = now
        ticket.last_inbound_at = now
        fields = {"updated_at", "last_inbound_at"}
        if before != ticket.status:
            if ticket.pk is not None:
                self.load_policies()
            fields.add("status")
            fields.update(sla.track(ticket, now))
        if ticket.pk is not None:  # a stored ticket; a new one is inserted as it ends
            self.touched[ticket.pk] = ticket
            self.touched_fields |= fields
        payload = ticket_payload(ticket, list(self.tags[ticket.pk or id(ticket)]))
        if ticket.pk is None:  # a run of one would have read it back: datetimes in UTC
            payload["created_at"] = ticket.created_at.astimezone(UTC).isoformat()
        self.event("ticket.updated", payload, ticket)
        if before != ticket.status:
            self.event("ticket.status_changed", {**payload, "previous_status": before}, ticket)
        return reopened

    # --- the `Recorder` of the run's changes ------------------------------------------------
    def audit(self, ticket: Ticket, action: str, field: str = "", before: Any = None,
              after: Any = None) -> None:
        self.audit_entries.append(AuditEntry(
            organization=self.org, ticket=ticket, actor_label=self.actor_label,
            action=action, field=field, before=before, after=after))

    def event(self, event_type: str, payload: dict[str, Any], about: Ticket | Message) -> None:
        if isinstance(about, Ticket):
            self.ticket_payloads.append((payload, about))
        else:
            self.message_payloads.append((payload, about))
        self.events.append((event_type, payload))

    # --- step 3: write --------------------------------------------------------------------
    def write(self) -> None:
        create_contacts(self.org, self.new_contacts, self.new_identities)
        numbers = allocate_numbers(self.org.pk, len(self.new_tickets))
        for ticket, number in zip(self.new_tickets, numbers, strict=True):
            ticket.number = number
        bulk_insert(self.new_tickets)
        bulk_insert(self.messages)
        for entry, other in self.links:  # a ticket the run opened has its number only now
            entry.after = {"ticket": other.pk, "protocol": other.protocol}
        bulk_insert(self.audit_entries)
        # A key another delivery stored meanwhile keeps its ticket.
        bulk_insert(self.references, ignore_conflicts=True)
        # One plain statement: Django's bulk_update builds a CASE per row and field.
        if self.touched:
            bulk_update(list(self.touched.values()), sorted(self.touched_fields))
        if self.attachments:
            for row, data in self.attachments:  # where and how `store_attachment` saves it
                row.file.save(row.filename, ContentFile(data), save=False)
            bulk_insert([row for row, _data in self.attachments])
        for payload, ticket in self.ticket_payloads:
            if payload["id"] is None:
                payload.update(id=ticket.pk, number=ticket.number, protocol=ticket.protocol,
                               contact_id=ticket.contact_id)
        for payload, message in self.message_payloads:
            payload.update(id=message.pk, ticket_id=message.ticket_id,
                           author_contact_id=message.author_contact_id)
        emit_many(self.org.pk, self.events)
        for ticket in self.new_tickets:
            assignment.assign_on_commit(ticket)


def _identity(kind: str, value: str) -> Identity:
    return kind, normalize_identity(kind, value)


def ingest_run(channel: Channel, inbounds: Sequence[InboundMessage], *,
               first_delivery: bool = False) -> list[IngestResult | Exception]:
    """Ingest a run of `batchable` messages of one channel inside the caller's transaction
    (which the caller rolls back as a whole if this raises; `OneByOne`, never raised for a
    run of one, asks it to take the messages one by one). Each item ends as its
    IngestResult, or as the ValidationError of its sender's identities or the
    AttachmentTooLarge of one of its files."""
    run = _Run(channel, inbounds, first_delivery)
    run.load()
    results = run.decide()
    run.write()
    return results
