"""The raw-event pipeline every channel goes through.

    store raw (deduplicated by the provider's id) → parse (the connector) → ingest
    → processed | duplicate | quarantined with a reason → "process again"

A connector receives its provider's delivery, stores it here before it answers, and has it
processed: its `parse` turns the raw event into an `InboundMessage`, the ticket domain
ingests it (`tickets.services.inbound_events`), and the outcome is written on the event
here. Group commit (WhatsApp) and mailbox batches (e-mail) are ways of calling these steps
with many events at once, not copies of them.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from atende.bulk_update import bulk_update
from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.channels.reasons import cap, reason
from atende.channels.registry import UnknownChannelKind, get_connector

# Statuses an event is still to be processed in: new, or failed and to be tried again.
PENDING = (InboundStatus.RECEIVED, InboundStatus.QUARANTINED)
OUTCOME_FIELDS = ["status", "error", "message", "processed_at"]


class NotReprocessable(LookupError):
    """No connector of this channel kind can process its events again."""


def new_event(channel: Channel, provider_id: str, payload: dict[str, Any]) -> InboundEvent:
    """An unsaved event row (for a batch's single insert)."""
    return InboundEvent(organization_id=channel.organization_id, channel=channel,
                        provider_id=provider_id[:255], payload=payload)


def store(channel: Channel, provider_id: str, payload: dict[str, Any]) -> tuple[
        InboundEvent, bool]:
    """Store one raw event, or find the stored one with this provider id; returns it and
    whether it is new. A redelivery of an event not processed yet (waiting, or
    quarantined) replaces its payload: the sender's retry carries what is to be processed.
    Runs in its own savepoint, so a caller may go on after a conflict."""
    try:
        with transaction.atomic():
            return InboundEvent.objects.create(
                organization_id=channel.organization_id, channel=channel,
                provider_id=provider_id[:255], payload=payload), True
    except IntegrityError:
        event = InboundEvent.objects.get(channel=channel, provider_id=provider_id[:255])
    if event.status in PENDING and event.payload != payload:
        event.payload = payload
        InboundEvent.objects.filter(pk=event.pk).update(payload=payload)
    return event, False


def finish(event: InboundEvent, status: str, *, message_id: int | None = None,
           note: str = "", save: bool = True) -> str:
    """Write the outcome on the event: its status, the entry it became, and why (in the
    words of `channels.reasons`). `save=False` leaves the write to a batch's single
    update (`save_outcomes`)."""
    event.status, event.message_id = status, message_id
    event.error, event.processed_at = cap(note), timezone.now()
    if save:
        save_outcomes([event])
    return status


def quarantine(event: InboundEvent, failure: BaseException | str, *,
               save: bool = True) -> str:
    """The event failed: kept, with the reason, for an admin to process again."""
    note = failure if isinstance(failure, str) else reason(failure)
    return finish(event, InboundStatus.QUARANTINED, note=note, save=save)


def processed(event: InboundEvent, message_id: int | None, *, duplicate: bool = False,
              note: str = "", save: bool = True) -> str:
    status = InboundStatus.DUPLICATE if duplicate else InboundStatus.PROCESSED
    return finish(event, status, message_id=message_id, note=note, save=save)


def save_outcomes(events: list[InboundEvent]) -> None:
    """The outcomes of events set by `finish(save=False)`: one statement per event, or one
    for a batch on the bulk path (`bulk_update`)."""
    if len(events) == 1:
        event = events[0]
        InboundEvent.objects.filter(pk=event.pk).update(
            status=event.status, error=event.error, message_id=event.message_id,
            processed_at=event.processed_at)
    elif events:
        bulk_update(events, OUTCOME_FIELDS)


def can_process_again(kind: str) -> bool:
    try:
        get_connector(kind)
    except UnknownChannelKind:
        return False
    return True


def process_again(event: InboundEvent) -> str:
    """Process a quarantined event again through its connector (an admin asked, after a
    fix or a passing failure); returns the status it ends with. Idempotent: an event that
    is not quarantined (processed meanwhile) is left alone."""
    try:
        connector = get_connector(event.channel.kind)
    except UnknownChannelKind:
        raise NotReprocessable(event.channel.kind) from None
    # Back to "received" in one statement: of two clicks, one wins.
    if not InboundEvent.objects.filter(pk=event.pk, status=InboundStatus.QUARANTINED).update(
            status=InboundStatus.RECEIVED, error=""):
        return str(InboundEvent.objects.filter(pk=event.pk).values_list(
            "status", flat=True).first())
    event.status, event.error = InboundStatus.RECEIVED, ""
    connector.process(event.channel, [event])
    return str(InboundEvent.objects.filter(pk=event.pk).values_list("status", flat=True).get())
