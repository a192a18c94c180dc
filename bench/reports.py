"""Reports at scale on PostgreSQL: load N tickets (bench/screens_at_scale.py's generator),
build the report roll-ups from them (`rebuild`, as `atende manage rebuild_report_rollups`
does), then time the 90-day channel dashboard and the other report screens server-side
(p50/p95), and export the raw tickets of a period to XLSX in a child process whose peak
memory (max RSS) is read back.

    .venv/bin/python bench/reports.py                       # 100k tickets
    .venv/bin/python bench/reports.py --tickets 300000 --requests 100
    .venv/bin/python bench/reports.py --reuse atende_bench_queue_123   # a kept database

Tickets get a first response 5-600 minutes after creation (the generator leaves it empty)
so the first-response histograms are filled as in a working desk.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.screens_at_scale import DB_PREFIX, PG_ADMIN_URL, REDIS_URL

EXPORT_CHILD = """
import os, resource, sys, time
import django
django.setup()
from atende.reports import exports
started = time.perf_counter()
exports.run(int(sys.argv[1]))
from atende.reports.models import ReportExport
e = ReportExport.objects.get(pk=int(sys.argv[1]))
print(e.status, e.rows, round(time.perf_counter() - started, 1),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def _timed(client: object, path: str, requests: int) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--reuse", metavar="NAME", help=f"a kept database ({DB_PREFIX}...)")
    parser.add_argument("--keep", action="store_true")
    opts = parser.parse_args()
    import psycopg

    db = opts.reuse or f"{DB_PREFIX}reports_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone():
            conn.execute(f'CREATE DATABASE "{db}"')  # type: ignore[arg-type]
    os.environ.update({
        "DATABASE_URL": PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}", "REDIS_URL": REDIS_URL,
        "ATENDE_REDIS_PREFIX": f"atende-br-{os.getpid()}", "ATENDE_LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "atende.settings",
        "ATENDE_DATA_DIR": tempfile.mkdtemp(prefix="atende-br-"),
    })
    os.environ.pop("ATENDE_TASKS_IMMEDIATE", None)
    src = str(Path(__file__).resolve().parents[1] / "src")
    sys.path.insert(0, src)
    try:
        import django
        from django.conf import settings
        from django.core.management import call_command

        django.setup()
        settings.ALLOWED_HOSTS = ["*"]
        call_command("migrate", verbosity=0)
        from django.db import connection
        from django.test import Client
        from django.utils import timezone

        from atende.reports import rollups
        from atende.reports.exports import create_export
        from atende.reports.filters import Period, ReportFilters
        from atende.reports.models import DailyRollup, PendingTicket
        from atende.tenancy.models import Membership, Organization
        from bench.screens_at_scale import load, org_state, setup_org

        rng = random.Random(7)
        org = Organization.objects.filter(slug__startswith="bench-").order_by("pk").first()
        state = setup_org() if org is None else org_state(org)
        load(state, opts.tickets, rng)
        org = state["org"]
        with connection.cursor() as cursor:
            cursor.execute("UPDATE tickets_ticket SET first_response_at = created_at + "
                           "(5 + floor(random() * 600)) * interval '1 minute' "
                           "WHERE organization_id = %s AND first_response_at IS NULL",
                           [org.pk])
        PendingTicket.objects.filter(organization=org).delete()
        print(f"{state['loaded']:,} tickets, {state['messages']:,} messages")
        started = time.perf_counter()
        rollups.rebuild(org, chunk=5000)
        print(f"rebuild: {time.perf_counter() - started:.0f} s, "
              f"{DailyRollup.objects.filter(organization=org).count():,} cells")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) reports_dailyrollup")

        client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
        client.force_login(state["admin"])
        today = timezone.localdate()
        start = (today - timezone.timedelta(days=89)).isoformat()
        for name, path in (
                ("dashboard, 90 days", f"/reports/?start={start}&end={today}"),
                ("dashboard, 90 days, one channel",
                 f"/reports/?start={start}&end={today}&channel={state['channels'][0][0]}"),
                ("period report by agent, 90 days",
                 f"/reports/period/?start={start}&end={today}&by=agent"),
                ("agent activity, 90 days", f"/reports/agents/?start={start}&end={today}"),
                ("SLA monitoring, 90 days", f"/reports/sla/?start={start}&end={today}")):
            p50, p95 = _timed(client, path, opts.requests)
            print(f"  {name:34s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")

        membership = Membership.objects.get(organization=org, user=state["admin"])
        period = Period(today - timezone.timedelta(days=365), today)
        export = create_export(membership, "tickets", "xlsx",
                               ReportFilters(period, None, None, "channel"))
        child = subprocess.run([sys.executable, "-c", EXPORT_CHILD, str(export.pk)],
                               env={**os.environ, "PYTHONPATH": src}, capture_output=True,
                               text=True, check=True)
        status, rows, seconds, peak = child.stdout.split()
        print(f"  XLSX export of the raw tickets: {status}, {int(rows):,} rows in {seconds} s, "
              f"peak RSS {peak} MiB")
        return 0
    finally:
        from django.db import connections

        connections.close_all()
        if opts.keep or opts.reuse:
            print(f"kept database {db}")
        else:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')  # type: ignore[arg-type]


if __name__ == "__main__":
    sys.exit(main())
