"""The site a webhook benchmark loads (`bench.whatsapp_webhook`, `bench.telegram_webhook`,
`bench.instagram_webhook`):
the scaled profile, as in production.

`webhook_site` starts `atende web --workers W` (uvicorn) and `atende worker` (Huey on
Redis) on a throwaway PostgreSQL database (dropped afterwards) and a private Redis key
prefix (deleted afterwards), with the demo organisation and one channel made by the
benchmark's `setup` code (run in `atende manage shell`; it prints `CHANNEL <id>`).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.api_create import (
    ATENDE,
    PG_ADMIN_URL,
    REDIS_URL,
    _pg,
    _redis_cleanup,
    atende_demo_key,
    atende_env,
    free_port,
    log,
    spawn,
    stop,
    wait_ready,
)
from bench.loadgen import matching_cpu_seconds, run_load, tree_cpu_by_process


@dataclass
class Site:
    base: str  # http://127.0.0.1:<port>
    pg_url: str
    db: str
    channel_id: int
    key: str  # the demo organisation's API key
    procs: list[subprocess.Popen[bytes]]  # the web server first, then the workers
    worker_log: Path

    def processed(self, *, stored: bool = False) -> int:
        return processed_count(self.pg_url, self.channel_id, stored=stored)

    def cpu(self) -> dict[str, float]:
        return cpu_snapshot(self.procs, self.db)

    def pause_workers(self) -> None:
        signal_workers(self.procs[1:], signal.SIGSTOP)

    def resume_workers(self) -> None:
        signal_workers(self.procs[1:], signal.SIGCONT)

    def warm_up(self, path: str, headers: dict[str, str], body: Callable[[int], Any],
                events: int, concurrency: int,
                sign: Callable[[bytes], dict[str, str]] | None = None) -> None:
        """POST `events` bodies and wait until the workers have processed them."""
        log(f"warm-up: {events} events")
        run_load(self.base, path, headers, body, total=events, concurrency=concurrency,
                 max_seconds=120, expect=200, sign=sign)
        while self.processed() < events:
            time.sleep(0.5)

    def wait_processed(self, target: int, timeout: float) -> int:
        """Events processed once `target` are, or when `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        done = self.processed()
        while done < target and time.monotonic() < deadline:
            time.sleep(0.2)
            done = self.processed()
        return done


@contextlib.contextmanager
def webhook_site(tag: str, setup: str, *, web_workers: int, worker_threads: int,
                 worker_procs: int = 1, **extra_env: str) -> Iterator[Site]:
    """The running site, stopped and its database and keys removed on exit. `tag` names
    the database and key prefix; `extra_env`: more environment for the processes."""
    tag = f"{tag}_{int(time.time())}"
    db, prefix = f"atende_bench_{tag}", f"atende-bench-{tag}"
    pg_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}"
    work = Path(tempfile.mkdtemp(prefix=f"atende-{tag}-bench-"))
    port = free_port()
    env = atende_env(work / "data", DATABASE_URL=pg_url, REDIS_URL=REDIS_URL,
                     ATENDE_REDIS_PREFIX=prefix, ATENDE_WORKER_THREADS=str(worker_threads),
                     **extra_env)
    _pg(f'DROP DATABASE IF EXISTS "{db}"')
    _pg(f'CREATE DATABASE "{db}"')
    procs: list[subprocess.Popen[bytes]] = []
    try:
        key = atende_demo_key(env, port, work / "demo.log")  # migrates, creates the tenant
        out = subprocess.run([ATENDE, "manage", "shell", "-c", setup], env=env, check=True,
                             capture_output=True, text=True, timeout=120)
        channel_id = int(out.stdout.split("CHANNEL", 1)[1].split()[0])
        web_log, worker_log = work / "web.log", work / "worker.log"
        procs.append(spawn([ATENDE, "web", "--host", "127.0.0.1", "--port", str(port),
                            "--workers", str(web_workers)], env, web_log))
        procs.append(spawn([ATENDE, "worker"], env, worker_log))
        for _extra in range(worker_procs - 1):  # one runs the periodic jobs
            procs.append(spawn([ATENDE, "worker", "--no-periodic"], env, worker_log))
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/healthz", procs)
        yield Site(base, pg_url, db, channel_id, key, procs, worker_log)
    finally:
        stop(procs)
        try:
            _redis_cleanup(prefix)
        finally:
            _pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def options(doc: str | None, events: int) -> argparse.ArgumentParser:
    """The options every webhook benchmark takes (`--events` defaults to `events`)."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=events)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--worker-threads", type=int, default=4)
    parser.add_argument("--process-timeout", type=float, default=600)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser


def report(result: dict[str, Any], path: Path | None) -> int:
    """Print the figures (and write them to `path`); the exit status."""
    print(json.dumps(result, indent=2))
    if path:
        path.write_text(json.dumps(result, indent=2))
    return 0


def processed_count(pg_url: str, channel_id: int, *, stored: bool = False) -> int:
    """Events processed so far (or stored, whatever their state)."""
    import psycopg

    done = "" if stored else " AND status IN ('processed', 'duplicate')"
    with psycopg.connect(pg_url, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*) FROM connectors_inboundevent WHERE channel_id = %s" + done,
            (channel_id,)).fetchone()
    return int(row[0]) if row else 0


def commits(pg_url: str) -> int:
    """Transactions committed in the bench's database so far (pg_stat_database; the
    statistics collector reports them within about a second of the commit)."""
    import psycopg

    with psycopg.connect(pg_url, connect_timeout=5, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT xact_commit FROM pg_stat_database "
                           "WHERE datname = current_database()").fetchone()
    return int(row[0]) if row else 0


def signal_workers(procs: list[subprocess.Popen[bytes]], sig: int) -> None:
    """Pause (SIGSTOP) or resume (SIGCONT) the worker processes and their children."""
    for p in procs:
        os.killpg(p.pid, sig)


def cpu_snapshot(procs: list[subprocess.Popen[bytes]], db: str) -> dict[str, float]:
    """CPU seconds so far of the web tree, the worker trees and the database's backends."""
    web, *workers = (sum(c for _name, c in tree_cpu_by_process([p.pid]).values())
                     for p in procs)
    return {"web": web, "worker": sum(workers),
            "postgres": sum(matching_cpu_seconds(db).values())}


def percentile(data: list[float], p: float) -> float:
    if not data:
        return float("nan")
    ordered = sorted(data)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]
