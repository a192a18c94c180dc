"""The one inbound pipeline every channel feeds: `ingest(InboundMessage)`."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import nh3
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from atende.channels.connector import InboundMessage
from atende.channels.models import Channel
from atende.contacts.models import Contact
from atende.contacts.services import add_identity, find_or_create_contact
from atende.events import emit
from atende.tickets.models import (
    OPEN_STATUSES,
    Direction,
    Message,
    Status,
    ThreadReference,
    Ticket,
)
from atende.tickets.payloads import message_payload, ticket_payload
from atende.tickets.services import audit, sla
from atende.tickets.services.actor import Actor
from atende.tickets.services.attachments import store_attachment
from atende.tickets.services.create import open_ticket

logger = logging.getLogger(__name__)

@dataclass(frozen=True)
class IngestResult:
    ticket: Ticket
    message: Message
    created_ticket: bool = False
    duplicate: bool = False
    reopened: bool = False


# `cid:` stays: inline images of an e-mail point at its parts (resolved when shown).
URL_SCHEMES = nh3.ALLOWED_URL_SCHEMES | {"cid"}


def sanitize_html(html: str) -> str:
    return nh3.clean(html, url_schemes=URL_SCHEMES) if html else ""


def _existing(channel: Channel, external_id: str) -> Message | None:
    if not external_id:
        return None
    # The redundant `<> ''` lets SQLite use the partial unique index (channel, external_id);
    # without it the lookup scans every message of the channel.
    found = Message.objects.filter(~Q(external_id=""), channel=channel, external_id=external_id)
    if not found.exists():  # the common case: skip building the joined query
        return None
    return found.select_related("ticket").first()


def _find_thread(channel: Channel, keys: tuple[str, ...]) -> Ticket | None:
    """The ticket a thread key leads to, locked (the message is appended to it).

    Two steps on purpose: as one join ordered by `updated_at` with LIMIT 1, PostgreSQL
    walked the tickets by their update index until one matched, i.e. every ticket of the
    organisation for a new customer (no reference): 80 ms per event at 3,000 tickets. The
    references come from their (channel, key) unique index; only a reply locks a ticket."""
    if not keys:
        return None
    ticket_ids = list(
        ThreadReference.objects.filter(channel=channel, key__in=[k[:500] for k in keys])
        .values_list("ticket_id", flat=True)
    )
    if not ticket_ids:
        return None
    return (
        Ticket.objects.select_for_update()
        .filter(organization_id=channel.organization_id, pk__in=ticket_ids)
        .order_by("-updated_at")
        .first()
    )


def ingest(inbound: InboundMessage, channel: Channel | None = None, *,
           first_delivery: bool = False) -> IngestResult:
    """Turn one normalised inbound message into a ticket entry.

    Idempotent on (channel, external_id): a redelivery returns the stored message with
    `duplicate=True`, also when two deliveries race. One transaction: contact, thread
    lookup, ticket, message, attachments, audit; events are sent on commit.
    Raises django ValidationError when the sender's identity is invalid.
    A caller that already holds the channel (a poller, freshly loaded) passes it to save
    re-reading it per message. `first_delivery`: the caller's own dedupe (an inbound event
    created in this transaction) says the message is new, so the lookup is skipped; a
    duplicate still ends as one, through the unique constraint.
    """
    if channel is None or channel.pk != inbound.channel_id:
        channel = Channel.objects.select_related("organization", "service").get(
            pk=inbound.channel_id)
    existing = None if first_delivery else _existing(channel, inbound.external_id)
    if existing is not None:
        return IngestResult(existing.ticket, existing, duplicate=True)
    try:
        return _ingest(channel, inbound)
    except IntegrityError:
        # A concurrent delivery of the same message won the unique constraint.
        existing = _existing(channel, inbound.external_id)
        if existing is None:
            raise
        return IngestResult(existing.ticket, existing, duplicate=True)


def ingest_many(channel: Channel, inbounds: Sequence[InboundMessage], *,
                first_delivery: bool = False) -> list[IngestResult | Exception]:
    """Ingest several messages of one channel, in order, inside the caller's transaction.

    Each item ends as its IngestResult or as the exception that stopped it; a failed item is
    rolled back alone and never keeps the others from being stored. Same semantics as
    calling `ingest` for each message in turn.

    Consecutive messages of this channel (`ingest_batch.batchable`; with attachments,
    ticket-number tokens and extra identities too) go through the set-based path with a
    constant number of statements per run; one naming another channel through `ingest`.
    If a set-based run fails unexpectedly, or cannot be decided in bulk
    (`ingest_batch.OneByOne`), it is redone message by message."""
    from atende.tickets.services import ingest_batch

    results: list[IngestResult | Exception] = []
    start = 0
    while start < len(inbounds):
        end = start
        while end < len(inbounds) and ingest_batch.batchable(inbounds[end], channel):
            end += 1
        if end == start:  # an unusual message: the per-message path
            results.append(_ingest_one(channel, inbounds[start], first_delivery))
            start += 1
            continue
        run = inbounds[start:end]
        try:
            with transaction.atomic():
                results.extend(ingest_batch.ingest_run(channel, run,
                                                       first_delivery=first_delivery))
        except ingest_batch.OneByOne as why:
            logger.debug("ingest of %s messages on channel %s one by one: %s", len(run),
                         channel.pk, why)
            results.extend(_ingest_one(channel, inbound, first_delivery) for inbound in run)
        except Exception:  # e.g. a concurrent insert of the same contact: one by one
            logger.warning("set-based ingest of %s messages on channel %s failed; one by one",
                        len(run), channel.pk, exc_info=True)
            results.extend(_ingest_one(channel, inbound, first_delivery) for inbound in run)
        start = end
    return results


def _ingest_one(channel: Channel, inbound: InboundMessage,
                first_delivery: bool) -> IngestResult | Exception:
    try:
        with transaction.atomic():
            return ingest(inbound, channel, first_delivery=first_delivery)
    except Exception as exc:  # reported to the caller, who quarantines that item
        return exc


@transaction.atomic
def _ingest(channel: Channel, inbound: InboundMessage) -> IngestResult:
    org = channel.organization
    actor = Actor(label=f"channel:{channel.pk}")
    contact = find_or_create_contact(org, inbound.contact.kind, inbound.contact.value,
                                     inbound.contact.name)
    for extra in inbound.extra_identities:
        add_identity(contact, extra.kind, extra.value)
    html = sanitize_html(inbound.html)
    sent_at = inbound.sent_at or timezone.now()

    ticket = _find_thread(channel, inbound.thread_keys)
    if ticket is None and inbound.ticket_number:
        ticket = Ticket.objects.select_for_update().filter(
            organization=org, number=inbound.ticket_number).first()
    linked_from = None
    if ticket is not None and ticket.status == Status.CLOSED and not inbound.reopen_closed:
        linked_from, ticket = ticket, None
    created = reopened = False
    if ticket is None:
        subject = inbound.subject or (inbound.text.strip().splitlines() or [""])[0][:120]
        ticket, first = open_ticket(
            organization=org, contact=contact, subject=subject, actor=actor, origin=channel.kind,
            description=inbound.text, description_html=html, channel=channel,
            first_message_external_id=inbound.external_id, created_at=sent_at,
        )
        created = True
        if linked_from is not None:
            audit.record(ticket, actor, "linked", after={"ticket": linked_from.pk})
        if first is None:  # an empty message (e.g. attachment only) still gets its entry
            first = _append(ticket, channel, contact, inbound, html, sent_at)
        message = first
    else:  # already locked by the lookup above
        message = _append(ticket, channel, contact, inbound, html, sent_at)
        reopened = _touch_on_inbound(ticket, actor)
        emit(org.pk, "message.created", message_payload(message))

    for attachment in inbound.attachments:
        store_attachment(message, attachment.filename, attachment.content_type, attachment.data)
    keys = {k[:500] for k in (*inbound.thread_keys, inbound.thread_key) if k}
    # One statement; a key already leading to a ticket keeps its ticket (ON CONFLICT DO NOTHING).
    ThreadReference.objects.bulk_create(
        [ThreadReference(organization=org, channel=channel, key=key, ticket=ticket)
         for key in sorted(keys)], ignore_conflicts=True)
    return IngestResult(ticket, message, created_ticket=created, reopened=reopened)


def _append(ticket: Ticket, channel: Channel, contact: Contact, inbound: InboundMessage,
            html: str, sent_at: datetime) -> Message:
    return Message.objects.create(
        organization_id=ticket.organization_id, ticket=ticket, direction=Direction.INBOUND,
        channel=channel, author_contact=contact, text=inbound.text, html=html,
        external_id=inbound.external_id, created_at=sent_at,
    )


def _touch_on_inbound(ticket: Ticket, actor: Actor) -> bool:
    """The customer wrote again: reopen a finished ticket, wake a pending one."""
    before = ticket.status
    reopened = before not in OPEN_STATUSES
    if reopened or before == Status.PENDING:
        ticket.status = Status.OPEN
        audit.record(ticket, actor, "reopened" if reopened else "status_changed", "status",
                     before, Status.OPEN)
    ticket.updated_at = timezone.now()
    ticket.last_inbound_at = ticket.updated_at
    fields = ["status", "updated_at", "last_inbound_at"]
    if before != ticket.status:
        fields += sla.track(ticket, ticket.updated_at)
    ticket.save(update_fields=fields)
    payload = ticket_payload(ticket)
    emit(ticket.organization_id, "ticket.updated", payload)
    if before != ticket.status:
        emit(ticket.organization_id, "ticket.status_changed",
             {**payload, "previous_status": before})
    return reopened
