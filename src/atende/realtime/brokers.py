"""Realtime brokers: how a web process learns that an event was published elsewhere.

Both read events from the outbox table, so replay after reconnect (Last-Event-ID) is the
same code path as live delivery, and ordering is the outbox id's.

- OutboxBroker (embedded): subscribers poll the outbox every REALTIME_POLL_SECONDS.
- RedisBroker (scaled): `announce` PUBLISHes the event id on a per-organisation channel;
  subscribers wake on it (and still poll slowly, so a lost PUBLISH delays, never drops).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from atende.realtime.models import Event

BATCH = 500


class Broker(Protocol):
    def announce(self, event: Event) -> None: ...

    def subscribe(self, organization_id: int, after_id: int) -> AsyncIterator[Event]: ...


def _events_after(organization_id: int, after_id: int) -> list[Event]:
    from atende.realtime.models import Event

    return list(
        Event.objects.for_org(organization_id).filter(id__gt=after_id).order_by("id")[:BATCH]
    )


def latest_event_id(organization_id: int) -> int:
    from atende.realtime.models import Event

    last = Event.objects.for_org(organization_id).order_by("-id").values_list("id", flat=True)
    return last.first() or 0


_fetch = sync_to_async(_events_after, thread_sensitive=False)


class OutboxBroker:
    """Polls the outbox; fine for one machine (the embedded profile)."""

    def __init__(self, poll_seconds: float | None = None) -> None:
        self.poll_seconds = poll_seconds or settings.REALTIME_POLL_SECONDS

    def announce(self, event: Event) -> None:
        """Nothing to do: the row is the announcement."""

    async def _wait(self, organization_id: int) -> None:
        await asyncio.sleep(self.poll_seconds)

    async def subscribe(self, organization_id: int, after_id: int) -> AsyncIterator[Event]:
        last = after_id
        while True:
            events = await _fetch(organization_id, last)
            for event in events:
                last = event.pk
                yield event
            if len(events) < BATCH:
                await self._wait(organization_id)


class RedisBroker(OutboxBroker):
    """Wakes subscribers through Redis pub/sub; the outbox stays the source of events."""

    fallback_poll_seconds = 5.0

    def __init__(self, url: str | None = None, prefix: str | None = None) -> None:
        super().__init__()
        self.url = url or settings.REDIS_URL
        self.prefix = prefix or settings.REDIS_PREFIX
        self._sync_client: Any = None

    def channel_name(self, organization_id: int) -> str:
        return f"{self.prefix}:events:{organization_id}"

    def announce(self, event: Event) -> None:
        import redis

        if self._sync_client is None:
            self._sync_client = redis.Redis.from_url(self.url)
        message = json.dumps({"id": event.pk})
        self._sync_client.publish(self.channel_name(event.organization_id), message)

    async def subscribe(self, organization_id: int, after_id: int) -> AsyncIterator[Event]:
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(self.url)
        pubsub = client.pubsub()
        # Subscribe before the first read so nothing published in between is missed.
        await pubsub.subscribe(self.channel_name(organization_id))
        try:
            last = after_id
            while True:
                events = await _fetch(organization_id, last)
                for event in events:
                    last = event.pk
                    yield event
                if len(events) == BATCH:
                    continue
                with contextlib.suppress(TimeoutError):
                    await pubsub.get_message(
                        ignore_subscribe_messages=True, timeout=self.fallback_poll_seconds
                    )
                # Drain whatever else arrived; one read of the outbox covers them all.
                while await pubsub.get_message(ignore_subscribe_messages=True, timeout=0):
                    pass
        finally:
            await pubsub.aclose()
            await client.aclose()


@cache
def get_broker() -> Broker:
    broker: Broker = import_string(settings.REALTIME_BROKER)()
    return broker
