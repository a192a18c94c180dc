"""The receive flow on the channel kit: store each item of a delivery first (deduplicated
by its provider id, `inbound.split`), answer, then process in a task: customer messages
through the kit's parse and ingest, echoes as agent entries (`echoes`), reads and
deliveries as marks on the timeline (`marks`). Ingest is idempotent on the message id
and entries are ordered by Meta's timestamp, so duplicate and out-of-order deliveries are
normal; a mark that overtook its message waits for it (`WAITING`), a passing download
failure is tried again, both with backoff."""

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
from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.channels.reasons import Unreadable, reason
from atende.channels.registry import get_connector
from atende.connectors.meta_messaging import echoes, inbound, marks
from atende.tickets.services.inbound_events import process_events

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
DRAIN_BATCH = 500
DRAIN_FLAG_SECONDS = 60
WAITING = (f"{inbound.MediaDownloadFailed.__name__}:", f"{marks.NotYetKnown.__name__}:")


def store_delivery(channel: Channel, body: Any) -> list[int]:
    """Store a delivery's events (redeliveries find theirs) and have the pending ones
    processed after commit; returns their ids. Raises Unreadable for a body that is not
    a webhook."""
    ids: list[int] = []
    with transaction.atomic():
        for provider_id, payload in inbound.split(body):
            event, _new = pipeline.store(channel, provider_id, payload)
            if event.status == InboundStatus.RECEIVED:
                ids.append(event.pk)
        if ids:
            transaction.on_commit(lambda: request_drain(channel.pk))
    return ids


def _shared_cache() -> bool:
    return "redis" in str(settings.CACHES["default"]["BACKEND"]).lower()


def _flag(channel_id: int) -> str:
    return f"meta-messaging:drain-queued:{int(channel_id)}"


def drain_flag_keys(channel_id: int) -> list[str] | None:
    """The channel's "drain queued" Redis key as the cache writes it (for the group
    commit); None without a shared cache."""
    return [cache.make_and_validate_key(_flag(channel_id))] if _shared_cache() else None


def request_drain(channel_id: int, _ids: list[int] | None = None) -> None:
    """Enqueue the channel's drain unless one is queued and not reading yet (a burst of
    deliveries enqueues one task); without a cache, or with it down, always."""
    flagged = False
    if _shared_cache():
        try:
            if not cache.add(_flag(channel_id), 1, DRAIN_FLAG_SECONDS):
                return
            flagged = True
        except Exception:
            logger.warning("Meta drain flag of channel %s not set", channel_id, exc_info=True)
    enqueue_drain(channel_id, flagged=flagged)


def enqueue_drain(channel_id: int, *, flagged: bool = False) -> None:
    from atende.connectors.meta_messaging.tasks import drain_meta_channel

    try:
        drain_meta_channel.enqueue(channel_id)
    except Exception:
        if flagged:  # left up, it would hold back the next deliveries' drains
            cache.delete(_flag(channel_id))
        raise


def drain_channel(channel_id: int) -> int:
    """Process the channel's waiting events, oldest first; returns how many."""
    if _shared_cache():
        try:
            cache.delete(_flag(channel_id))  # before reading: a later commit re-enqueues
        except Exception:
            logger.warning("Meta drain flag of channel %s not cleared", channel_id,
                           exc_info=True)
    channel = _channel(channel_id)
    if channel is None:
        return 0
    taken = 0
    while True:
        events = list(InboundEvent.objects.filter(
            channel=channel, status=InboundStatus.RECEIVED).order_by("pk")[:DRAIN_BATCH])
        process_stored(channel, events)
        taken += len(events)
        if len(events) < DRAIN_BATCH:
            return taken


def process_ids(channel_id: int, event_ids: list[int], attempt: int) -> None:
    """Events that waited (a download, a mark's message), tried again."""
    channel = _channel(channel_id)
    if channel is None:
        return
    events = [e for e in InboundEvent.objects.filter(
        channel=channel, pk__in=event_ids, status=InboundStatus.QUARANTINED).order_by("pk")
        if e.error.startswith(WAITING)]
    InboundEvent.objects.filter(pk__in=[e.pk for e in events]).update(
        status=InboundStatus.RECEIVED, error="")
    for event in events:
        event.status, event.error = InboundStatus.RECEIVED, ""
    process_stored(channel, events, attempt)


def process_stored(channel: Channel, events: list[InboundEvent], attempt: int = 0) -> None:
    """Every kind of event through its path; never raises for a bad event."""
    messages: list[InboundEvent] = []
    with translation.override(channel.organization.language):
        for event in events:
            if event.status not in pipeline.PENDING:
                continue
            try:
                kind = inbound.event_kind(event.payload)
            except Unreadable:
                kind = inbound.OTHER
            if kind in (inbound.READ, inbound.DELIVERY):
                marks.apply(channel, event)
            elif kind == inbound.ECHO:
                echoes.record(channel, event)
            else:
                messages.append(event)
        if messages:
            process_events(get_connector(channel.kind), channel, messages)
    waiting = [e.pk for e in events if e.status == InboundStatus.QUARANTINED
               and e.error.startswith(WAITING)]
    if waiting and attempt + 1 < MAX_ATTEMPTS:
        retry_later(channel.pk, waiting, attempt + 1, timedelta(seconds=5 * 2 ** attempt))


def retry_later(channel_id: int, event_ids: list[int], attempt: int,
                delay: timedelta) -> None:
    from atende.connectors.meta_messaging.tasks import process_meta_events

    run_after = timezone.now() + delay
    transaction.on_commit(lambda: process_meta_events.using(
        run_after=run_after).enqueue(channel_id, event_ids, attempt))


def keep_invalid(channel: Channel, body: bytes, exc: Exception) -> InboundEvent:
    """A body that cannot be read is kept, quarantined, for an admin to look at."""
    digest = hashlib.sha256(body).hexdigest()
    failure = exc if isinstance(exc, Unreadable) else Unreadable.of(exc)
    event, _created = InboundEvent.objects.get_or_create(
        channel=channel, provider_id=f"invalid:{digest}",
        defaults={"organization_id": channel.organization_id,
                  "payload": {"body": body[:100_000].decode("utf-8", "replace")
                              .replace("\x00", "\ufffd")},
                  "status": InboundStatus.QUARANTINED, "error": reason(failure),
                  "processed_at": timezone.now()})
    return event


def stored_payload(event: InboundEvent) -> dict[str, Any]:
    """The event's payload; a kept unreadable body is read again (an admin's "process
    again" after a fix), and must hold exactly one item."""
    if not event.provider_id.startswith("invalid:"):
        return event.payload
    try:
        found = inbound.split(json_input.loads(str(event.payload.get("body") or "")))
    except ValueError as exc:
        raise Unreadable.of(exc) from exc
    if len(found) != 1:
        raise Unreadable(f"a kept body with {len(found)} events")
    return found[0][1]


def _channel(channel_id: int) -> Channel | None:
    return Channel.objects.select_related(
        "organization", "service", "business_calendar").filter(pk=channel_id).first()
