"""The receive flow on the channel kit: store the raw update first (deduplicated by its
`update_id`), answer, then parse and ingest in a task. A redelivery finds its stored
event; ingest is idempotent on chat + message id, and entries are ordered by Telegram's
`date`, so duplicate and out-of-order deliveries are normal."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone, translation

from atende.channels import pipeline
from atende.channels.connector import InboundMessage
from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.channels.reasons import Unreadable, reason
from atende.channels.registry import get_connector
from atende.connectors.telegram import inbound
from atende.tickets.services.inbound_events import process_events

logger = logging.getLogger(__name__)
MAX_DOWNLOAD_ATTEMPTS = 5
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


def schedule_processing(channel_id: int, event_ids: list[int], attempt: int = 0,
                        delay: timedelta | None = None) -> None:
    from atende.connectors.telegram.tasks import process_telegram_events

    def enqueue() -> None:
        task = process_telegram_events
        if delay is not None:
            task = task.using(run_after=timezone.now() + delay)
        task.enqueue(channel_id, event_ids, attempt)

    transaction.on_commit(enqueue)


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
            update = json.loads(str(event.payload.get("body") or ""))
        except ValueError as exc:
            raise Unreadable.of(exc) from exc
        inbound.update_id(update)
    try:
        return inbound.to_inbound(channel, update)
    except (KeyError, TypeError, AttributeError) as exc:
        raise Unreadable(str(exc)) from exc


def process_ids(channel_id: int, event_ids: list[int], attempt: int = 0) -> None:
    channel = Channel.objects.select_related(
        "organization", "service", "business_calendar").filter(pk=channel_id).first()
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
            schedule_processing(channel.pk, waiting, attempt + 1,
                                delay=timedelta(seconds=5 * 2 ** attempt))
