"""Storing webhook events on PostgreSQL without the ORM: one statement, committed on its own,
for the deliveries of many concurrent requests (group commit), from the event loop. The
channel kit's fast acknowledgement path: a connector's lean ASGI route hands it the split
events of a delivery and answers once they are stored and their processing scheduled
(its `Drains`).

Each request hands its split events to the process's `GroupCommit` and waits. One flush at
a time takes everything waiting, inserts it with one `INSERT … ON CONFLICT DO NOTHING`
(psycopg 3 async, its own small pool, in autocommit: one round trip, where BEGIN, the
statement and COMMIT would be three), has the stored ids processed (the channels' drain
flags set from the loop, a thread only to enqueue a drain not queued yet: see
`_request_drains`) and only then answers the waiting requests. While a flush is at the
database the next requests queue up, so the batch grows with the load and the cost per
event falls (one round trip, one WAL flush per batch instead of per request).

Guarantees, as on the ORM path: nothing is answered before its rows are committed and
their processing scheduled; a redelivered event is not stored twice and, if still pending,
is scheduled again; a database failure raises `Unavailable` (the route answers 503 and the
provider retries); a body PostgreSQL refuses (e.g. `\\u0000` in a JSON string) fails alone,
not the batch it was in (`Unstorable`).

Under load (the previous flush took more than one request) a flush first waits for the
requests of the clients it has just answered: until as many requests wait as the largest
recent flush took, at most `linger` seconds. Without it, concurrent clients settle in two
cohorts that alternate flushes of half their number, and the cost per event of a flush's
fixed work (the round trip, planning, the drain flag) doubles. A wait that times out
lowers the target by one, so it follows the load down; a lone request is never held back.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import close_old_connections, connections
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool
from redis import asyncio as aioredis

from atende.channels.models import InboundEvent, InboundStatus

logger = logging.getLogger(__name__)
MAX_ROWS = 1000  # per INSERT; a larger backlog is written in several flushes
TIMEOUT = 10.0  # seconds for one flush's statement (insert, commit)

# The same statement whatever the batch size (arrays, not a VALUES list). It is not a
# prepared statement (`prepare_threshold=None` on the pool): PostgreSQL switches a
# prepared statement to a generic plan after five runs, planned with the statistics of
# that moment (a nearly empty table at start-up), and keeps it for the connection's life;
# such a plan grew slower with the pending events, where one planned each time stays
# flat. One statement is one transaction (autocommit), so its CTEs are atomic. The ids
# returned are the new rows and the existing rows of these events still to process (a
# redelivery before processing, or of a quarantined event, which `redo` puts back to be
# processed at most `max_redeliveries` times, as `receive.retry_redelivered`): what
# `receive.store_events` returns. The second SELECT reads the snapshot taken before the
# INSERT and the UPDATE, so it sees only rows that were there already, as they were. The
# arrays go in binary (`%b`): in text psycopg quotes and escapes every JSON payload in
# Python. Table and columns come from the model; the fields the INSERT leaves out must
# have a default in the database (`WRITTEN`, checked by a test).
_T = InboundEvent._meta.db_table
_C = {f.name: str(f.column) for f in InboundEvent._meta.concrete_fields}
WRITTEN = ("organization", "channel", "provider_id", "payload", "status", "error",
           "received_at")
INSERT = f"""
WITH v AS (
    SELECT * FROM unnest(%(org)b::bigint[], %(channel)b::bigint[], %(key)b::text[],
                         %(payload)b::text[]) AS v(org, channel, key, payload)
), ins AS (
    INSERT INTO {_T} ({", ".join(_C[name] for name in WRITTEN)})
    SELECT org, channel, key, payload::jsonb, %(received)s, '', now()
    FROM v
    ON CONFLICT ({_C["channel"]}, {_C["provider_id"]}) DO NOTHING
    RETURNING {_C["id"]}, {_C["channel"]}, {_C["provider_id"]}
), redo AS (
    UPDATE {_T} e SET {_C["status"]} = %(received)s, {_C["error"]} = '',
                      {_C["processed_at"]} = NULL,
                      {_C["redelivery_retries"]} = e.{_C["redelivery_retries"]} + 1
    FROM v
    WHERE e.{_C["channel"]} = v.channel AND e.{_C["provider_id"]} = v.key
      AND e.{_C["status"]} = %(quarantined)s
      AND e.{_C["redelivery_retries"]} < %(max_redeliveries)s
)
SELECT * FROM ins
UNION ALL
SELECT e.{_C["id"]}, e.{_C["channel"]}, e.{_C["provider_id"]} FROM {_T} e
JOIN v ON e.{_C["channel"]} = v.channel AND e.{_C["provider_id"]} = v.key
WHERE e.{_C["status"]} = %(received)s
   OR (e.{_C["status"]} = %(quarantined)s
       AND e.{_C["redelivery_retries"]} < %(max_redeliveries)s)
