"""CPU per ticket create inside one process, by way in: WSGI vs ASGI, and middleware variants.

    .venv/bin/python bench/asgi_overhead.py --postgres --requests 400 --rounds 3

No sockets and no server: each variant runs in a fresh child process that sends creates
through Django's test client (WSGI handler: one thread, the middleware chain in sync mode)
and through Django's ASGI application driven by httpx.ASGITransport, one at a time and 8 at
a time. CPU is `time.process_time()` of the child (all its threads), divided by the number
of requests; the CPU of the httpx ASGI client itself is measured against a do-nothing ASGI
app and shown separately. Variants run in rounds (A B C A B C …) and the table shows the
lowest figure of the rounds: on a shared machine contention only ever adds CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
VARIANTS = [
    "atende.settings",
    "bench.experiments.settings_no_whitenoise",
    "bench.experiments.settings_sync_chain",
    "bench.experiments.settings_api_minimal",
]


def body(i: int) -> bytes:
    return json.dumps({
        "title": f"Pedido {i}", "description": "Olá, o portal devolve erro.",
        "priority": "high", "category": "financeiro",
        "requester_email": f"cliente{i % 1000}@example.com",
    }).encode()


# --- child ---------------------------------------------------------------------------------

def child(requests: int, key: str, offset: int) -> dict[str, float]:
    import django

    django.setup()
    import httpx
    from django.core.asgi import get_asgi_application
    from django.test import Client

    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json",
               "Host": "127.0.0.1"}
    results: dict[str, float] = {}

    # WSGI path (Django's test client is a WSGI handler).
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_HOST="127.0.0.1")
    for i in range(20):
        client.post("/api/v1/tickets", body(offset + i), content_type="application/json")
    cpu = time.process_time()
    for i in range(requests):
        r = client.post("/api/v1/tickets", body(offset + 100 + i), content_type="application/json")
        assert r.status_code == 201, r.content
    results["wsgi_c1"] = (time.process_time() - cpu) * 1000 / requests

    app = get_asgi_application()

    async def null_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        while message.get("more_body"):
            message = await receive()
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b"{}"})

    async def drive(target: Any, n: int, concurrency: int, start: int) -> float:
        transport = httpx.ASGITransport(app=target)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1",
                                     headers=headers) as ac:

            async def worker(numbers: Any) -> None:
                for i in numbers:
                    r = await ac.post("/api/v1/tickets", content=body(start + i))
                    assert r.status_code == 201, r.text

            warm = iter(range(n, n + 20))
            await asyncio.gather(*(worker(warm) for _ in range(concurrency)))
            numbers = iter(range(n))
            cpu0 = time.process_time()
            await asyncio.gather(*(worker(numbers) for _ in range(concurrency)))
            return (time.process_time() - cpu0) * 1000 / n

    results["client_only"] = asyncio.run(drive(null_app, requests, 1, 0))
    results["asgi_c1"] = asyncio.run(drive(app, requests, 1, offset + 10_000))
    results["asgi_c8"] = asyncio.run(drive(app, requests, 8, offset + 20_000))
    from django.db import connections

    connections.close_all()
    return results


# --- parent --------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--key", help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.child:
        print(json.dumps(child(opts.requests, opts.key, opts.offset)))
        return 0

    data = Path(tempfile.mkdtemp(prefix="atende-asgi-"))
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "ATENDE_TASKS_IMMEDIATE"}}
    env.update({"ATENDE_DATA_DIR": str(data), "ATENDE_API_RATE_LIMIT": "0",
                "ATENDE_LOG_LEVEL": "WARNING", "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}",
                "PYTHONWARNINGS": "ignore"})
    db = f"atende_asgi_{os.getpid()}"
    if opts.postgres:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{db}"')  # type: ignore[arg-type]
        env["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}"
        env["REDIS_URL"] = REDIS_URL
        env["ATENDE_REDIS_PREFIX"] = f"atende-asgi-{os.getpid()}"
    atende = str(ROOT / ".venv" / "bin" / "atende")
    try:
        demo = subprocess.run([atende, "demo"], env={**env, "DJANGO_SETTINGS_MODULE":
                                                     "atende.settings"},
                              capture_output=True, text=True, timeout=300, check=True)
        key = next(line.removeprefix("API key: ") for line in demo.stdout.splitlines()
                   if line.startswith("API key: "))
        variants = [v for v in opts.variants.split(",") if v]
        best: dict[str, dict[str, float]] = {}
        offset = 0
        for rnd in range(opts.rounds):
            for variant in variants:
                offset += 100_000
                out = subprocess.run(
                    [sys.executable, __file__, "--child", "--key", key, "--requests",
                     str(opts.requests), "--offset", str(offset)],
                    env={**env, "DJANGO_SETTINGS_MODULE": variant}, capture_output=True,
                    text=True, timeout=900, check=False)
                if out.returncode:
                    print(f"{variant}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
                    continue
                figures = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"round {rnd + 1} {variant}: "
                      + ", ".join(f"{k} {v:.2f}" for k, v in figures.items()), file=sys.stderr)
                mine = best.setdefault(variant, dict(figures))
                for k, v in figures.items():
                    mine[k] = min(mine[k], v)
        print(f"\nCPU ms per create, in-process, {'PostgreSQL' if opts.postgres else 'SQLite'}, "
              f"{opts.requests} requests, best of {opts.rounds} rounds "
              f"(load average now {os.getloadavg()[0]:.1f})\n")
        print("| settings | WSGI, 1 at a time | ASGI, 1 at a time | ASGI, 8 at a time "
              "| httpx ASGI client alone |")
        print("|---|---:|---:|---:|---:|")
        for variant, f in best.items():
            print(f"| {variant} | {f['wsgi_c1']:.2f} | {f['asgi_c1'] - f['client_only']:.2f} "
                  f"| {f['asgi_c8'] - f['client_only']:.2f} | {f['client_only']:.2f} |")
        print("\n(ASGI columns have the httpx client's own CPU subtracted.)")
    finally:
        shutil.rmtree(data, ignore_errors=True)
        if opts.postgres:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')  # type: ignore[arg-type]
            import redis

            r = redis.Redis.from_url(REDIS_URL)
            keys = list(r.scan_iter(match=f"*atende-asgi-{os.getpid()}*"))
            if keys:
                r.delete(*keys)
    return 0


if __name__ == "__main__":
    sys.exit(main())
