"""One reader of the outbox per web process, feeding every stream that process serves.

A hub reads new outbox rows (all organisations) when its broker says the outbox may have
grown, and offers each event to the subscriptions of that event's organisation. So the
database sees one query per wake-up however many agents are connected, and an idle process
(no streams) reads nothing.

Outbox ids are allocated at insert but become visible at commit. On PostgreSQL a slow
transaction can commit id n after another transaction committed n+1; a reader that only
remembers "the highest id seen" would skip n for ever. The `Tail` therefore remembers the
ids it stepped over ("holes") and asks for them again for HOLE_GRACE_SECONDS: a late commit
is delivered then, a rolled-back insert simply expires. (SQLite serialises writers, so there
ids are never committed out of order and holes never fill.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Iterable
from contextlib import aclosing
from dataclasses import dataclass, field

from atende.realtime import outbox
from atende.realtime.models import Event

logger = logging.getLogger(__name__)

HOLE_GRACE_SECONDS = 30.0
# At most this many skipped ids are re-read (the newest); a larger jump is a sequence gap.
MAX_HOLES = 1000
# Events a subscription may hold unsent; a client further behind is disconnected and
# catches up by reconnecting with Last-Event-ID (replayed from the outbox).
SUBSCRIBER_BACKLOG = 1000

Wakeups = Callable[[], AsyncGenerator[None, None]]


@dataclass
class Tail:
    """Where the reader stands: everything up to `cursor` was read, except `holes`
    (id → monotonic time it was first stepped over)."""

    cursor: int
    holes: dict[int, float] = field(default_factory=dict)
    grace: float = HOLE_GRACE_SECONDS

    @classmethod
    def starting_at(cls, cursor: int, present: set[int], low: int, now: float) -> Tail:
        """A reader that starts at `cursor`; ids in (low, cursor] not yet `present` may be
        transactions still in flight, so they start out as holes."""
        tail = cls(cursor)
        tail._add_holes(range(low + 1, cursor + 1), now, present)
        return tail

    def floor(self) -> int:
        """The smallest id this reader may still deliver."""
        return min(self.holes, default=self.cursor + 1)

    def advance(self, ids: Iterable[int], now: float) -> None:
        """Record the ids a read returned (they were delivered)."""
        for event_id in sorted(ids):
            if self.holes.pop(event_id, None) is not None:
                continue
            if event_id > self.cursor:
                self._add_holes(range(self.cursor + 1, event_id), now)
                self.cursor = event_id
        for event_id, since in list(self.holes.items()):
            if now - since > self.grace:
                del self.holes[event_id]

    def _add_holes(self, ids: range, now: float, present: set[int] | None = None) -> None:
        for event_id in ids[-MAX_HOLES:]:
            if present is None or event_id not in present:
                self.holes[event_id] = now
        if len(self.holes) > MAX_HOLES:
            for event_id in sorted(self.holes)[:-MAX_HOLES]:
                del self.holes[event_id]


class Subscription:
    """The live events of one stream. `next()` returns None once the subscription ended
    (the client fell too far behind, or the hub stopped): the stream closes and the client
    reconnects with Last-Event-ID."""

    def __init__(self, organization_id: int, backlog: int = SUBSCRIBER_BACKLOG) -> None:
        self.organization_id = organization_id
        # Replayed events with an id >= floor may also come from the hub (deduplicated).
        self.floor = 0
        self.ended = False
        self._backlog = backlog
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def offer(self, event: Event) -> None:
        if self.ended:
            return
        if self._queue.qsize() >= self._backlog:
            self.end()
            return
        self._queue.put_nowait(event)

    def end(self) -> None:
        if not self.ended:
            self.ended = True
            self._queue.put_nowait(None)

    async def next(self) -> Event | None:
        return await self._queue.get()


class Hub:
    """Subscriptions of one event loop and the task that reads the outbox for them.

    The task runs while at least one subscription exists and is cancelled when the last
    one leaves, which also closes its wake-up source (a Redis connection)."""

    def __init__(self, wakeups: Wakeups, backlog: int = SUBSCRIBER_BACKLOG) -> None:
        self._wakeups = wakeups
        self._backlog = backlog
        self._subscriptions: dict[int, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._tail: Tail | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    async def join(self, organization_id: int) -> Subscription:
        """Subscribe; returns once the hub knows its position, so every event committed
        after this call returns is offered to the subscription."""
        sub = Subscription(organization_id, self._backlog)
        self._subscriptions.setdefault(organization_id, set()).add(sub)
        if self._task is None:
            self._ready = asyncio.Event()
            self._tail = None
            self._task = asyncio.create_task(self._run(self._ready), name="realtime-hub")
        try:
            await self._ready.wait()
        except BaseException:
            self.leave(sub)
            raise
        sub.floor = self._tail.floor() if self._tail is not None else 0
        return sub

    def leave(self, sub: Subscription) -> None:
        subs = self._subscriptions.get(sub.organization_id)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self._subscriptions[sub.organization_id]
        if not self._subscriptions and self._task is not None:
            # Detach before cancelling, so a join that follows starts a fresh reader.
            task, self._task, self._tail = self._task, None, None
            task.cancel()

    async def _run(self, ready: asyncio.Event) -> None:
        failing = False
        try:
            async with aclosing(self._wakeups()) as wakeups:
                async for _ in wakeups:
                    try:
                        await self._read(ready)
                    except Exception:
                        if not failing:
                            logger.exception("realtime: reading the outbox failed; retrying")
                        failing = True
                        continue
                    if failing:
                        logger.warning("realtime: reading the outbox works again")
                        failing = False
        except Exception:
            logger.exception("realtime: the outbox reader stopped; ending its streams")
        # Only reached when the wake-ups end or fail: end the streams (they reconnect).
        if self._task is asyncio.current_task():
            self._task, self._tail = None, None
            for subs in list(self._subscriptions.values()):
                for sub in subs:
                    sub.end()
            self._subscriptions.clear()
            ready.set()

    async def _read(self, ready: asyncio.Event) -> None:
        tail = self._tail
        if tail is None:
            cursor = await outbox.latest_id_async()
            low = max(cursor - MAX_HOLES, 0)
            present = await outbox.present_ids_async(low, cursor)
            tail = self._tail = Tail.starting_at(cursor, present, low, time.monotonic())
            ready.set()
        while True:
            events = await outbox.tail_async(tail.cursor, list(tail.holes))
            tail.advance((e.pk for e in events), time.monotonic())
            for event in events:
                for sub in list(self._subscriptions.get(event.organization_id, ())):
                    sub.offer(event)
            if len(events) < outbox.BATCH:
                return