"""  # noqa: S608 - the table name is the model's, the values are parameters


@dataclass(frozen=True)
class Drains:
    """How a connector has its committed events processed, as its ORM path does.

    `flag_keys(channel_id)`: the Redis keys of the channel's "drain queued" flags, one per
    shard in order, as its cache writes them (None without a shared cache); the flush sets
    them (`SET NX`, value 1, expiring after `flag_seconds`) and calls `enqueue(channel_id,
    ids, shard, shards)` for each one it set, which must take its flag down again when
    the task cannot be enqueued. `request(channel_id, ids)`: the whole scheduling in a
    thread, when Redis cannot be reached from the loop. A quarantined event delivered
    again goes back to be processed at most `max_redeliveries` times."""

    name: str  # in logs, the pool's and the connections' names
    flag_keys: Callable[[int], list[str] | None]
    enqueue: Callable[[int, list[int], int, int], None]
    request: Callable[[int, list[int]], object]
    flag_seconds: int = 60
    max_redeliveries: int = 3


class Unavailable(Exception):
    """The database could not store the events (down, restarting, too slow): answer 5xx."""


class Unstorable(Exception):
    """PostgreSQL refused this body's events themselves (not the batch): quarantine it."""


@dataclass
class _Waiting:
    channel_id: int
    organization_id: int
    events: Sequence[tuple[str, str]]  # (provider id, payload as JSON text)
    done: asyncio.Future[list[int]] = field(repr=False)


