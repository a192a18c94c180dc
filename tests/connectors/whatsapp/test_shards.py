"""Several drains on one channel (PostgreSQL + Redis): a channel's pending events are split
in shards by the customer's number, one drain per shard, so each conversation stays in one
drain and keeps its order, and every event is processed exactly once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.models.expressions import RawSQL

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.whatsapp import receive, tasks
from atende.tickets.models import Message, Ticket
from tests.connectors.whatsapp.test_drain import Recorder
from tests.fakes.dialog360 import FakeDialog360

postgres_only = pytest.mark.skipif(not settings.IS_POSTGRES, reason=(
    "shards need PostgreSQL (and Redis for their flags); SQLite has one writer anyway"))


def spellings(n: int) -> tuple[str, str]:
    """A Brazilian mobile with its ninth digit and as WhatsApp reports older accounts."""
    eight = f"8{n:07d}"
    return f"55119{eight}", f"5511{eight}"


def expected_shard(payload: dict[str, Any], shards: int) -> int:
    """What `receive.SHARD_KEY` should give: the last 8 digits of the customer's number
    (the sender of a message, the recipient of a status; 0 without one), mod shards."""
    message, status = payload.get("message"), payload.get("status")
    number = ((message.get("from") if isinstance(message, dict) else None)
              or (status.get("recipient_id") if isinstance(status, dict) else None) or "")
    digits = "".join(ch for ch in str(number) if ch in "0123456789")[-8:]
    return int(digits or 0) % shards


def stored_shards(channel: Channel, payloads: list[dict[str, Any]], shards: int
                  ) -> dict[str, int]:
    """Each payload stored as an event, and the shard PostgreSQL gives it."""
    InboundEvent.objects.filter(channel=channel).delete()
    for n, payload in enumerate(payloads):
        InboundEvent.objects.create(organization_id=channel.organization_id,
                                    channel=channel, provider_id=f"e{n}", payload=payload)
    key = RawSQL(f"mod({receive.SHARD_KEY}, %s)", (shards,))
    return dict(InboundEvent.objects.filter(channel=channel)
                .annotate(shard=key).values_list("provider_id", "shard"))


@postgres_only
@pytest.mark.django_db
def test_both_spellings_of_a_number_and_its_statuses_fall_in_one_shard(
        wa: FakeDialog360, wa_channel: Channel) -> None:
    payloads: list[dict[str, Any]] = []
    for n in range(50):
        new, old = spellings(n)
        payloads += [{"kind": "message", "message": {"from": new}},
                     {"kind": "message", "message": {"from": old}},
                     {"kind": "status", "status": {"recipient_id": old}}]
    shard = stored_shards(wa_channel, payloads, 2)
    for n in range(50):
        assert shard[f"e{3 * n}"] == shard[f"e{3 * n + 1}"] == shard[f"e{3 * n + 2}"]
    assert set(shard.values()) == {0, 1}  # the customers spread over both


@postgres_only
@pytest.mark.django_db
def test_postgresql_puts_each_stored_event_in_the_shard_of_its_customer(
        wa: FakeDialog360, wa_channel: Channel) -> None:
    payloads = [{"kind": "message", "message": {"from": spellings(n)[n % 2]}}
                for n in range(20)]
    payloads += [{"kind": "status", "status": {"recipient_id": "5511987654321"}},
                 {"kind": "message", "message": {"from": "+55 (11) 98765-4320"}},
                 {"kind": "message", "message": {"from": 5511987654323}},
                 {"kind": "message", "message": {"from": "abc"}},
                 {"kind": "error", "errors": [{"code": 1}]}]
    for shards in (2, 3):
        assert stored_shards(wa_channel, payloads, shards) == {
            f"e{n}": expected_shard(p, shards) for n, p in enumerate(payloads)}
    assert expected_shard(payloads[-2], 3) == expected_shard(payloads[-1], 3) == 0


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_drains_of_one_channel_keep_conversations_in_order_and_take_each_event_once(
        wa: FakeDialog360, wa_channel: Channel, monkeypatch: pytest.MonkeyPatch,
        settings: Any) -> None:
    if not receive._shared_cache():
        pytest.skip("shards need a shared cache (Redis) for their flags")
    settings.WHATSAPP_DRAIN_SHARDS = 2
    monkeypatch.setattr(receive, "DRAIN_BATCH", 9)  # many small batches, interleaved
    queued = Recorder()
    monkeypatch.setattr(tasks, "drain_whatsapp_channel", queued)  # the threads drain
    customers, per_customer = 12, 10
    for j in range(per_customer):  # the customers' messages interleaved, both spellings
        for n in range(customers):
            wa.customer_sends(spellings(n)[j % 2], f"c{n} m{j}")
    for body in wa.outbox:
        receive.store_events(wa_channel, body)
    total = customers * per_customer
    assert {(c[2], c[3]) for c in queued.calls} == {(0, 2), (1, 2)}  # a drain per shard

    barrier = threading.Barrier(2)
    taken: dict[int, int] = {}
    errors: list[BaseException] = []

    def drain(shard: int) -> None:
        try:
            barrier.wait()
            taken[shard] = receive.drain_channel(wa_channel.pk, [], shard, 2)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=drain, args=(s,)) for s in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert taken[0] > 0 and taken[1] > 0 and taken[0] + taken[1] == total
    events = InboundEvent.objects.filter(channel=wa_channel)
    assert set(events.values_list("status", flat=True)) == {InboundStatus.PROCESSED}
    message_ids = list(events.values_list("message_id", flat=True))
    assert len(set(message_ids)) == total and None not in message_ids  # exactly once
    assert Message.objects.filter(channel=wa_channel).count() == total
    assert Ticket.objects.filter(channel=wa_channel).count() == customers
    for ticket in Ticket.objects.filter(channel=wa_channel):
        texts = list(ticket.messages.order_by("pk").values_list("text", flat=True))
        n = texts[0].split()[0]
        assert texts == [f"{n} m{j}" for j in range(per_customer)]  # in order
