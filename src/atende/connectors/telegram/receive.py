"""The receive flow on the channel kit: store the raw update first (deduplicated by its
`update_id`), answer, then parse and ingest in a task. A redelivery finds its stored
event; ingest is idempotent on chat + message id, and entries are ordered by Telegram's
`date`, so duplicate and out-of-order deliveries are normal."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

from atende import json_input
from atende.channels import pipeline
from atende.channels.connector import InboundMessage
from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.channels.reasons import Unreadable, reason
from atende.channels.registry import get_connector
from atende.connectors.telegram import inbound
from atende.tickets.services.inbound_events import process_events

logger = logging.getLogger(__name__)
MAX_DOWNLOAD_ATTEMPTS = 5
DRAIN_BATCH = 500  # events per transaction of a drain
DRAIN_ROUNDS = 20  # then the drain hands over to a new task
DRAIN_FLAG_SECONDS = 60  # a lost drain task delays the channel's processing at most this
DOWNLOAD_FAILED = f"{inbound.MediaDownloadFailed.__name__}:"


def store_update(channel: Channel, update: Any) -> bool:
    """Store one update (a redelivery finds the stored one) and have it processed once
    the transaction commits; returns whether it is new. Raises Unreadable for a body that
    is not an update."""
    provider_id = inbound.update_id(update)
    with transaction.atomic():
        event, new = pipeline.store(channel, provider_id, update)
        if event.status == InboundStatus.RECEIVED:
            schedule_processing(channel.pk, [event.pk])
    return new


def schedule_processing(channel_id: int, event_ids: list[int]) -> None:
    """Have stored events processed once the storing transaction commits: the channel is
    drained (`drain_channel`). With a shared cache (Redis) a flag per channel says "a
    drain is queued and has not started reading yet", so a burst of updates enqueues one
    task, not one per update; the drain clears the flag before it reads, so an update
    committed after that enqueues the next drain. Set after commit on purpose: set
    before, a drain could clear it and read between the set and the commit."""
    if event_ids:
        transaction.on_commit(lambda: request_drain(channel_id))


def _shared_cache() -> bool:
    return "redis" in str(settings.CACHES["default"]["BACKEND"]).lower()


def _drain_flag(channel_id: int) -> str:
    return f"telegram:drain-queued:{int(channel_id)}"


def request_drain(channel_id: int, _event_ids: list[int] | None = None) -> None:
    flagged = False
    if _shared_cache():
        try:
            if not cache.add(_drain_flag(channel_id), 1, DRAIN_FLAG_SECONDS):
                return  # a queued drain will read these events
            flagged = True
        except Exception:  # the cache is down: enqueue anyway, never lose the events
            logger.warning("Telegram drain flag of channel %s not set", channel_id,
                           exc_info=True)
    enqueue_drain(channel_id, flagged=flagged)


def drain_flag_keys(channel_id: int) -> list[str] | None:
    """The Redis key of the channel's "drain queued" flag as the cache writes it (for the
    group commit, which sets it itself); None without a shared cache."""
    if not _shared_cache():
        return None
    return [cache.make_and_validate_key(_drain_flag(channel_id))]


def enqueue_drain(channel_id: int, *, flagged: bool = False) -> None:
    """The drain task, its flag already set (`flagged`) or no cache to hold one. A flag
    whose task could not be enqueued is taken down again: left up, it would hold back
    the next deliveries' drains for a minute."""
    from atende.connectors.telegram.tasks import drain_telegram_channel

    try:
        drain_telegram_channel.enqueue(channel_id)
    except Exception:
        if flagged:
            try:
                cache.delete(_drain_flag(channel_id))
            except Exception:
                logger.warning("Telegram drain flag of channel %s not taken down",
                               channel_id, exc_info=True)
        raise