class GroupCommit:
    """The events of concurrent requests, written together. One per event loop."""

    def __init__(self, conninfo: str, drains: Drains, *, pool_size: int = 2,
                 in_flight: int = 1, linger: float = 0.0,
                 redis_url: str | None = None) -> None:
        self.drains = drains
        self.pool = AsyncConnectionPool(conninfo, min_size=1, max_size=pool_size, open=False,
                                        name=f"{drains.name}-ack",
                                        # for a connection: a database down is a 503 soon
                                        timeout=settings.DB_UNAVAILABLE_AFTER,
                                        kwargs={"prepare_threshold": None,
                                                "autocommit": True})
        self.waiting: list[_Waiting] = []
        self.flushing = 0  # flushes at the database now, at most `in_flight`
        self.in_flight = in_flight
        self.linger = linger  # at most, seconds a flush under load waits for more requests
        self._last_batch = 0  # requests the previous flush took
        self._target = 0  # requests worth waiting for: the largest recent flush's
        self._enough: asyncio.Future[None] | None = None  # a waiting flush's wake-up
        self._redis = aioredis.Redis.from_url(redis_url) if redis_url else None
        self._flag_keys_by_channel: dict[int, list[str]] = {}
        self.flushes = 0  # statements written, for tests and the bench
        self._tasks: set[asyncio.Task[None]] = set()
        self._opened = False

    async def store(self, channel_id: int, organization_id: int,
                    events: Sequence[tuple[str, str]]) -> list[int]:
        """Store these events (provider id, JSON text); returns the ids still to process,
        once committed and scheduled."""
        if not self._opened:
            self._opened = True
            await self.pool.open(wait=False)
        done: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self.waiting.append(_Waiting(channel_id, organization_id, events, done))
        if self._enough is not None and len(self.waiting) >= self._target:
            _wake(self._enough)
        if self.flushing < self.in_flight:
            self.flushing += 1
            self._spawn(self._flush_all())
        return await done

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._opened:
            await self.pool.close()
        if self._redis is not None:
            await self._redis.aclose()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush_all(self) -> None:
        try:
            while self.waiting:
                if self.linger > 0 and self._last_batch > 1:
                    await self._gather()
                taken, rows = 0, 0
                while taken < len(self.waiting) and rows < MAX_ROWS:
                    rows += len(self.waiting[taken].events)
                    taken += 1
                batch, self.waiting = self.waiting[:taken], self.waiting[taken:]
                self._last_batch = len(batch)
                self._target = max(self._target, len(batch))
                try:
                    await self._flush(batch)
                except Exception as exc:  # a bug must not leave requests waiting forever
                    logger.exception("%s group commit failed", self.drains.name)
                    self._fail(batch, exc)
        finally:
            self.flushing -= 1

    async def _gather(self) -> None:
        """Wait until `_target` requests wait, or `linger` seconds (then lower it)."""
        if len(self.waiting) >= self._target:
            return
        loop = asyncio.get_running_loop()
        self._enough = enough = loop.create_future()
        timer = loop.call_later(self.linger, _wake, enough)
        try:
            await enough
        finally:
            timer.cancel()
            self._enough = None
        if len(self.waiting) < self._target:  # timed out: fewer clients than before
            self._target -= 1

    async def _flush(self, batch: list[_Waiting]) -> None:
        try:
            found = await self._write(batch)
        except psycopg.OperationalError as exc:  # the pool's timeouts are OperationalErrors
            self._fail(batch, Unavailable(str(exc)))
            return
        except TimeoutError:
            self._fail(batch, Unavailable("timed out"))
            return
        except psycopg.Error as exc:
            if len(batch) == 1:
                self._fail(batch, Unstorable(f"{type(exc).__name__}: {exc}")
                           if isinstance(exc, psycopg.DataError) else Unavailable(str(exc)))
                return
            # One body may have made the whole statement fail: write each alone.
            for one in batch:
                await self._flush([one])
            return
        # Answer after scheduling, off the flush loop: the next batch goes to the database
        # meanwhile.
        self._spawn(self._schedule_and_answer(batch, found))

    async def _write(self, batch: list[_Waiting]) -> dict[tuple[int, str], int]:
        orgs: list[int] = []
        channels: list[int] = []
        keys: list[str] = []
        payloads: list[str] = []
        for one in batch:
            for key, payload in one.events:
                orgs.append(one.organization_id)
                channels.append(one.channel_id)
                keys.append(key)
                payloads.append(payload)
        params: dict[str, object] = {
            "org": orgs, "channel": channels, "key": keys, "payload": payloads,
            "received": str(InboundStatus.RECEIVED),
            "quarantined": str(InboundStatus.QUARANTINED),
            "max_redeliveries": self.drains.max_redeliveries}
        for attempt in (1, 2):
            try:
                return await asyncio.wait_for(self._insert(params), TIMEOUT)
            except psycopg.OperationalError:
                # Connections the server closed (a restart) are found out only when used:
                # have the pool test its idle ones and try once more on a fresh one.
                # Writing again is safe even if the first COMMIT went through: ON
                # CONFLICT, and the rows come back as still pending.
                if attempt == 2:
                    raise
                await self.pool.check()
        raise AssertionError("unreachable")

    async def _insert(self, params: dict[str, object]) -> dict[tuple[int, str], int]:
        async with self.pool.connection() as conn:
            cursor = await conn.execute(INSERT, params)
            rows = await cursor.fetchall()  # committed: autocommit
        self.flushes += 1
        return {(channel_id, key): pk for pk, channel_id, key in rows}

    async def _schedule_and_answer(self, batch: list[_Waiting],
                                   found: dict[tuple[int, str], int]) -> None:
        try:
            await self._schedule_and_answer_or_raise(batch, found)
        except Exception as exc:  # a bug must not leave requests waiting forever
            logger.exception("%s group commit: answering failed", self.drains.name)
            self._fail(batch, exc)

    async def _schedule_and_answer_or_raise(self, batch: list[_Waiting],
                                            found: dict[tuple[int, str], int]) -> None:
        answers: list[list[int]] = []
        by_channel: dict[int, set[int]] = {}
        for one in batch:
            ids = list(dict.fromkeys(found[(one.channel_id, key)] for key, _payload
                                     in one.events if (one.channel_id, key) in found))
            answers.append(ids)
            by_channel.setdefault(one.channel_id, set()).update(ids)
        try:
            await self._request_drains({c: sorted(ids) for c, ids in by_channel.items() if ids})
        except Exception as exc:  # stored but not scheduled: 5xx, the redelivery schedules
            logger.exception("%s events stored but not scheduled", self.drains.name)
            self._fail(batch, Unavailable(f"scheduling failed: {exc}"))
            return
        for one, ids in zip(batch, answers, strict=True):
            if not one.done.done():
                one.done.set_result(ids)

    async def _request_drains(self, by_channel: dict[int, list[int]]) -> None:
        """`Drains.request` for committed rows, the drain flags set from the loop
        in one round trip to Redis; a thread only to enqueue the drains of flags this
        flush set (a drain already queued will read the rows). Without Redis, or if it
        fails here, all of it in a thread as `Drains.request` does it."""
        if not by_channel:
            return
        loop = asyncio.get_running_loop()
        flags: list[tuple[int, int, int, str]] = []  # channel, shard, shards, key
        for channel_id in by_channel:
            keys = self._flag_keys(channel_id)
            flags.extend((channel_id, shard, len(keys), key) for shard, key in enumerate(keys))
        seconds = self.drains.flag_seconds
        if flags and self._redis is not None:
            try:
                if len(flags) == 1:  # the usual case: one channel, one shard
                    newly_set = [await self._redis.set(flags[0][3], 1, nx=True,
                                                       ex=seconds)]
                else:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for *_where, key in flags:
                            pipe.set(key, 1, nx=True, ex=seconds)
                        newly_set = await pipe.execute()
            except Exception:
                logger.warning("%s drain flags not set from the loop", self.drains.name,
                               exc_info=True)
            else:
                todo = [(channel_id, by_channel[channel_id], shard, shards)
                        for (channel_id, shard, shards, _key), new in zip(
                            flags, newly_set, strict=True) if new]
                if todo:
                    await loop.run_in_executor(None, _enqueue, self.drains, todo)
                return
        await loop.run_in_executor(None, _schedule, self.drains, by_channel)

    def _flag_keys(self, channel_id: int) -> list[str]:
        keys = self._flag_keys_by_channel.get(channel_id)
        if keys is None:
            keys = self._flag_keys_by_channel[channel_id] = \
                self.drains.flag_keys(channel_id) or []
        return keys

    @staticmethod
    def _fail(batch: list[_Waiting], exc: Exception) -> None:
        for one in batch:
            if not one.done.done():
                one.done.set_exception(exc)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _enqueue(drains: Drains, todo: list[tuple[int, list[int], int, int]]) -> None:
    """Every drain is tried (each failure takes its own flag down), then the first
    failure is raised: a flag left up without its task would hold back the next ones."""
    failed: Exception | None = None
    try:
        for channel_id, ids, shard, shards in todo:
            try:
                drains.enqueue(channel_id, ids, shard, shards)
            except Exception as exc:
                failed = failed or exc
    finally:
        close_old_connections()  # a drain run at once (tests) used one
    if failed is not None:
        raise failed


