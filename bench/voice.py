"""Concurrent calls through the FastAGI server: IVR step latency.

    .venv/bin/python -m bench.voice                     # 200 concurrent calls, SQLite
    .venv/bin/python -m bench.voice --calls 400 --postgres

The production `AgiServer` runs in this process on its own event loop and thread (as in
`atende voice`); the fake Asterisk of the tests places C concurrent calls over TCP on
127.0.0.1 from another loop. Each call goes through the IVR of a voice channel with two
services: a mix of callers picking 1 or 2, letting the menu time out (timeout 1 s, one
repeat, then voicemail), and hanging up mid-menu; every call ends on a ticket.

The step latency is what the caller's side sees: from Asterisk's reply to one command to
the server's next command (so it includes the database writes of a routed call, a
voicemail or a missed call). Reported: p50/p99/max over every step, calls/s, and whether
every call ended with its ticket.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch_db import throwaway_database


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="atende-bench-voice-")
    os.environ.update(ATENDE_DATA_DIR=data_dir, ATENDE_LOG_LEVEL="WARNING",
                      ATENDE_TASKS_IMMEDIATE="1", DJANGO_SETTINGS_MODULE="atende.settings")
    os.environ.pop("REDIS_URL", None)
    with throwaway_database(args.postgres, "bench_voice"):
        return run(args.calls, "postgresql" if args.postgres else "sqlite")


def run(count: int, database: str) -> int:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from tests.fakes.asterisk import HANGUP, Caller, FakeAsterisk

    from atende.automation.models import BusinessCalendar
    from atende.connectors.voice.agi_server import AgiServer
    from atende.connectors.voice.channels import IvrSettings, configure_ivr, create_voice_channel
    from atende.connectors.voice.models import Call
    from atende.tenancy.models import Organization, Service

    org = Organization.objects.create(name="Bench", slug="bench-voice", language="pt-br")
    support = Service.objects.create(organization=org, name="Suporte")
    billing = Service.objects.create(organization=org, name="Financeiro")
    calendar = BusinessCalendar.objects.create(organization=org, name="24x7", always_open=True)
    channel = create_voice_channel(org, "Central", ["+55 11 3030-0000"], service=support,
                                   calendar=calendar)
    configure_ivr(channel, IvrSettings(name="URA", welcome="Bem-vindo.",
                                       unanswered="Até logo.", timeout_seconds=1, repeats=1),
                  [support, billing])

    loop = asyncio.new_event_loop()
    server = AgiServer("127.0.0.1", 0)
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    peer = FakeAsterisk("127.0.0.1", server.port)
    behaviours: list[list[str | None]] = [["1"], ["2"], [None, "2"], [HANGUP], [None, None]]

    async def place() -> list[list[float]]:
        callers = [Caller(number=f"119876{i:05d}", uniqueid=f"bench.{i}",
                          keys=list(behaviours[i % len(behaviours)]), voicemail_seconds=1.0)
                   for i in range(count)]
        transcripts = await asyncio.gather(*(peer.call(c, timeout=300) for c in callers))
        return [t.gaps for t in transcripts]

    started = time.perf_counter()
    gaps = asyncio.run(place())
    # The last call's record is written after its connection closed.
    deadline = time.monotonic() + 120
    while server.handled < count and time.monotonic() < deadline:
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    steps = [g for call in gaps for g in call]
    on_tickets = Call.objects.filter(ticket__isnull=False).count()
    print(f"database: {database}; calls: {count} concurrent; steps: {len(steps)}")
    print(f"IVR step latency: p50 {percentile(steps, 0.5) * 1000:.1f} ms, "
          f"p99 {percentile(steps, 0.99) * 1000:.1f} ms, max {max(steps) * 1000:.1f} ms "
          f"(mean {statistics.mean(steps) * 1000:.1f} ms)")
    print(f"all calls done in {elapsed:.1f} s ({count / elapsed:.1f} calls/s, with 1 s "
          f"menu timeouts); calls on a ticket: {on_tickets}/{count}")
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    server.executor.shutdown(wait=True)
    return 0 if on_tickets == count else 1


if __name__ == "__main__":
    sys.exit(main())
