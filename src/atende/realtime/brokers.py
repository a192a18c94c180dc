"""Realtime brokers: how a web process learns that the outbox grew, and the `subscribe`
side of the port.

Events are always read from the outbox table (see hub.py), so Last-Event-ID replay and live
delivery share one source and one order. Brokers differ only in their wake-ups:

- OutboxBroker (embedded): the process's hub polls every REALTIME_POLL_SECONDS.
- RedisBroker (scaled): `announce` PUBLISHes on one channel after commit; hubs wake on it,
  and still poll slowly, so a lost PUBLISH (or Redis being down) delays, never drops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol
from weakref import WeakKeyDictionary

from django.conf import settings
from django.utils.module_loading import import_string

from atende.realtime import outbox
from atende.realtime.hub import Hub

if TYPE_CHECKING:
    from atende.realtime.models import Event

logger = logging.getLogger(__name__)


class Broker(Protocol):
    def announce(self, event: Event) -> None: ...

    def subscribe(self, organization_id: int, after_id: int | None
                  ) -> AsyncGenerator[Event, None]: ...


class OutboxBroker:
    """Polls the outbox; fine for one machine (the embedded profile)."""

    def __init__(self, poll_seconds: float | None = None) -> None:
        self.poll_seconds = poll_seconds or settings.REALTIME_POLL_SECONDS
        # One hub per event loop: uvicorn runs one, tests may run several in turn.
        self._hubs: WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = WeakKeyDictionary()

    def announce(self, event: Event) -> None:
        """Nothing to do: the row is the announcement."""

    async def wakeups(self) -> AsyncGenerator[None, None]:
        """Yields whenever the outbox may have grown (here: every poll interval)."""
        while True:
            yield
            await asyncio.sleep(self.poll_seconds)

    def hub(self) -> Hub:
        loop = asyncio.get_running_loop()
        hub = self._hubs.get(loop)
        if hub is None:
            hub = self._hubs[loop] = Hub(self.wakeups)
        return hub

    async def subscribe(self, organization_id: int, after_id: int | None
                        ) -> AsyncGenerator[Event, None]:
        """The organisation's events after `after_id` (replayed from the outbox), then live
        ones; without `after_id`, live ones only. Ends when the subscriber falls too far
        behind (the client reconnects with Last-Event-ID)."""
        hub = self.hub()
        sub = await hub.join(organization_id)
        try:
            replayed: set[int] = set()
            if after_id is not None:
                last = after_id
                while True:
                    batch = await outbox.for_org_after_async(organization_id, last)
                    for event in batch:
                        if event.pk >= sub.floor:
                            replayed.add(event.pk)
                        last = event.pk
                        yield event
                    if len(batch) < outbox.BATCH:
                        break
            while (live := await sub.next()) is not None:
                if live.pk in replayed:
                    replayed.discard(live.pk)
                    continue
                yield live
        finally:
            hub.leave(sub)


class RedisBroker(OutboxBroker):
    """Wakes hubs through Redis pub/sub; the outbox stays the source of events."""

    fallback_poll_seconds = 5.0
    reconnect_seconds = 1.0

    def __init__(self, url: str | None = None, prefix: str | None = None) -> None:
        super().__init__()
        self.url = url or settings.REDIS_URL
        self.channel = f"{prefix or settings.REDIS_PREFIX}:events"
        self._client: Any = None

    def announce(self, event: Event) -> None:
        """PUBLISH the id (runs on commit). Failure is logged, not raised: the change is
        committed already and the hubs' slow poll still delivers the event."""
        import redis

        try:
            if self._client is None:
                self._client = redis.Redis.from_url(self.url, socket_timeout=2,
                                                    socket_connect_timeout=2)
            self._client.publish(self.channel, str(event.pk))
        except (redis.RedisError, OSError):
            logger.warning("realtime: could not announce event %s on Redis; it will be "
                           "delivered by the %ss poll", event.pk, self.fallback_poll_seconds,
                           exc_info=True)

    async def wakeups(self) -> AsyncGenerator[None, None]:
        import redis.asyncio as aioredis
        from redis.exceptions import RedisError

        client = aioredis.Redis.from_url(self.url, socket_connect_timeout=5)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        failing = False
        try:
            while True:
                try:
                    # Subscribed before the read that follows: no PUBLISH falls in between.
                    await pubsub.subscribe(self.channel)
                    if failing:
                        logger.warning("realtime: Redis pub/sub is back")
                        failing = False
                    while True:
                        yield
                        await pubsub.get_message(timeout=self.fallback_poll_seconds)
                        # One read of the outbox covers every announcement received so far.
                        while await pubsub.get_message(timeout=0) is not None:
                            pass
                except (RedisError, OSError):
                    if not failing:
                        logger.warning("realtime: Redis pub/sub unavailable; polling the "
                                       "outbox every %ss", self.reconnect_seconds, exc_info=True)
                    failing = True
                    await pubsub.aclose()
                    yield
                    await asyncio.sleep(self.reconnect_seconds)
        finally:
            await pubsub.aclose()
            await client.aclose()


@cache
def get_broker() -> Broker:
    broker: Broker = import_string(settings.REALTIME_BROKER)()
    return broker