def drain_channel(channel_id: int) -> int:
    """Process every pending update of a channel, oldest first, DRAIN_BATCH at a time
    (each batch ingested in one transaction). Returns how many were taken."""
    if _shared_cache():
        try:  # before reading: see schedule_processing
            cache.delete(_drain_flag(channel_id))
        except Exception:
            logger.warning("Telegram drain flag of channel %s not cleared", channel_id,
                           exc_info=True)
    channel = Channel.objects.select_related(
        "organization", "service__business_calendar", "business_calendar",
    ).filter(pk=channel_id).first()
    if channel is None:
        return 0
    taken = 0
    for _round in range(DRAIN_ROUNDS):
        events = list(InboundEvent.objects.filter(
            channel=channel, status=InboundStatus.RECEIVED).order_by("pk")[:DRAIN_BATCH])
        process_stored(channel, events)
        taken += len(events)
        if len(events) < DRAIN_BATCH:
            return taken
    request_drain(channel_id)  # a long backlog: let other tasks run in between
    return taken


def retry_later(channel_id: int, event_ids: list[int], attempt: int,
                delay: timedelta) -> None:
    from atende.connectors.telegram.tasks import process_telegram_events

    run_after = timezone.now() + delay
    transaction.on_commit(lambda: process_telegram_events.using(
        run_after=run_after).enqueue(channel_id, event_ids, attempt))


def keep_invalid(channel: Channel, body: bytes, exc: Exception) -> InboundEvent:
    """A body that cannot be read is kept, quarantined, for an admin to look at."""
    digest = hashlib.sha256(body).hexdigest()
    failure = exc if isinstance(exc, Unreadable) else Unreadable.of(exc)
    event, _created = InboundEvent.objects.get_or_create(
        channel=channel, provider_id=f"invalid:{digest}",
        defaults={"organization_id": channel.organization_id,
                  # NUL is the one character PostgreSQL's jsonb cannot hold.
                  "payload": {"body": body[:100_000].decode("utf-8", "replace")
                              .replace("\x00", "\ufffd")},
                  "status": InboundStatus.QUARANTINED, "error": reason(failure),
                  "processed_at": timezone.now()},
    )
    return event


def parse(channel: Channel, event: InboundEvent) -> InboundMessage:
    """A stored update as the customer's message (its file downloaded)."""
    update: Any = event.payload
    if event.provider_id.startswith("invalid:"):  # a body kept unread (keep_invalid)
        try:
            update = json_input.loads(str(event.payload.get("body") or ""))
        except ValueError as exc:
            raise Unreadable.of(exc) from exc
        inbound.update_id(update)
    try:
        return inbound.to_inbound(channel, update)
    except (KeyError, TypeError, AttributeError) as exc:
        raise Unreadable(str(exc)) from exc


def process_ids(channel_id: int, event_ids: list[int], attempt: int = 0) -> None:
    channel = Channel.objects.select_related(
        "organization", "service__business_calendar", "business_calendar",
    ).filter(pk=channel_id).first()
    if channel is None:
        return
    events = list(InboundEvent.objects.filter(channel=channel, pk__in=event_ids,
                                              status__in=pipeline.PENDING).order_by("pk"))
    if attempt:  # a retry takes back only the events that waited for a download
        events = [e for e in events if e.error.startswith(DOWNLOAD_FAILED)]
    process_stored(channel, events, attempt)


def process_stored(channel: Channel, events: list[InboundEvent], attempt: int = 0) -> None:
    """Parse and ingest the events through the kit; a file that could not be downloaded
    for a passing reason leaves its event quarantined and tried again with backoff."""
    with translation.override(channel.organization.language):
        process_events(get_connector(channel.kind), channel, events)
    waiting = [e.pk for e in events if e.status == InboundStatus.QUARANTINED
               and e.error.startswith(DOWNLOAD_FAILED)]
    if waiting and attempt + 1 < MAX_DOWNLOAD_ATTEMPTS:
        with transaction.atomic():
            retry_later(channel.pk, waiting, attempt + 1, timedelta(seconds=5 * 2 ** attempt))
