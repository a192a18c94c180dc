"""The receive flow: store the raw events of a webhook body first, then process each one
(ingest a message, apply a status) in a task. Safe against redeliveries and reordering:
events are keyed by the provider's id, ingest is idempotent on the wamid, statuses only
move forward, and entries are ordered by the provider's timestamp."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation

from atende import json_input
from atende.channels import pipeline, survey_replies
from atende.channels.connector import InboundMessage
from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.channels.reasons import Unreadable, cap, reason
from atende.connectors.whatsapp import bot, inbound
from atende.connectors.whatsapp.client import ProviderError
from atende.connectors.whatsapp.out_of_hours import notify_if_closed
from atende.connectors.whatsapp.parts import apply_part_status
from atende.connectors.whatsapp.templates import send_event_template
from atende.tickets.errors import TicketError
from atende.tickets.models import DeliveryStatus, Message, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.inbound_events import ingest_events
from atende.tickets.services.replies import update_delivery_status

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5  # media downloads and statuses that overtook their message
PENDING = pipeline.PENDING
DRAIN_BATCH = 500  # events per transaction of a drain
DRAIN_ROUNDS = 20  # then the drain hands over to a new task
# How long a "drain queued" flag or a "drain at work" mark lives unless renewed. A drain
# lost with its worker (kill -9) leaves them up: a worker that starts takes them down and
# drains again (`stalled.resume_drains`); with no restart, the periodic sweep does.
DRAIN_FLAG_SECONDS = 60
# A quarantined event the provider delivers again is processed again, this many times at
# most: a quarantine from a passing failure heals by itself, a bad one stays put.
MAX_REDELIVERY_RETRIES = 3


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
        found = list(InboundEvent.objects.filter(
            channel=channel, provider_id__in=[e.provider_id for e in events],
            status__in=PENDING).values_list("pk", "status", "redelivery_retries"))
        again = [pk for pk, status, retries in found if status == InboundStatus.QUARANTINED
                 and retries < MAX_REDELIVERY_RETRIES]
        if again:
            retry_redelivered(again)
        ids = [pk for pk, status, _retries in found
               if status == InboundStatus.RECEIVED or pk in again]
        if ids:
            schedule_processing(channel.pk, ids)
    return ids


def retry_redelivered(event_ids: list[int]) -> None:
    """Quarantined events the provider delivered again go back to be processed (the
    group commit does the same in its INSERT): the drains take them like new ones."""
    InboundEvent.objects.filter(
        pk__in=event_ids, status=InboundStatus.QUARANTINED,
        redelivery_retries__lt=MAX_REDELIVERY_RETRIES,
    ).update(status=InboundStatus.RECEIVED, error="", processed_at=None,
             redelivery_retries=F("redelivery_retries") + 1)


def schedule_processing(channel_id: int, event_ids: list[int]) -> None:
    """Have stored events processed, once the storing transaction commits. The one contract
    between the acknowledgement path and the processing side.

    Processing drains the channel: one task takes every pending event of the channel
    (`drain_channel`). With a shared cache (Redis) a flag per channel says "a drain is
    queued and has not started reading yet", so a burst of webhook bodies enqueues one task,
    not one per body; the drain clears the flag before it reads, so an event committed
    after that enqueues the next drain. The flag is set after commit on purpose: set
    before, a drain could clear it and read between the set and the commit, and miss the
    event. With a per-process cache (the embedded profile) every body enqueues a drain.

    On PostgreSQL with Redis a channel's events are split in `drain_shards()` shards by
    the customer's number (`SHARD_KEY`): one flag and one drain per shard, so that many
    drains work on one channel at once while each conversation stays in one drain, in
    order."""
    if event_ids:
        ids = sorted(event_ids)
        transaction.on_commit(lambda: request_drain(channel_id, ids))


def _shared_cache() -> bool:
    return "redis" in str(settings.CACHES["default"]["BACKEND"]).lower()


def drain_shards() -> int:
    """How many drains may work on one channel at once. One without Redis (a flag per
    shard needs a shared cache) or on SQLite (one writer at a time anyway)."""
    if not (settings.IS_POSTGRES and _shared_cache()):
        return 1
    return max(1, int(getattr(settings, "WHATSAPP_DRAIN_SHARDS", 1)))


# The conversation of an event as a number: the last 8 digits of the customer's number
# (the sender of a message, the recipient of a status; 0 for a provider error). A
# Brazilian mobile with and without its ninth digit ends the same, so both spellings of
# one person fall in one shard. Evaluated by PostgreSQL on the pending rows only.
SHARD_KEY = ("COALESCE(NULLIF(right(regexp_replace(COALESCE(payload->'message'->>'from', "
             "payload->'status'->>'recipient_id', ''), '[^0-9]', '', 'g'), 8), ''), "
             "'0')::bigint")


def _drain_flag(channel_id: int, shard: int = 0, shards: int = 1) -> str:
    suffix = "" if shards == 1 else f":{int(shard)}-{int(shards)}"
    return f"whatsapp:drain-queued:{int(channel_id)}{suffix}"


def _drain_running(channel_id: int, shard: int = 0, shards: int = 1) -> str:
    return _drain_flag(channel_id, shard, shards).replace("drain-queued", "drain-running")


def drain_is_running(channel_id: int, shard: int = 0, shards: int = 1) -> bool:
    """A drain of this shard took events within the last DRAIN_FLAG_SECONDS."""
    try:
        return bool(cache.get(_drain_running(channel_id, shard, shards)))
    except Exception:  # the cache is down: say no, a drain too many is harmless
        return False


def request_drain(channel_id: int, event_ids: list[int], *, unless_running: bool = False
                  ) -> int:
    """Have every shard of the channel drained (a drain already queued is enough; with
    `unless_running`, so is one at work). Returns the shards asked for."""
    shards = drain_shards()
    asked = 0
    for shard in range(shards):
        if unless_running and drain_is_running(channel_id, shard, shards):
            continue
        _request_drain(channel_id, event_ids, shard, shards)
        asked += 1
    return asked


def _request_drain(channel_id: int, event_ids: list[int], shard: int = 0,
                   shards: int = 1) -> None:
    flagged = False
    if _shared_cache():
        try:
            if not cache.add(_drain_flag(channel_id, shard, shards), 1, DRAIN_FLAG_SECONDS):
                return  # a queued drain will read these events
            flagged = True
        except Exception:  # the cache is down: enqueue anyway, never lose the events
            logger.warning("WhatsApp drain flag of channel %s not set", channel_id,
                           exc_info=True)
    enqueue_drain(channel_id, event_ids, shard, shards, flagged=flagged)


def clear_drain_flags(channel_id: int) -> None:
    """Take down every shard's "drain queued" flag and "drain at work" mark of a channel
    (a worker starting: the drains they stood for may have died with another one)."""
    if not _shared_cache():
        return
    shards = drain_shards()
    cache.delete_many([key(channel_id, shard, shards) for shard in range(shards)
                       for key in (_drain_flag, _drain_running)])


def drain_flag_keys(channel_id: int) -> list[str] | None:
    """The Redis keys of the channel's "drain queued" flags, one per shard in order, as
    the cache writes them (for a caller setting them itself: SET NX, value 1, expiring
    after DRAIN_FLAG_SECONDS, then `enqueue_drain` for each one it set); None without a
    shared cache."""
    if not _shared_cache():
        return None
    shards = drain_shards()
    return [cache.make_and_validate_key(_drain_flag(channel_id, shard, shards))
            for shard in range(shards)]


def enqueue_drain(channel_id: int, event_ids: list[int], shard: int = 0,
                  shards: int = 1, *, flagged: bool = False) -> None:
    """The drain task itself, its flag already set by the caller (`flagged`) or no cache
    to hold one. A flag whose task could not be enqueued is taken down again: left up, it
    would keep the next deliveries from enqueuing one for a minute."""
    from atende.connectors.whatsapp.tasks import drain_whatsapp_channel

    try:
        if shards == 1:
            drain_whatsapp_channel.enqueue(channel_id, event_ids)
        else:
            drain_whatsapp_channel.enqueue(channel_id, event_ids, shard, shards)
    except Exception:
        if flagged:
            try:
                cache.delete(_drain_flag(channel_id, shard, shards))
            except Exception:
                logger.warning("WhatsApp drain flag of channel %s not taken down",
                               channel_id, exc_info=True)
        raise


def keep_invalid(channel: Channel, body: bytes, exc: Exception) -> InboundEvent:
    """A body that cannot be read is kept, quarantined, for an admin to look at."""
    digest = hashlib.sha256(body).hexdigest()
    event, _created = InboundEvent.objects.get_or_create(
        channel=channel, provider_id=f"invalid:{digest}",
        defaults={"organization_id": channel.organization_id,
                  # NUL is the one character PostgreSQL's jsonb cannot hold.
                  "payload": {"body": body[:100_000].decode("utf-8", "replace")
                              .replace("\x00", "\ufffd")},
                  "status": InboundStatus.QUARANTINED,
                  "error": reason(Unreadable.of(exc)),
                  "processed_at": timezone.now()},
    )
    return event


def drain_channel(channel_id: int, event_ids: list[int] | None = None, shard: int = 0,
                  shards: int = 1) -> int:
    """Process every pending event of a channel (of its `shard` of `shards`: see
    `SHARD_KEY`), oldest first, DRAIN_BATCH at a time (message events ingested together,
    see `process_batch`). `event_ids`: events the webhook named, processed even when
    waiting for a delayed retry (a redelivery retries them now); the other events waiting
    for their retry (`_later`) are left to it. Returns how many were taken."""
    if _shared_cache():
        try:  # before reading: see schedule_processing
            cache.delete(_drain_flag(channel_id, shard, shards))
        except Exception:
            logger.warning("WhatsApp drain flag of channel %s not cleared", channel_id,
                           exc_info=True)
    channel = Channel.objects.select_related(
        "organization", "business_calendar", "service__business_calendar",
    ).filter(pk=channel_id).first()
    if channel is None:
        return 0
    named = sorted(set(event_ids or ()))
    taken = 0
    for round_ in range(DRAIN_ROUNDS):
        fresh = Q(error="") | Q(pk__in=named) if named else Q(error="")
        pending = InboundEvent.objects.filter(fresh, status=InboundStatus.RECEIVED,
                                              channel=channel)
        if shards > 1:  # SHARD_KEY is a constant; the shards come as parameters
            key = RawSQL(f"mod({SHARD_KEY}, %s)", (shards,))  # noqa: S611
            pending = pending.alias(shard=key).filter(shard=shard)
        events = list(pending.order_by("pk")[:DRAIN_BATCH])
        named = []
        process_batch(channel, events)
        taken += len(events)
        if len(events) < DRAIN_BATCH:
            if round_:
                _mark_running(channel_id, shard, shards, running=False)
            return taken
        # A backlog (a full batch): tell the sweep a drain is at work. Not before: a
        # drain of one short batch costs no cache call for it.
        _mark_running(channel_id, shard, shards)
    # A long backlog: let other tasks run in between.
    _request_drain(channel_id, [], shard, shards)
    return taken


def _mark_running(channel_id: int, shard: int, shards: int, *, running: bool = True
                  ) -> None:
    """For the sweep of stalled channels (`stalled.py`): a drain is at work here."""
    try:
        if running:
            cache.set(_drain_running(channel_id, shard, shards), 1, DRAIN_FLAG_SECONDS)
        else:
            cache.delete(_drain_running(channel_id, shard, shards))
    except Exception:  # only the sweep reads it: it may request a drain too many
        logger.warning("WhatsApp drain mark of channel %s not set", channel_id,
                       exc_info=True)


def process_batch(channel: Channel, events: list[InboundEvent]) -> None:
    """Process loaded events of one channel in order. Statuses and errors one by one;
    customer messages are routed (bot), converted (media downloaded, per event) and then
    ingested together with `ingest_many`, their events finished in the same transaction.
    Never raises for one bad event: it is quarantined with the reason."""
    pending: list[tuple[InboundEvent, InboundMessage]] = []
    with translation.override(channel.organization.language):
        for event in events:
            if event.status not in PENDING:
                continue
            try:
                if event.payload.get("kind") == "message":
                    message = _prepare(event, channel, 0)
                    if message is not None:
                        pending.append((event, message))
                else:
                    _process_loaded(event, channel, 0)
            except Exception as exc:
                _quarantine(event, channel, exc)
        if pending:
            _ingest_events(channel, pending)


def _ingest_events(channel: Channel, pending: list[tuple[InboundEvent, InboundMessage]]
                   ) -> None:
    with transaction.atomic():
        taken = ingest_events(channel, pending)
    for _event, result in taken:  # after commit, in order, as each event did before
        if isinstance(result, Exception):
            continue
        try:
            if result.created_ticket:
                confirm_opening(channel, result.ticket)
            if not result.duplicate:
                _out_of_hours(channel, result.ticket, result.message)
        except Exception:  # the message is stored; a notice failing must not stop others
            logger.exception("WhatsApp notices for ticket %s failed", result.ticket.pk)


def _quarantine(event: InboundEvent, channel: Channel, exc: Exception) -> str:
    if not isinstance(exc, ValidationError | Unreadable):
        logger.error("WhatsApp event %s of channel %s failed", event.pk, channel.pk,
                     exc_info=exc)
    return pipeline.quarantine(event, exc)


def process_event(event_id: int, attempt: int = 0) -> str:
    """Process one stored event; returns its resulting status. Never raises for bad input:
    the event is quarantined with the reason instead."""
    event = InboundEvent.objects.select_related(
        "channel__organization", "channel__business_calendar",
        "channel__service__business_calendar",
    ).get(pk=event_id)
    if event.status not in PENDING:
        return str(event.status)
    channel = event.channel
    with translation.override(channel.organization.language):
        try:
            return _process_loaded(event, channel, attempt)
        except Exception as exc:
            return _quarantine(event, channel, exc)


def _process_loaded(event: InboundEvent, channel: Channel, attempt: int) -> str:
    kind = event.payload.get("kind")
    if kind == "message":
        return _message(event, channel, attempt)
    if kind == "status":
        return _status(event, channel, attempt)
    return _finish(event, InboundStatus.QUARANTINED,
                   f"provider error: {event.payload.get('errors')}")


def process_stored(channel: Channel, events: list[InboundEvent]) -> None:
    """Stored events processed now (an admin's "process again"); a body that could not be
    read is split and stored again, its events processed as if newly received."""
    for event in events:
        if not event.provider_id.startswith("invalid:"):
            continue
        try:
            payload = json_input.loads(str(event.payload.get("body") or ""))
            store_events(channel, payload)
        except (ValueError, inbound.InvalidPayload) as exc:
            pipeline.quarantine(event, Unreadable.of(exc))
            continue
        _finish(event, InboundStatus.PROCESSED, "stored again as separate events")
    process_batch(channel, [e for e in events if not e.provider_id.startswith("invalid:")])


def _prepare(event: InboundEvent, channel: Channel, attempt: int) -> InboundMessage | None:
    """The message to ingest, or None when the event is finished (kept at the bot) or
    waits for a retry (media download)."""
    if _survey_answer(event, channel):
        return None
    at_bot = bot.route(event, channel)
    if at_bot is not None:  # no ticket yet: the bot has the conversation
        _finish(event, InboundStatus.PROCESSED,
                f"with the bot (conversation {at_bot.conversation_id})")
        return None
    try:
        return parse(channel, event)
    except ProviderError as exc:
        if exc.retryable and attempt + 1 < MAX_ATTEMPTS:
            _later(event, attempt, f"media download: {exc}")
            return None
        logger.warning("WhatsApp media of event %s not downloaded: %s", event.pk, exc)
        return inbound.to_inbound(channel, event.payload, media_error=str(exc))


def _survey_answer(event: InboundEvent, channel: Channel) -> bool:
    """A reply to a satisfaction survey, recorded and finished before the bot could take
    the digit as a menu choice; media and other types are never one (nothing fetched)."""
    item = event.payload.get("message")
    if not isinstance(item, dict) or item.get("type") not in ("text", "interactive"):
        return False
    try:
        message = inbound.to_inbound(channel, event.payload)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError, ValidationError,
            inbound.InvalidPayload):
        return False  # parsing proper reports it
    with transaction.atomic():
        if not survey_replies.take(channel, message):
            return False
        _finish(event, InboundStatus.PROCESSED, "satisfaction survey answer")
    return True


def parse(channel: Channel, event: InboundEvent) -> InboundMessage:
    """A stored message event as the customer's message (its media downloaded)."""
    if event.provider_id.startswith("invalid:"):  # a whole body, kept unread (keep_invalid)
        try:
            inbound.split_events(json_input.loads(str(event.payload.get("body") or "")))
        except (ValueError, inbound.InvalidPayload) as exc:
            raise Unreadable.of(exc) from exc
        raise Unreadable("a whole webhook body: process it again to store its events")
    try:
        return inbound.to_inbound(channel, event.payload)
    except (KeyError, TypeError, AttributeError, IndexError, inbound.InvalidPayload) as exc:
        raise Unreadable(str(exc)) from exc


def _message(event: InboundEvent, channel: Channel, attempt: int) -> str:
    message = _prepare(event, channel, attempt)
    if message is None:
        return str(event.status)
    _ingest_events(channel, [(event, message)])  # the drain's path, with one event
    return str(event.status)


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
    # The error also marks the event as waiting for its delayed retry: drains skip it.
    event.error = cap(error) or "retry"
    InboundEvent.objects.filter(pk=event.pk).update(error=event.error)
    from atende.connectors.whatsapp.tasks import process_whatsapp_event

    run_after = timezone.now() + timedelta(seconds=5 * 2 ** attempt)
    process_whatsapp_event.using(run_after=run_after).enqueue(event.pk, attempt + 1)
    return str(InboundStatus.RECEIVED)


def _finish(event: InboundEvent, status: str, error: str = "",
            message: Message | None = None) -> str:
    return pipeline.finish(event, status, message_id=message.pk if message else None,
                           note=error)
