"""The PostgreSQL acknowledgement (`group_commit`), through the production ASGI application
driven by httpx's ASGI transport: concurrent deliveries in one event loop, as uvicorn runs
them. Committed data throughout (the route writes on its own connections)."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from atende.asgi import application
from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.whatsapp import group_commit, receive
from atende.tickets.models import Message
from tests.fakes.dialog360 import FakeDialog360

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="the PostgreSQL acknowledgement"),
]


def customer(i: int) -> str:
    return f"55119{i:08d}"


def post_all(channel: Channel, bodies: list[bytes], headers: dict[str, str],
             ) -> tuple[list[tuple[int, dict[str, Any]]], int]:
    """POST the bodies concurrently in one loop; the answers and the INSERTs it took."""

    async def run() -> tuple[list[tuple[int, dict[str, Any]]], int]:
        transport = httpx.ASGITransport(app=application)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                answers = await asyncio.gather(*(
                    client.post(f"/whatsapp/{channel.pk}/webhook", content=body,
                                headers={"content-type": "application/json", **headers})
                    for body in bodies))
            return ([(a.status_code, a.json()) for a in answers],
                    group_commit.for_this_loop().flushes)
        finally:
            await group_commit.close_for_this_loop()

    return asyncio.run(run())


@pytest.fixture
def ack_connections() -> Iterator[None]:
    yield
    open_ones = -1
    for _try in range(50):  # none left open to block the test database's drop
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                           "AND datname = current_database()", [group_commit.APPLICATION_NAME])
            open_ones = cursor.fetchone()[0]
        if open_ones == 0:
            break
        time.sleep(0.1)
    assert open_ones == 0


def test_concurrent_deliveries_share_a_commit_and_are_processed(
        wa: FakeDialog360, wa_channel: Channel, ack_connections: None) -> None:
    bodies = [json.dumps(wa.customer_sends(customer(i), f"Oi {i}")).encode() for i in range(30)]
    answers, flushes = post_all(wa_channel, bodies, wa.webhook["headers"])
    assert answers == [(200, {"ok": True, "events": 1})] * 30
    assert flushes < 30  # grouped: fewer INSERT/COMMITs than requests
    events = InboundEvent.objects.filter(channel=wa_channel)
    assert events.count() == 30
    assert set(events.values_list("status", flat=True)) == {InboundStatus.PROCESSED}
    assert sorted(Message.objects.filter(channel=wa_channel).values_list("text", flat=True)) \
        == sorted(f"Oi {i}" for i in range(30))
    # The payload is the split event, as the ORM path stores it.
    event = events.get(provider_id=json.loads(bodies[0])["entry"][0]["changes"][0]["value"]
                       ["messages"][0]["id"])
    assert (event.payload["kind"], event.organization_id) == ("message",
                                                              wa_channel.organization_id)


def test_the_statement_is_planned_each_time_not_prepared(
        wa_channel: Channel, ack_connections: None) -> None:
    """A prepared statement turns generic after five runs, planned on the statistics of
    that moment, and its cost then grew with the pending events (measured: 0.3 ms of
    PostgreSQL CPU per event at 2,000 pending, 2.5 ms at 12,000)."""

    async def run() -> tuple[int, list[int]]:
        gc = group_commit.for_this_loop()
        try:
            for i in range(12):  # one at a time: each a flush of its own
                await gc.store(wa_channel.pk, wa_channel.organization_id,
                               [(f"wamid.plan.{i}", json.dumps({"kind": "unknown"}))])
            prepared: list[int] = []
            for _conn in range(2):  # the pool's connections, both if it opened two
                async with gc.pool.connection() as conn:
                    cursor = await conn.execute("SELECT count(*) FROM pg_prepared_statements")
                    row = await cursor.fetchone()
                    prepared.append(row[0] if row else -1)
            return gc.flushes, prepared
        finally:
            await group_commit.close_for_this_loop()

    flushes, prepared = asyncio.run(run())
    assert flushes == 12
    assert prepared == [0, 0]
    assert InboundEvent.objects.filter(channel=wa_channel,
                                       provider_id__startswith="wamid.plan.").count() == 12


def test_under_load_a_flush_lingers_for_more_requests_and_a_lone_one_does_not(
        wa_channel: Channel, ack_connections: None) -> None:
    def event(name: str) -> list[tuple[str, str]]:
        return [(f"wamid.linger.{name}", json.dumps({"kind": "unknown"}))]

    async def run(linger: float) -> tuple[int, int, float, float]:
        gc = group_commit.GroupCommit(group_commit.conninfo(), linger=linger)
        store = functools.partial(gc.store, wa_channel.pk, wa_channel.organization_id)
        try:
            await asyncio.gather(store(event(f"{linger}-a1")), store(event(f"{linger}-a2")))
            first = gc.flushes  # one flush of two requests: under load from now on

            async def later() -> list[int]:
                await asyncio.sleep(0.05)
                return await store(event(f"{linger}-b2"))

            started = time.monotonic()
            await asyncio.gather(store(event(f"{linger}-b1")), later())
            joined = time.monotonic() - started  # woken by b2, not by the linger's end
            second = gc.flushes - first
            # That flush took two again; this one waits for a second request that never
            # comes (the whole linger), then lowers its target...
            await store(event(f"{linger}-c1"))
            started = time.monotonic()
            await store(event(f"{linger}-d1"))  # ...so this lone one goes at once
            return first, second, joined, time.monotonic() - started
        finally:
            await gc.close()

    first, second, joined, lone = asyncio.run(run(linger=1.0))
    assert (first, second) == (1, 1)  # the request 50 ms later joined the lingering flush
    assert joined < 1.0 and lone < 1.0
    first, second, _joined, _lone = asyncio.run(run(linger=0.0))
    assert (first, second) == (1, 2)  # without lingering, each went alone
    assert InboundEvent.objects.filter(provider_id__startswith="wamid.linger.").count() == 12


def test_drain_flags_are_set_from_the_loop_and_a_queued_drain_is_enough(
        wa_channel: Channel, monkeypatch: pytest.MonkeyPatch, ack_connections: None) -> None:
    from django.core.cache import cache

    from atende.connectors.whatsapp import tasks

    enqueued: list[tuple[Any, ...]] = []

    class Queue:
        def enqueue(self, *args: Any) -> None:
            enqueued.append(args)

    monkeypatch.setattr(tasks, "drain_whatsapp_channel", Queue())

    async def run(redis_url: str | None, name: str) -> None:
        gc = group_commit.GroupCommit(group_commit.conninfo(), redis_url=redis_url)
        try:
            await gc.store(wa_channel.pk, wa_channel.organization_id,
                           [(f"wamid.flag.{name}", json.dumps({"kind": "unknown"}))])
        finally:
            await gc.close()

    flag = receive._drain_flag(wa_channel.pk)
    cache.delete(flag)
    url = group_commit._redis_url()
    assert url is not None
    asyncio.run(run(url, "first"))  # sets the flag: one drain enqueued
    assert cache.get(flag) == 1 and len(enqueued) == 1
    asyncio.run(run(url, "second"))  # the flag is up: that drain will read this one too
    assert len(enqueued) == 1
    cache.delete(flag)
    # Redis unreachable from the loop: the thread sets the flag through the cache.
    asyncio.run(run("redis://127.0.0.1:1/0", "third"))
    assert len(enqueued) == 2 and cache.get(flag) == 1
    cache.delete(flag)
    assert [args[0] for args in enqueued] == [wa_channel.pk] * 2


def test_a_failed_enqueue_takes_its_own_flag_down_and_the_other_drains_are_enqueued(
        wa_channel: Channel, monkeypatch: pytest.MonkeyPatch, ack_connections: None) -> None:
    from django.core.cache import cache

    from atende.connectors.whatsapp import tasks

    other = Channel.objects.create(organization_id=wa_channel.organization_id,
                                   kind=wa_channel.kind, name="WhatsApp 2",
                                   settings=dict(wa_channel.settings))
    enqueued: list[int] = []

    class Queue:
        def enqueue(self, channel_id: int, *args: Any) -> None:
            if channel_id == wa_channel.pk:
                raise ConnectionError("the task queue is down for this one")
            enqueued.append(channel_id)

    monkeypatch.setattr(tasks, "drain_whatsapp_channel", Queue())
    flags = [receive._drain_flag(c.pk) for c in (wa_channel, other)]
    cache.delete_many(flags)

    async def run() -> list[Any]:
        gc = group_commit.GroupCommit(group_commit.conninfo(),
                                      redis_url=group_commit._redis_url())
        try:  # both in one flush: two flags set in one round trip
            return await asyncio.gather(*(
                gc.store(c.pk, c.organization_id,
                         [(f"wamid.two.{c.pk}", json.dumps({"kind": "unknown"}))])
                for c in (wa_channel, other)), return_exceptions=True)
        finally:
            await gc.close()

    results = asyncio.run(run())
    assert [type(r) for r in results] == [group_commit.Unavailable] * 2  # 5xx: retried
    assert enqueued == [other.pk]
    assert cache.get(flags[0]) is None  # down again: the redelivery will enqueue
    assert cache.get(flags[1]) == 1  # its drain is queued
    cache.delete_many(flags)


def test_redeliveries_in_one_batch_and_later_leave_one_event(
        wa: FakeDialog360, wa_channel: Channel, ack_connections: None) -> None:
    body = json.dumps(wa.customer_sends(customer(1), "Só uma vez")).encode()
    answers, _flushes = post_all(wa_channel, [body] * 8, wa.webhook["headers"])
    assert {status for status, _answer in answers} == {200}
    answers, _flushes = post_all(wa_channel, [body] * 3, wa.webhook["headers"])
    # Already processed: stored once, nothing more to schedule.
    assert answers == [(200, {"ok": True, "events": 0})] * 3
    assert InboundEvent.objects.filter(channel=wa_channel).count() == 1
    assert Message.objects.filter(channel=wa_channel).count() == 1


def test_redelivery_of_an_event_not_yet_processed_schedules_it_again(
        wa: FakeDialog360, wa_channel: Channel, ack_connections: None) -> None:
    payload = wa.customer_sends(customer(2), "Ficou pendente")
    item = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    stuck = InboundEvent.objects.create(
        organization_id=wa_channel.organization_id, channel=wa_channel,
        provider_id=item["id"], payload={"kind": "message", "message": item, "name": ""})
    answers, _flushes = post_all(wa_channel, [json.dumps(payload).encode()],
                                 wa.webhook["headers"])
    assert answers == [(200, {"ok": True, "events": 1})]
    stuck.refresh_from_db()
    assert stuck.status == InboundStatus.PROCESSED
    assert Message.objects.get(channel=wa_channel).text == "Ficou pendente"


def test_a_body_postgresql_refuses_is_quarantined_alone(
        wa: FakeDialog360, wa_channel: Channel, ack_connections: None) -> None:
    good = [json.dumps(wa.customer_sends(customer(i), f"Bom {i}")).encode() for i in range(5)]
    # Valid JSON, but jsonb cannot hold U+0000.
    bad = json.dumps(wa.customer_sends(customer(9), "nul \u0000 aqui")).encode()
    assert b"\\u0000" in bad
    answers, _flushes = post_all(wa_channel, [*good[:3], bad, *good[3:]], wa.webhook["headers"])
    assert [status for status, _answer in answers] == [200, 200, 200, 400, 200, 200]
    kept = InboundEvent.objects.get(pk=answers[3][1]["event"])
    assert kept.status == InboundStatus.QUARANTINED and "nul" in kept.payload["body"]
    assert Message.objects.filter(channel=wa_channel).count() == 5
    # A NUL in the provider's id (a text column, not the payload) is refused alike.
    bad_id = json.dumps(wa.customer_sends(customer(8), "id ruim", wamid="wamid.\u0000x"))
    answers, _flushes = post_all(wa_channel, [bad_id.encode(), good[0]], wa.webhook["headers"])
    assert [status for status, _answer in answers] == [400, 200]
    assert InboundEvent.objects.get(pk=answers[0][1]["event"]).status \
        == InboundStatus.QUARANTINED


def test_a_failed_commit_is_never_answered_200(
        wa: FakeDialog360, wa_channel: Channel, ack_connections: None) -> None:
    """A COMMIT that fails (here a deferred trigger refusing one row) answers 5xx for that
    body only, and stores nothing of it; the batch's other bodies are stored alone."""
    table = InboundEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE FUNCTION test_refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.provider_id LIKE 'wamid.poison%%' THEN
                    RAISE EXCEPTION 'refused at commit';
                END IF;
                RETURN NEW;
            END $$""")
        cursor.execute(f"""CREATE CONSTRAINT TRIGGER test_refuse_poison AFTER INSERT ON {table}
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_poison()""")
    try:
        good = [json.dumps(wa.customer_sends(customer(i), f"Bom {i}")).encode()
                for i in range(4)]
        poison = json.dumps(wa.customer_sends(customer(8), "veneno",
                                              wamid="wamid.poison1")).encode()
        answers, _flushes = post_all(wa_channel, [*good[:2], poison, *good[2:]],
                                     wa.webhook["headers"])
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER test_refuse_poison ON {table}")
            cursor.execute("DROP FUNCTION test_refuse_poison()")
    assert [status for status, _answer in answers] == [200, 200, 503, 200, 200]
    assert not InboundEvent.objects.filter(provider_id="wamid.poison1").exists()
    assert InboundEvent.objects.filter(channel=wa_channel).count() == 4


def test_connections_closed_by_the_server_are_replaced(
        wa: FakeDialog360, wa_channel: Channel, ack_connections: None) -> None:
    """What the route sees when PostgreSQL restarts: its pooled connection is gone."""

    async def run() -> list[int]:
        transport = httpx.ASGITransport(app=application)
        statuses = []
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                for i in range(3):
                    body = json.dumps(wa.customer_sends(customer(i), f"Depois {i}")).encode()
                    answer = await client.post(
                        f"/whatsapp/{wa_channel.pk}/webhook", content=body,
                        headers={"content-type": "application/json", **wa.webhook["headers"]})
                    statuses.append(answer.status_code)
                    await asyncio.to_thread(_terminate_ack_connections)
        finally:
            await group_commit.close_for_this_loop()
        return statuses

    assert asyncio.run(run()) == [200, 200, 200]
    assert InboundEvent.objects.filter(channel=wa_channel).count() == 3


def _terminate_ack_connections() -> int:
    from django.db import close_old_connections
    from django.db import connection as conn

    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                           "WHERE application_name = %s AND datname = current_database()",
                           [group_commit.APPLICATION_NAME])
            return int(cursor.fetchone()[0])
    finally:
        close_old_connections()


def test_database_unreachable_answers_503_and_stores_nothing(
        wa: FakeDialog360, wa_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    from atende.channels import group_commit as kit  # the kit's, which WhatsApp's uses

    monkeypatch.setattr(kit, "TIMEOUT", 1.0)
    monkeypatch.setattr(group_commit, "conninfo",
                        lambda: f"host=127.0.0.1 port={port} dbname=x connect_timeout=1")
    body = json.dumps(wa.customer_sends(customer(3), "Sem banco")).encode()
    answers, flushes = post_all(wa_channel, [body, body], wa.webhook["headers"])
    assert answers == [(503, {"error": "temporarily unavailable"})] * 2
    assert flushes == 0
    assert not InboundEvent.objects.filter(channel=wa_channel).exists()


def test_events_stored_but_not_scheduled_answer_5xx_and_the_redelivery_schedules_them(
        wa: FakeDialog360, wa_channel: Channel, monkeypatch: pytest.MonkeyPatch,
        ack_connections: None) -> None:
    from atende.connectors.whatsapp import tasks

    class BrokerDown:
        def enqueue(self, *args: Any) -> None:
            raise ConnectionError("the task queue is down")

    body = json.dumps(wa.customer_sends(customer(4), "Fila fora")).encode()
    with monkeypatch.context() as patched:
        # The drain flag is set; the task cannot be enqueued, so the flag must come down
        # again or the redelivery below would not enqueue one either.
        patched.setattr(tasks, "drain_whatsapp_channel", BrokerDown())
        answers, _flushes = post_all(wa_channel, [body], wa.webhook["headers"])
    assert answers == [(503, {"error": "temporarily unavailable"})]
    stored = InboundEvent.objects.get(channel=wa_channel)  # committed, not yet processed
    assert stored.status == InboundStatus.RECEIVED
    # The provider retries the 5xx: the pending event is scheduled this time.
    answers, _flushes = post_all(wa_channel, [body], wa.webhook["headers"])
    assert answers == [(200, {"ok": True, "events": 1})]
    stored.refresh_from_db()
    assert stored.status == InboundStatus.PROCESSED
    assert Message.objects.get(channel=wa_channel).text == "Fila fora"


def test_a_redelivered_quarantined_event_is_processed_again_a_bounded_number_of_times(
        wa: FakeDialog360, wa_channel: Channel, ack_connections: None) -> None:
    payload = wa.customer_sends(customer(3), "Falhou de passagem")
    item = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    failed = InboundEvent.objects.create(
        organization_id=wa_channel.organization_id, channel=wa_channel,
        provider_id=item["id"], payload={"kind": "message", "message": item, "name": ""},
        status=InboundStatus.QUARANTINED, error="OperationalError: connection lost",
        processed_at=timezone.now())
    answers, _flushes = post_all(wa_channel, [json.dumps(payload).encode()],
                                 wa.webhook["headers"])
    assert answers == [(200, {"ok": True, "events": 1})]
    failed.refresh_from_db()
    assert (failed.status, failed.error, failed.redelivery_retries) == (
        InboundStatus.PROCESSED, "", 1)
    assert Message.objects.get(channel=wa_channel).text == "Falhou de passagem"

    # Retried as often as allowed already: a redelivery leaves it quarantined.
    InboundEvent.objects.filter(pk=failed.pk).update(
        status=InboundStatus.QUARANTINED, error="still bad",
        redelivery_retries=receive.MAX_REDELIVERY_RETRIES)
    answers, _flushes = post_all(wa_channel, [json.dumps(payload).encode()],
                                 wa.webhook["headers"])
    assert answers == [(200, {"ok": True, "events": 0})]
    failed.refresh_from_db()
    assert (failed.status, failed.error) == (InboundStatus.QUARANTINED, "still bad")


def test_the_statement_writes_every_column_a_new_event_needs() -> None:
    """Its columns come from the model; a field it leaves out needs a database default."""
    from django.db.models import NOT_PROVIDED

    from atende.channels.models import InboundEvent
    from atende.connectors.whatsapp import group_commit

    for field in InboundEvent._meta.concrete_fields:
        if field.name in group_commit.WRITTEN or field.primary_key:
            continue
        assert field.null or field.db_default is not NOT_PROVIDED, field.name
    assert all(InboundEvent._meta.get_field(name).column in group_commit.INSERT
               for name in group_commit.WRITTEN)
