"""Queries (and in-process time) per `POST /api/v1/tickets`, without HTTP in between.

    .venv/bin/python bench/query_count.py                 # SQLite, temporary data dir
    .venv/bin/python bench/query_count.py --postgres      # a throwaway PostgreSQL database
    .venv/bin/python bench/query_count.py --show-sql      # print every statement
    .venv/bin/python bench/query_count.py --profile 300   # cProfile over 300 creates

It sets up the demo organisation, then sends creates through Django's test client (the same
middleware, ninja routing, auth and service code the server runs) and counts the statements
with `django.test.utils.CaptureQueriesContext`: one create for a new requester and one for
an existing requester, each after a warm-up request.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _classify(sql: str) -> str:
    words = sql.strip().split()
    verb = words[0].upper() if words else "?"
    table = "?"
    upper = [w.upper() for w in words]
    for marker in ("FROM", "INTO", "UPDATE"):
        if marker in upper:
            idx = upper.index(marker) + 1
            if idx < len(words):
                table = words[idx].strip('"')
                break
    if verb in {"SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT"}:
        table = ""
    if verb == "SELECT" and "nextval" in sql:
        table = "nextval(ticket sequence)"
    return f"{verb} {table}".strip()


def _instrument() -> dict[str, list[float]]:
    """Wrap the steps of the create path with CPU timers (monkeypatching, src/ unchanged)."""
    import functools
    import importlib

    steps = [
        ("atende.tenancy.api_auth", "authenticate_api_key", "auth: API key lookup"),
        ("atende.tenancy.api_auth", "check_rate_limit", "auth: rate limit"),
        ("atende.tickets.api", "find_or_create_contact", "find_or_create_contact"),
        ("atende.tickets.api", "validate_custom_fields", "validate_custom_fields"),
        ("atende.tickets.api", "open_ticket", "open_ticket (all)"),
        ("atende.tickets.services.create", "allocate_number", "  open_ticket: allocate_number"),
        ("atende.tickets.services.create", "tags_by_name", "  open_ticket: tags_by_name"),
        ("atende.tickets.services.create", "emit", "  open_ticket: emit x2 (outbox+webhooks)"),
        ("atende.tickets.services.create", "ticket_payload", "  open_ticket: ticket_payload"),
        ("atende.tickets.services.audit", "record", "  open_ticket: audit.record"),
        ("atende.tickets.selectors", "ticket_for", "ticket_for (re-read for the response)"),
        ("atende.tickets.api", "ticket_out", "ticket_out (dict for the response)"),
    ]
    spent: dict[str, list[float]] = {}
    for module_name, attr, label in steps:
        module = importlib.import_module(module_name)
        original = getattr(module, attr)
        spent[label] = [0.0, 0]

        def wrapper(*args: object, __f=original, __k=label, **kwargs: object) -> object:
            t = time.thread_time()
            try:
                return __f(*args, **kwargs)
            finally:
                spent[__k][0] += time.thread_time() - t
                spent[__k][1] += 1

        functools.update_wrapper(wrapper, original)
        setattr(module, attr, wrapper)
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--show-sql", action="store_true")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile N creates with cProfile and print the top entries")
    parser.add_argument("--timing", type=int, default=300, metavar="N",
                        help="time N creates in-process (default 300), with a CPU breakdown "
                             "by step")
    opts = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="atende-qc-"))
    os.environ["ATENDE_DATA_DIR"] = str(data)
    os.environ["ATENDE_API_RATE_LIMIT"] = "0"
    os.environ["ATENDE_LOG_LEVEL"] = "WARNING"
    os.environ.pop("ATENDE_TASKS_IMMEDIATE", None)
    db = f"atende_qc_{os.getpid()}"
    if opts.postgres:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db}"')  # type: ignore[arg-type]
        os.environ["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}"
        os.environ["REDIS_URL"] = REDIS_URL
        os.environ["ATENDE_REDIS_PREFIX"] = f"atende-qc-{os.getpid()}"
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "atende.settings"
    try:
        return _run(opts)
    finally:
        shutil.rmtree(data, ignore_errors=True)
        if opts.postgres:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')  # type: ignore[arg-type]
            import redis

            r = redis.Redis.from_url(REDIS_URL)
            keys = list(r.scan_iter(match=f"*atende-qc-{os.getpid()}*"))
            if keys:
                r.delete(*keys)


def _run(opts: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", "--no-input", "-v", "0")
    from atende.demo import create_demo

    key = create_demo("http://127.0.0.1:8000").api_key
    # Like a real server (ALLOWED_HOSTS has 127.0.0.1; "testserver" is there too).
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_HOST="127.0.0.1")

    def create(i: int, email: str | None = None) -> None:
        body = {
            "title": f"Pedido {i}", "description": "Olá, o portal devolve erro.",
            "priority": "high", "category": "financeiro",
            "requester_email": email or f"cliente{i}@example.com",
        }
        response = client.post("/api/v1/tickets", data=json.dumps(body),
                               content_type="application/json")
        assert response.status_code == 201, response.content

    create(0, "warm@example.com")
    print(f"database: {connection.vendor}")
    for label, email in (("new requester", "fresh@example.com"),
                         ("existing requester", "warm@example.com")):
        with CaptureQueriesContext(connection) as ctx:
            create(1, email)
        kinds = Counter(_classify(q["sql"]) for q in ctx.captured_queries)
        print(f"\nPOST /api/v1/tickets ({label}): {len(ctx.captured_queries)} statements")
        for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {n:3d}  {kind}")
        if opts.show_sql:
            for q in ctx.captured_queries:
                print(f"    [{q['time']}] {q['sql'][:300]}")

    if opts.timing:
        spent = _instrument()
        start = time.perf_counter()
        cpu = time.thread_time()
        for i in range(opts.timing):
            create(100_000 + i, f"cliente{i % 1000}@example.com")
        wall = (time.perf_counter() - start) / opts.timing * 1000
        cpu = (time.thread_time() - cpu) / opts.timing * 1000
        print(f"\nin-process (test client, no HTTP): {wall:.2f} ms wall, {cpu:.2f} ms CPU "
              f"per create ({opts.timing} creates)")
        print("CPU by step (ms per create; nested steps are also inside their parents):")
        for name, (seconds, calls) in spent.items():
            print(f"  {seconds * 1000 / opts.timing:6.2f}  {name}  ({calls / opts.timing:.0f}x)")

    if opts.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for i in range(opts.profile):
            create(200_000 + i, f"cliente{i % 1000}@example.com")
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        print(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
