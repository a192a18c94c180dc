"""SLA at scale (CORE-13): the breach sweep's lookup and the queue sorted by "SLA due
soonest", on the same throwaway PostgreSQL data as bench/screens_at_scale.py.

    .venv/bin/python bench/sla.py                       # 100k tickets / ~1M messages
    .venv/bin/python bench/sla.py --size 10000 --requests 100

After loading, every open ticket follows one policy: its clocks are spread from two days
overdue (already marked breached, so out of the sweep's index) to a day ahead, and a backlog
of 200 tickets is due but not yet marked. Reported: the sweep lookup (p50/p95, and whether
PostgreSQL uses the partial index), one full sweep of the backlog, and the queue page sorted
by SLA next to the default sort (p50/p95, server side through Django's test client).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _bench_queue() -> Any:
    spec = importlib.util.spec_from_file_location("bench_screens", HERE / "screens_at_scale.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _timed(fn: Any, n: int) -> str:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return f"p50 {statistics.median(times):6.2f} ms  p95 {times[int(0.95 * n) - 1]:6.2f} ms"


def spread_clocks(org_id: int, policy_id: int) -> None:
    from django.db import connection

    from atende.tickets.models import Ticket

    table = Ticket._meta.db_table
    # Consistent with the policy (30 min / 8 h from creation), so the sweep's recomputation
    # agrees with the loaded due moments.
    with connection.cursor() as cursor:
        cursor.execute(f"""
            UPDATE {table} SET sla_policy_id = %s,
              sla_due_at = now() + (random() * interval '3 days') - interval '2 days'
            WHERE organization_id = %s AND status IN ('new', 'open')""", [policy_id, org_id])
        cursor.execute(f"""
            UPDATE {table} SET created_at = sla_due_at - interval '30 minutes',
              first_response_due_at = sla_due_at,
              resolution_due_at = sla_due_at + interval '450 minutes',
              first_response_breached_at = CASE WHEN sla_due_at < now() THEN sla_due_at END,
              resolution_breached_at = CASE WHEN sla_due_at + interval '450 minutes' < now()
                                            THEN sla_due_at + interval '450 minutes' END,
              sla_check_at = CASE WHEN sla_due_at >= now() THEN sla_due_at
                                  WHEN sla_due_at + interval '450 minutes' >= now()
                                  THEN sla_due_at + interval '450 minutes' END
            WHERE organization_id = %s AND sla_due_at IS NOT NULL""", [org_id])
        # The backlog: first response due a minute ago, not yet marked.
        cursor.execute(f"""
            UPDATE {table} SET created_at = now() - interval '31 minutes',
              first_response_due_at = now() - interval '1 minute',
              resolution_due_at = now() + interval '449 minutes',
              first_response_breached_at = NULL, resolution_breached_at = NULL,
              sla_due_at = now() - interval '1 minute',
              sla_check_at = now() - interval '1 minute'
            WHERE id IN (SELECT id FROM {table} WHERE organization_id = %s
                         AND status IN ('new', 'open') AND first_response_at IS NULL
                         ORDER BY id LIMIT 200)""", [org_id])
        cursor.execute("ANALYZE")


def measure(state: dict[str, Any], requests: int) -> list[tuple[str, str]]:
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from atende.tickets.models import Ticket
    from atende.tickets.services.sla import due_breach_ids, sweep_breaches

    now = timezone.now()
    results = []
    with connection.cursor() as cursor:
        sql, params = Ticket.objects.filter(sla_check_at__lte=now).order_by(
            "sla_check_at").values_list("pk", flat=True)[:200].query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = " / ".join(row[0].strip() for row in cursor.fetchall()[:3])
    results.append(("sweep lookup plan", plan))
    results.append(("sweep lookup (200 due)", _timed(lambda: due_breach_ids(now), requests)))
    t = time.perf_counter()
    marked = sweep_breaches(now)
    results.append(("sweep marking the backlog",
                    f"{marked} breaches in {(time.perf_counter() - t) * 1000:.0f} ms"))
    results.append(("sweep lookup (nothing due)",
                    _timed(lambda: due_breach_ids(now), requests)))

    client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    client.force_login(state["admin"])
    for label, url in (("queue / (last update)", "/"), ("queue /?sort=sla", "/?sort=sla")):
        assert client.get(url).status_code == 200
        for _ in range(5):
            client.get(url)
        results.append((label, _timed(lambda url=url: client.get(url), requests)))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    opts = parser.parse_args()

    import psycopg

    bq = _bench_queue()
    db = f"atende_bench_sla_{os.getpid()}"
    with psycopg.connect(bq.PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{db}"')  # type: ignore[arg-type]
    os.environ.update({
        "DATABASE_URL": bq.PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}", "REDIS_URL": bq.REDIS_URL,
        "ATENDE_REDIS_PREFIX": f"atende-bs-{os.getpid()}", "ATENDE_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "atende.settings",
        "ATENDE_DATA_DIR": tempfile.mkdtemp(prefix="atende-bs-"),
    })
    os.environ.pop("ATENDE_TASKS_IMMEDIATE", None)
    sys.path.insert(0, str(HERE.parent / "src"))
    try:
        import django
        from django.conf import settings
        from django.core.management import call_command

        django.setup()
        settings.ALLOWED_HOSTS = ["*"]
        call_command("migrate", verbosity=0)
        from atende.tickets.models import SlaPolicy

        state = bq.setup_org()
        seconds = bq.load(state, opts.size, random.Random(opts.seed))
        policy = SlaPolicy.objects.create(organization=state["org"], name="Bench",
                                          first_response_minutes=30, resolution_minutes=480)
        spread_clocks(state["org"].pk, policy.pk)
        print(f"\n== {opts.size:,} tickets, {state['messages']:,} messages "
              f"(loaded in {seconds:.0f} s)")
        for label, figure in measure(state, opts.requests):
            print(f"  {label:28s} {figure}")
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(bq.PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
