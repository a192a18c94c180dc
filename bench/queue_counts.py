"""The queue's five capped view counts on a kept `bench/screens_at_scale.py` database:
EXPLAIN (ANALYZE, BUFFERS) of every count term of the restricted agent
(tickets.queue.count_terms) next to the single `assignee = me OR service IN (my services)`
select it replaced, PostgreSQL's time for the whole statement, and the CPU time of this
process per view_counts() call.

    .venv/bin/python bench/queue_counts.py atende_bench_queue_1m
    .venv/bin/python bench/queue_counts.py atende_bench_queue_1m --try-index --calls 100

The database is only read. `--try-index` measures a database still without
`tickets/0007` as if it had it: the index is created (and ticket_org_service dropped) in a
transaction that is rolled back, so the kept database is left as it was (it holds a lock
on tickets_ticket for those seconds; `lock_timeout` 2 s).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PG_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def explain(sql: str, params: Any) -> tuple[int, float, str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(sql, params)
        count = cursor.fetchone()[0]
    ms = float(re.search(r"Execution Time: ([0-9.]+)", plan).group(1))  # type: ignore[union-attr]
    buffers = re.search(r"Buffers: ([^\n]+)", plan)
    scans = sorted(set(re.findall(
        r"Seq Scan on tickets_ticket|Index (?:Only )?Scan using \w+|Bitmap Index Scan on \w+",
        plan)))
    removed = sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", plan))
    return count, ms, (buffers.group(1) if buffers else ""), \
        f"{'; '.join(scans)}; rows removed by filter {removed}"


def measure(calls: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from atende.tenancy.models import Membership, Role
    from atende.tickets import queue
    from atende.tickets.visibility import visible_tickets

    members = Membership.objects.filter(organization__slug__startswith="bench-").order_by("pk")
    restricted = members.exclude(role=Role.ADMIN).select_related("user").first()
    admin = members.filter(role=Role.ADMIN).first()
    assert restricted is not None and admin is not None, "not a bench/screens_at_scale.py database"
    cap = queue.COUNT_CAP
    print(f"restricted agent {restricted.user.email}, services "
          f"{list(restricted.services.values_list('pk', flat=True))}")

    def count_sql(qs: Any) -> tuple[str, Any]:
        qs = qs if qs._fields else qs.values("pk")
        sql, params = qs[:cap].query.get_compiler(connection=connection).as_sql()
        return f"SELECT COUNT(*) FROM ({sql}) AS term", params

    terms = queue.count_terms(restricted)
    for view in queue.VIEWS:
        old = visible_tickets(restricted).filter(queue.view_filter(view, restricted.user_id))
        for label, sign, qs in [("OR (before)", 1, old)] + [
                ("term", sign, qs) for sign, qs in terms[view]]:
            count, ms, buffers, scans = explain(*count_sql(qs))
            print(f"  {view:10} {label:11} {'+' if sign > 0 else '-'} {count:5}  {ms:7.2f} ms"
                  f"  {buffers:28} {scans}")
    for label, membership in (("restricted", restricted), ("admin", admin)):
        queue.view_counts(membership)  # warm
        cpu = []
        for _ in range(calls):
            start = time.process_time()
            counts = queue.view_counts(membership)
            cpu.append((time.process_time() - start) * 1000)
        with CaptureQueriesContext(connection) as captured:
            queue.view_counts(membership)
        sql = captured.captured_queries[-1]["sql"]
        runs = []
        with connection.cursor() as cursor:
            for _ in range(5):
                cursor.execute("EXPLAIN (ANALYZE, TIMING OFF) " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                runs.append(float(re.search(  # type: ignore[union-attr]
                    r"Execution Time: ([0-9.]+)", plan).group(1)))
        print(f"{label} view_counts {counts}: CPU p50 {statistics.median(cpu):.2f} ms "
              f"({calls} calls); statement in PostgreSQL {statistics.median(runs):.2f} ms "
              f"(median of 5, TIMING OFF); Seq Scans {plan.count('Seq Scan on tickets_ticket')};"
              f" load average {os.getloadavg()[0]:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database",
                        help="a kept bench/screens_at_scale.py database (atende_bench_...)")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--try-index", action="store_true",
                        help="create 0007's index in a rolled-back transaction first")
    opts = parser.parse_args()
    os.environ.update({
        "DATABASE_URL": PG_URL.rsplit("/", 1)[0] + f"/{opts.database}",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "ATENDE_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "atende.settings",
        "ATENDE_DATA_DIR": tempfile.mkdtemp(prefix="atende-bqc-"),
    })
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    import django

    django.setup()
    from django.db import connection, transaction

    if not opts.try_index:
        measure(opts.calls)
        return 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            cursor.execute("CREATE INDEX IF NOT EXISTS ticket_org_service_assignee "
                           "ON tickets_ticket (organization_id, service_id, status, assignee_id)")
            cursor.execute("DROP INDEX IF EXISTS ticket_org_service")
            cursor.execute("ANALYZE tickets_ticket")
        measure(opts.calls)
        transaction.set_rollback(True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
