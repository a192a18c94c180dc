"""The receive flow: store the raw events of a webhook body first, then process each one
(ingest a message, apply a status) in a task. Safe against redeliveries and reordering:
events are keyed by the provider's id, ingest is idempotent on the wamid, statuses only
move forward, and entries are ordered by the provider's timestamp."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from atende.connectors.models import Channel, InboundEvent, InboundStatus
from atende.connectors.whatsapp import bot, inbound
from atende.connectors.whatsapp.client import ProviderError
from atende.connectors.whatsapp.out_of_hours import notify_if_closed
from atende.connectors.whatsapp.parts import apply_part_status
from atende.connectors.whatsapp.templates import send_event_template
from atende.tickets.errors import TicketError
from atende.tickets.models import DeliveryStatus, Message, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.ingest import ingest
from atende.tickets.services.replies import update_delivery_status

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5  # media downloads and statuses that overtook their message
PENDING = (InboundStatus.RECEIVED, InboundStatus.QUARANTINED)


def store_events(channel: Channel, payload: Any) -> list[int]:
    """Store every event of a body (duplicates are ignored) and return the ids still to be
    processed: the new ones and earlier ones that have not been processed yet. Processing
    is enqueued on commit, as one task for the whole body (in the body's order). Raises
    InvalidPayload for a body with nothing usable."""
    events = inbound.split_events(payload)
    with transaction.atomic():
        InboundEvent.objects.bulk_create(
            [InboundEvent(organization_id=channel.organization_id, channel=channel,
                          provider_id=e.provider_id, payload=e.data) for e in events],
            ignore_conflicts=True,
        )
        ids = list(InboundEvent.objects.filter(
            channel=channel, provider_id__in=[e.provider_id for e in events],
            status__in=PENDING).values_list("pk", flat=True))
        if ids:
            schedule_processing(channel.pk, ids)
    return ids


def schedule_processing(channel_id: int, event_ids: list[int]) -> None:
    """Have stored events processed (on commit: the task backend enqueues on commit). The
    one contract between the acknowledgement path and the processing side."""
    from atende.connectors.whatsapp.tasks import process_whatsapp_events

    process_whatsapp_events.enqueue(sorted(event_ids))


def keep_invalid(channel: Channel, body: bytes, error: str) -> InboundEvent:
    """A body that cannot be read is kept, quarantined, for an admin to look at."""
    digest = hashlib.sha256(body).hexdigest()
    event, _created = InboundEvent.objects.get_or_create(
        channel=channel, provider_id=f"invalid:{digest}",
        defaults={"organization_id": channel.organization_id,
                  # NUL is the one character PostgreSQL's jsonb cannot hold.
                  "payload": {"body": body[:100_000].decode("utf-8", "replace")
                              .replace("\x00", "\ufffd")},
                  "status": InboundStatus.QUARANTINED, "error": error[:4000],
                  "processed_at": timezone.now()},
    )
    return event


def process_events(event_ids: list[int]) -> list[str]:
    """Process the events of one webhook body, oldest first (ids follow arrival order)."""
    results = []
    for event_id in sorted(event_ids):
        try:
            results.append(process_event(event_id))
        except Exception:  # one bad event must not keep the body's others from processing
            logger.exception("WhatsApp event %s could not be processed", event_id)
            results.append("error")
    return results


def process_event(event_id: int, attempt: int = 0) -> str:
    """Process one stored event; returns its resulting status. Never raises for bad input:
    the event is quarantined with the reason instead."""
    event = InboundEvent.objects.select_related(
        "channel__organization", "channel__business_calendar", "channel__service",
    ).get(pk=event_id)
    if event.status not in PENDING:
        return str(event.status)
    channel = event.channel
    kind = event.payload.get("kind")
    with translation.override(channel.organization.language):
        try:
            if kind == "message":
                return _message(event, channel, attempt)
            if kind == "status":
                return _status(event, channel, attempt)
            return _finish(event, InboundStatus.QUARANTINED,
                           f"provider error: {event.payload.get('errors')}"[:4000])
        except ValidationError as exc:
            return _finish(event, InboundStatus.QUARANTINED, "ValidationError: "
                           + " ".join(str(m) for m in exc.messages))
        except Exception as exc:
            logger.exception("WhatsApp event %s of channel %s failed", event.pk, channel.pk)
            return _finish(event, InboundStatus.QUARANTINED, f"{type(exc).__name__}: {exc}")


def reprocess_event(event: InboundEvent) -> None:
    """Process a quarantined event again, now (an admin asked for it); a body that could
    not be read is split and stored again, its events processed as if newly received."""
    if event.provider_id.startswith("invalid:"):
        try:
            payload = json.loads(str(event.payload.get("body") or ""))
            store_events(event.channel, payload)
        except (ValueError, inbound.InvalidPayload) as exc:
            _finish(event, InboundStatus.QUARANTINED, f"{type(exc).__name__}: {exc}")
            return
        _finish(event, InboundStatus.PROCESSED, "stored again as separate events")
        return
    process_event(event.pk)


def _message(event: InboundEvent, channel: Channel, attempt: int) -> str:
    at_bot = bot.route(event, channel)
    if at_bot is not None:  # no ticket yet: the bot has the conversation
        return _finish(event, InboundStatus.PROCESSED,
                       f"with the bot (conversation {at_bot.conversation_id})")
    try:
        message = inbound.to_inbound(channel, event.payload)
    except ProviderError as exc:
        if exc.retryable and attempt + 1 < MAX_ATTEMPTS:
            return _later(event, attempt, f"media download: {exc}")
        logger.warning("WhatsApp media of event %s not downloaded: %s", event.pk, exc)
        message = inbound.to_inbound(channel, event.payload, media_error=str(exc))
    result = ingest(message, channel)
    if result.created_ticket:
        confirm_opening(channel, result.ticket)
    if not result.duplicate:
        _out_of_hours(channel, result.ticket, result.message)
    return _finish(event, InboundStatus.DUPLICATE if result.duplicate else InboundStatus.PROCESSED,
                   message=result.message)


def _out_of_hours(channel: Channel, ticket: Ticket, message: Message) -> None:
    """A failure to send the notice is logged and never loses the customer's message."""
    try:
        notify_if_closed(channel, ticket, message.created_at)
    except TicketError as exc:
        logger.warning("out-of-hours message for ticket %s not sent: %s", ticket.pk, exc)


def confirm_opening(channel: Channel, ticket: Ticket) -> None:
    """The template mapped to "opening confirmation", if any; a failure to send it is
    logged and never loses the customer's message."""
    if not (channel.settings.get("templates") or {}).get("opening"):
        return
    try:
        send_event_template(ticket, "opening", Actor(label=f"channel:{channel.pk}"))
    except (TicketError, ProviderError) as exc:
        logger.warning("opening template for ticket %s not sent: %s", ticket.pk, exc)


def _status(event: InboundEvent, channel: Channel, attempt: int) -> str:
    update = inbound.to_status(event.payload)
    if update is None:
        return _finish(event, InboundStatus.PROCESSED)
    status, reason = update.status, update.reason
    message: Message | None
    applied = apply_part_status(channel, update.external_id, status, reason)
    if applied is not None:
        message, status, reason = applied
    else:  # sent before parts were recorded
        message = Message.objects.for_org(channel.organization_id).filter(
            channel=channel, external_id=update.external_id).first()
    if message is None and bot.is_bot_answer(channel, update.external_id):
        return _finish(event, InboundStatus.PROCESSED, "an answer of the bot")
    if message is None or message.delivery_status == DeliveryStatus.QUEUED:
        # The status may have overtaken the send's answer (the wamid is not stored yet, or
        # the other parts are still going out); the part's own status is kept meanwhile.
        if attempt + 1 < MAX_ATTEMPTS:
            return _later(event, attempt, "no message with this id yet")
        return _finish(event, InboundStatus.PROCESSED, "no message with this id" if message
                       is None else "the message was still being sent; the part's status is kept")
    update_delivery_status(message, status, reason=reason, at=update.at)
    return _finish(event, InboundStatus.PROCESSED, message=message)


def _later(event: InboundEvent, attempt: int, error: str) -> str:
    InboundEvent.objects.filter(pk=event.pk).update(error=error[:4000])
    from atende.connectors.whatsapp.tasks import process_whatsapp_event

    run_after = timezone.now() + timedelta(seconds=5 * 2 ** attempt)
    process_whatsapp_event.using(run_after=run_after).enqueue(event.pk, attempt + 1)
    return str(InboundStatus.RECEIVED)


def _finish(event: InboundEvent, status: str, error: str = "",
            message: Message | None = None) -> str:
    InboundEvent.objects.filter(pk=event.pk).update(
        status=status, error=error[:4000], message=message, processed_at=timezone.now())
    return status
