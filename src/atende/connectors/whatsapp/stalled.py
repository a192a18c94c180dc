"""Events no drain is coming for. A drain task lost with a crashed worker (or its flag
outliving it) would leave a channel's events `received` until the channel's next delivery;
a delayed retry (`receive._later`) lost the same way, for ever. The periodic job
(`jobs.py`, each minute) asks for them again:

- a channel whose oldest event still to process (not one waiting for its delayed retry)
  came in more than STALE_AFTER ago, with no drain at work on it, is drained again (a
  drain already queued is enough, see `receive.request_drain`);
- an event waiting for a delayed retry for more than RETRY_LOST_AFTER (the retries take
  about a minute and a half) gets its last attempt, once per RETRY_LOST_AFTER.

Both lookups go channel by channel through the index of events by (channel, status,
received): they read only events still to process, whatever the size of the events'
table. A system job: it runs for every organisation.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from atende.channels.models import Channel, ChannelKind, InboundEvent, InboundStatus
from atende.connectors.whatsapp import receive

logger = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=2)
RETRY_LOST_AFTER = timedelta(minutes=30)
MAX_RETRIES_PER_SWEEP = 500


def stalled_channel_ids(now: datetime | None = None) -> list[int]:
    """WhatsApp channels whose oldest event to process came in before STALE_AFTER."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    oldest = InboundEvent.objects.filter(
        channel=OuterRef("pk"), status=InboundStatus.RECEIVED, error="",
    ).order_by("received_at").values("received_at")[:1]
    return list(Channel.objects.filter(kind=ChannelKind.WHATSAPP)
                .annotate(oldest=Subquery(oldest)).filter(oldest__lt=cutoff)
                .order_by("pk").values_list("pk", flat=True))


def drain_stalled_channels(now: datetime | None = None) -> list[int]:
    """Request a drain of every stalled shard no drain is at work on; returns the
    channels concerned."""
    channel_ids = stalled_channel_ids(now)
    for channel_id in channel_ids:
        # A drain at work is a long backlog being worked through, not a lost drain.
        if receive.request_drain(channel_id, [], unless_running=True):
            logger.warning("WhatsApp events of channel %s waited; drain requested again",
                           channel_id)
    return channel_ids


def resume_drains() -> list[int]:
    """A worker is starting: drains that were at work or queued when a worker died (its
    tasks are lost with it, their flags stay up and hold back new drains) are requested
    again, now, for every channel with events to process. A drain too many is harmless:
    a drain claims its events under a row lock (`ingest_events`). Returns the channels."""
    pending = InboundEvent.objects.filter(channel=OuterRef("pk"), status=InboundStatus.RECEIVED,
                                          error="")
    channel_ids = list(Channel.objects.filter(kind=ChannelKind.WHATSAPP)
                       .filter(Exists(pending)).order_by("pk").values_list("pk", flat=True))
    for channel_id in channel_ids:
        receive.clear_drain_flags(channel_id)
        receive.request_drain(channel_id, [])
    if channel_ids:
        logger.info("WhatsApp drains requested at worker start for channels %s", channel_ids)
    return channel_ids


def retry_lost_retries(now: datetime | None = None) -> list[int]:
    """The last attempt for events whose delayed retry never came; returns their ids."""
    from atende.connectors.whatsapp.tasks import process_whatsapp_event

    cutoff = (now or timezone.now()) - RETRY_LOST_AFTER
    lost = list(InboundEvent.objects.filter(
        channel__kind=ChannelKind.WHATSAPP, status=InboundStatus.RECEIVED,
        received_at__lt=cutoff,
    ).exclude(error="").order_by("pk").values_list("pk", flat=True)[:MAX_RETRIES_PER_SWEEP])
    retried = []
    for event_id in lost:
        if not cache.add(f"whatsapp:retry-requeued:{event_id}", 1,
                         int(RETRY_LOST_AFTER.total_seconds())):
            continue  # asked already: its last attempt is queued
        process_whatsapp_event.enqueue(event_id, receive.MAX_ATTEMPTS - 1)
        retried.append(event_id)
    if retried:
        logger.warning("WhatsApp events %s waited too long for their retry; last attempt "
                       "queued", retried)
    return retried


def sweep(now: datetime | None = None) -> None:
    drain_stalled_channels(now)
    retry_lost_retries(now)
