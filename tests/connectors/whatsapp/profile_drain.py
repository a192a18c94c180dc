"""Not part of the suite (the name is not `test_*`): the CPU of one drain in-process.

    PG=1 /work/briefs/t tests/connectors/whatsapp/profile_drain.py -s -q
    PG=1 PROFILE=/tmp/drain.txt /work/briefs/t tests/connectors/whatsapp/profile_drain.py -s -q
    PG=1 SHARDS=2 /work/briefs/t tests/connectors/whatsapp/profile_drain.py -s -q

Stores a backlog shaped like `bench.whatsapp_webhook`'s (200 events drained first, then
EVENTS more from 1,000 customers) and drains it in this process, reporting the drain's
CPU per event (`time.process_time`) and its PostgreSQL backend's (from /proc: the server
must run on this machine). PROFILE writes a pyinstrument profile; SHARDS drains the shards
one after the other.
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from bench.whatsapp_webhook import webhook_body
from django.db import connection

from atende.channels.models import Channel, InboundEvent, InboundStatus
from atende.connectors.whatsapp import receive, tasks

pytestmark = pytest.mark.django_db(transaction=True)


class Held:
    def enqueue(self, *args: Any) -> None:
        """Drains are run below, not queued."""


def backend_cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_drain_cpu(wa_channel: Channel, monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL (PG=1)")
    monkeypatch.setattr(tasks, "drain_whatsapp_channel", Held())
    events = int(os.environ.get("EVENTS", "3000"))
    shards = int(os.environ.get("SHARDS", "1"))
    for i in range(200):
        receive.store_events(wa_channel, webhook_body(i, "warm"))
    receive.drain_channel(wa_channel.pk)
    for i in range(events):
        receive.store_events(wa_channel, webhook_body(i, "run"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]

    def drain() -> int:
        if shards == 1:  # also what the code before shards understands
            return receive.drain_channel(wa_channel.pk)
        return sum(receive.drain_channel(wa_channel.pk, [], s, shards) for s in range(shards))

    profiler: Any = None
    if os.environ.get("PROFILE"):
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    pg, cpu = backend_cpu_seconds(backend), time.process_time()
    taken = drain()
    cpu, pg = time.process_time() - cpu, backend_cpu_seconds(backend) - pg
    if profiler is not None:
        profiler.stop()
        with open(os.environ["PROFILE"], "w") as out:
            out.write(profiler.output_text(unicode=False))
    print(f"\ndrained {taken} events: {cpu * 1000 / taken:.3f} ms CPU/event in this "
          f"process, {pg * 1000 / taken:.3f} ms in its PostgreSQL backend")
    assert taken == events
    assert not InboundEvent.objects.exclude(status=InboundStatus.PROCESSED).exists()
