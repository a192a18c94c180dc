"""The process-wide outbox reader: hole tracking, fan-out per organisation, lifecycle, and
the replay/live hand-over of `subscribe`. The outbox is faked here (a list of rows whose
commits the test controls); the real tables are exercised in test_stream_processes.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Collection, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest

from atende.realtime import hub as hub_module
from atende.realtime import outbox
from atende.realtime.brokers import OutboxBroker
from atende.realtime.hub import MAX_HOLES, Hub, Subscription, Tail


@dataclass
class Row:
    pk: int
    organization_id: int


@dataclass
class FakeOutbox:
    """Rows in id order; `visible` are the committed ones."""

    rows: dict[int, Row] = field(default_factory=dict)
    visible: set[int] = field(default_factory=set)
    next_id: int = 1

    def insert(self, org: int, *, commit: bool = True) -> int:
        pk, self.next_id = self.next_id, self.next_id + 1
        self.rows[pk] = Row(pk, org)
        if commit:
            self.visible.add(pk)
        return pk

    def commit(self, pk: int) -> None:
        self.visible.add(pk)

    def _committed(self) -> list[Row]:
        return [self.rows[i] for i in sorted(self.visible)]

    async def latest_id(self) -> int:
        return max(self.visible, default=0)

    async def present_ids(self, low: int, high: int) -> set[int]:
        return {i for i in self.visible if low < i <= high}

    async def tail(self, after: int, also: Collection[int], limit: int = outbox.BATCH
                   ) -> list[Row]:
        return [r for r in self._committed() if r.pk > after or r.pk in also][:limit]

    async def for_org_after(self, org: int, after: int, limit: int = outbox.BATCH
                            ) -> list[Row]:
        return [r for r in self._committed() if r.organization_id == org and r.pk > after
                ][:limit]


@pytest.fixture
def fake_outbox(monkeypatch: pytest.MonkeyPatch) -> FakeOutbox:
    fake = FakeOutbox()
    monkeypatch.setattr(outbox, "latest_id_async", fake.latest_id)
    monkeypatch.setattr(outbox, "present_ids_async", fake.present_ids)
    monkeypatch.setattr(outbox, "tail_async", fake.tail)
    monkeypatch.setattr(outbox, "for_org_after_async", fake.for_org_after)
    return fake


class ManualWakeups:
    """Wake-ups the test triggers; records whether the source was closed."""

    def __init__(self) -> None:
        self.closed = False
        self.started = 0
        self._queue: asyncio.Queue[None] | None = None

    async def __call__(self) -> AsyncGenerator[None, None]:
        self.started += 1
        self._queue = asyncio.Queue()
        try:
            while True:
                yield
                await self._queue.get()
        finally:
            self.closed = True

    async def wake(self) -> None:
        assert self._queue is not None
        self._queue.put_nowait(None)
        for _ in range(5):  # let the hub read and dispatch
            await asyncio.sleep(0)


def run(coro: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(coro, timeout=10))


# --- Tail -------------------------------------------------------------------------------------

def test_contiguous_ids_leave_no_holes() -> None:
    tail = Tail(cursor=3)
    tail.advance([4, 5, 6], now=0)
    assert (tail.cursor, tail.holes, tail.floor()) == (6, {}, 7)


def test_a_skipped_id_is_a_hole_until_it_arrives() -> None:
    tail = Tail(cursor=3)
    tail.advance([5, 7], now=1.0)
    assert tail.cursor == 7
    assert set(tail.holes) == {4, 6}
    assert tail.floor() == 4
    tail.advance([4], now=2.0)
    assert set(tail.holes) == {6}


def test_holes_expire_after_the_grace_period() -> None:
    tail = Tail(cursor=0, grace=30)
    tail.advance([2], now=100.0)
    tail.advance([], now=129.0)
    assert set(tail.holes) == {1}
    tail.advance([], now=131.0)
    assert tail.holes == {}


def test_a_new_reader_treats_missing_recent_ids_as_holes() -> None:
    tail = Tail.starting_at(10, present={7, 8, 10}, low=6, now=0)
    assert (tail.cursor, set(tail.holes)) == (10, {9})


def test_holes_are_capped_keeping_the_newest() -> None:
    tail = Tail(cursor=0)
    tail.advance([MAX_HOLES * 3], now=0)
    assert len(tail.holes) == MAX_HOLES
    assert min(tail.holes) == MAX_HOLES * 2


# --- Subscription -----------------------------------------------------------------------------

def test_a_subscription_that_falls_behind_ends() -> None:
    async def scenario() -> None:
        sub = Subscription(1, backlog=2)
        for pk in (1, 2, 3):
            sub.offer(Row(pk, 1))  # type: ignore[arg-type]
        assert sub.ended
        got = [await sub.next(), await sub.next(), await sub.next()]
        assert [r.pk if r else None for r in got] == [1, 2, None]

    run(scenario())


# --- Hub --------------------------------------------------------------------------------------

def test_events_reach_only_their_organisations_subscriptions(fake_outbox: FakeOutbox) -> None:
    async def scenario() -> None:
        wakeups = ManualWakeups()
        hub = Hub(wakeups)
        acme, globex = await hub.join(1), await hub.join(2)
        fake_outbox.insert(1)
        fake_outbox.insert(2)
        fake_outbox.insert(1)
        await wakeups.wake()
        assert [(await acme.next()).pk for _ in range(2)] == [1, 3]  # type: ignore[union-attr]
        assert (await globex.next()).pk == 2  # type: ignore[union-attr]

    run(scenario())


def test_a_late_commit_of_a_lower_id_is_still_delivered(fake_outbox: FakeOutbox) -> None:
    async def scenario() -> None:
        wakeups = ManualWakeups()
        hub = Hub(wakeups)
        sub = await hub.join(1)
        slow = fake_outbox.insert(1, commit=False)
        fast = fake_outbox.insert(1)
        await wakeups.wake()
        assert (await sub.next()).pk == fast  # type: ignore[union-attr]
        fake_outbox.commit(slow)
        await wakeups.wake()
        assert (await sub.next()).pk == slow  # type: ignore[union-attr]

    run(scenario())


def test_an_event_in_flight_when_the_reader_starts_is_delivered(
        fake_outbox: FakeOutbox) -> None:
    async def scenario() -> None:
        slow = fake_outbox.insert(1, commit=False)
        fake_outbox.insert(1)
        wakeups = ManualWakeups()
        hub = Hub(wakeups)
        sub = await hub.join(1)
        fake_outbox.commit(slow)
        await wakeups.wake()
        assert (await sub.next()).pk == slow  # type: ignore[union-attr]

    run(scenario())


def test_the_reader_stops_with_its_last_subscription_and_restarts(
        fake_outbox: FakeOutbox) -> None:
    async def scenario() -> None:
        wakeups = ManualWakeups()
        hub = Hub(wakeups)
        first, second = await hub.join(1), await hub.join(2)
        hub.leave(first)
        assert hub.running and not wakeups.closed
        hub.leave(second)
        assert not hub.running
        await asyncio.sleep(0.01)
        assert wakeups.closed  # the wake-up source (a Redis connection) is closed

        again = await hub.join(1)
        assert hub.running and wakeups.started == 2
        fake_outbox.insert(1)
        await wakeups.wake()
        assert (await again.next()).pk == 1  # type: ignore[union-attr]
        hub.leave(again)

    run(scenario())


def test_a_failing_read_is_retried_at_the_next_wake_up(fake_outbox: FakeOutbox,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    calls = {"n": 0}
    real_tail = fake_outbox.tail

    async def flaky(after: int, also: Collection[int], limit: int = outbox.BATCH) -> list[Row]:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("database went away")
        return await real_tail(after, also, limit)

    monkeypatch.setattr(outbox, "tail_async", flaky)

    async def scenario() -> None:
        wakeups = ManualWakeups()
        hub = Hub(wakeups)
        sub = await hub.join(1)
        fake_outbox.insert(1)
        await wakeups.wake()  # fails
        await wakeups.wake()  # reads
        assert (await sub.next()).pk == 1  # type: ignore[union-attr]

    run(scenario())
    assert "reading the outbox failed" in caplog.text


# --- subscribe: replay then live --------------------------------------------------------------

def test_subscribe_replays_then_goes_live_without_duplicates(fake_outbox: FakeOutbox,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    wakeups = ManualWakeups()
    monkeypatch.setattr(OutboxBroker, "wakeups", lambda self: wakeups())

    async def scenario() -> None:
        broker = OutboxBroker(poll_seconds=60)
        for _ in range(3):
            fake_outbox.insert(1)
        stream = broker.subscribe(1, after_id=1)
        replayed = [(await anext(stream)).pk for _ in range(2)]
        fake_outbox.insert(1)
        await wakeups.wake()
        assert (await anext(stream)).pk == 4
        fake_outbox.insert(1)
        await wakeups.wake()
        assert (await anext(stream)).pk == 5
        assert replayed == [2, 3]
        await stream.aclose()
        assert not broker.hub().running

    run(scenario())


def test_replay_and_live_overlap_is_delivered_once(fake_outbox: FakeOutbox,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    wakeups = ManualWakeups()
    monkeypatch.setattr(OutboxBroker, "wakeups", lambda self: wakeups())

    async def scenario() -> None:
        broker = OutboxBroker(poll_seconds=60)
        live = broker.subscribe(2, after_id=None)  # keeps the hub's position at 0
        pending = asyncio.ensure_future(anext(live))
        await asyncio.sleep(0.01)
        fake_outbox.insert(1)
        fake_outbox.insert(1)
        replaying = broker.subscribe(1, after_id=0)
        # Both rows are read by replay, then offered again by the hub: one copy each.
        got = [(await anext(replaying)).pk for _ in range(2)]
        await wakeups.wake()
        fake_outbox.insert(1)
        await wakeups.wake()
        got.append((await anext(replaying)).pk)
        assert got == [1, 2, 3]
        pending.cancel()
        await asyncio.wait({pending})
        await live.aclose()
        await replaying.aclose()

    run(scenario())


def test_the_hub_is_per_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    broker = OutboxBroker(poll_seconds=60)
    hubs: list[Hub] = []

    async def grab() -> None:
        hubs.append(broker.hub())

    run(grab())
    run(grab())
    assert hubs[0] is not hubs[1]
    assert hub_module.SUBSCRIBER_BACKLOG > outbox.BATCH  # a full read never ends a stream