def _schedule(drains: Drains, by_channel: dict[int, list[int]]) -> None:
    """The connector's scheduling for rows already committed: its `on_commit` would
    check a Django connection out of the pool and back per flush for nothing (a drain
    run at once, in tests, still uses one: handed back after)."""
    try:
        for channel_id, ids in by_channel.items():
            drains.request(channel_id, ids)
    finally:
        close_old_connections()


def redis_url() -> str | None:
    """The shared cache's Redis, where the drain flags live (None without one)."""
    cache = settings.CACHES["default"]
    location = cache.get("LOCATION")
    if "redis" not in str(cache["BACKEND"]).lower() or not isinstance(location, str):
        return None
    return location.split(",")[0]  # writes go to the first server


def conninfo(application_name: str) -> str:
    """Django's connection parameters for the default database, as a libpq string (in
    tests, the test database)."""
    params = connections["default"].get_connection_params()
    libpq = {k: v for k, v in params.items()
             if isinstance(v, str | int) and k != "prepare_threshold"}
    libpq.setdefault("application_name", application_name)
    return make_conninfo("", **libpq)


_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, GroupCommit]] = \
    weakref.WeakKeyDictionary()


def for_this_loop(drains: Drains, make: Callable[[], GroupCommit]) -> GroupCommit:
    """The running loop's `GroupCommit` of these drains, made by `make` the first time (a
    pool belongs to one loop; uvicorn has one per process, a test may run several)."""
    loop = asyncio.get_running_loop()
    mine = _per_loop.setdefault(loop, {})
    found = mine.get(drains.name)
    if found is None:
        found = mine[drains.name] = make()
    return found


def webhook_commit(drains: Drains, application_name: str) -> GroupCommit:
    """The running loop's group commit for a connector's webhook route, sized like
    WhatsApp's (`WHATSAPP_GROUP_COMMIT_IN_FLIGHT`, `..._LINGER_MS`)."""
    def make() -> GroupCommit:
        in_flight = int(getattr(settings, "WHATSAPP_GROUP_COMMIT_IN_FLIGHT", 1))
        linger = float(getattr(settings, "WHATSAPP_GROUP_COMMIT_LINGER_MS", 2)) / 1000
        return GroupCommit(conninfo(application_name), drains, pool_size=in_flight + 1,
                           in_flight=in_flight, linger=linger, redis_url=redis_url())

    return for_this_loop(drains, make)


async def close_for_this_loop(drains: Drains) -> None:
    found = _per_loop.get(asyncio.get_running_loop(), {}).pop(drains.name, None)
    if found is not None:
        await found.close()
