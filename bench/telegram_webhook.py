"""Inbound Telegram webhooks under load: acknowledgement and processing into tickets.

    .venv/bin/python -m bench.telegram_webhook                    # 2000 updates, 16 clients
    .venv/bin/python -m bench.telegram_webhook --events 4000 --web-workers 2 --json out.json

The scaled profile, as `bench.whatsapp_webhook`: `atende web --workers W` + `atende worker`
(Huey on Redis), PostgreSQL (a throwaway database) and Redis (a private key prefix). A
Telegram channel is created with its webhook secret; C concurrent keep-alive clients POST
one `Update` each (a text message, a fresh update_id, 1,000 distinct users) with the
`X-Telegram-Bot-Api-Secret-Token` header, as Telegram does.

The workers are paused while the updates are acknowledged (the acknowledgement alone is
measured, as `--no-worker` does for WhatsApp), then resumed and the processing timed.
Reported: updates/s acknowledged (HTTP 200), p50/p99 acknowledgement latency, the web
process's CPU per update, and updates/s processed into tickets.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
    machine,
    spawn,
    stop,
    tail,
    wait_ready,
)
from bench.loadgen import run_load
from bench.whatsapp_webhook import cpu_snapshot, processed_count, signal_workers

SECRET = "bench-telegram-secret"  # a throwaway channel's
SETUP = f"""
from atende.channels.models import Channel, ChannelKind
from atende.tenancy.models import Organization
org = Organization.objects.get(slug="demo")
channel = Channel(organization=org, kind=ChannelKind.TELEGRAM, name="Telegram bench")
channel.secrets = {{"bot_token": "1:unused", "webhook_secret": "{SECRET}"}}
channel.save()
print("CHANNEL", channel.pk)
"""


def update(i: int, offset: int) -> dict[str, Any]:
    user = 100_000 + i % 1000
    return {"update_id": offset + i, "message": {
        "message_id": offset + i, "date": int(time.time()),
        "from": {"id": user, "is_bot": False, "first_name": f"Cliente {i % 1000}"},
        "chat": {"id": user, "type": "private"},
        "text": f"Mensagem {i}: meu pedido não chegou"}}


def run(opts: argparse.Namespace) -> dict[str, Any]:
    tag = f"tg_{int(time.time())}"
    db, prefix = f"atende_bench_{tag}", f"atende-bench-{tag}"
    pg_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}"
    work = Path(tempfile.mkdtemp(prefix="atende-tg-bench-"))
    port = free_port()
    env = atende_env(work / "data", DATABASE_URL=pg_url, REDIS_URL=REDIS_URL,
                     ATENDE_REDIS_PREFIX=prefix,
                     ATENDE_WORKER_THREADS=str(opts.worker_threads))
    _pg(f'DROP DATABASE IF EXISTS "{db}"')
    _pg(f'CREATE DATABASE "{db}"')
    procs: list[subprocess.Popen[bytes]] = []
    load_avg = os.getloadavg()[0]
    try:
        atende_demo_key(env, port, work / "demo.log")  # migrates, creates the tenant
        out = subprocess.run([ATENDE, "manage", "shell", "-c", SETUP], env=env, check=True,
                             capture_output=True, text=True, timeout=120)
        channel_id = int(out.stdout.split("CHANNEL", 1)[1].split()[0])
        web_log, worker_log = work / "web.log", work / "worker.log"
        procs.append(spawn([ATENDE, "web", "--host", "127.0.0.1", "--port", str(port),
                            "--workers", str(opts.web_workers)], env, web_log))
        procs.append(spawn([ATENDE, "worker"], env, worker_log))
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/healthz", procs)
        path = f"/telegram/{channel_id}/webhook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        log(f"warm-up: {opts.warmup} updates")
        run_load(base, path, headers, lambda i: update(i, 0), total=opts.warmup,
                 concurrency=opts.concurrency, max_seconds=120, expect=200)
        while processed_count(pg_url, channel_id) < opts.warmup:
            time.sleep(0.5)
        log(f"measured: {opts.events} updates, {opts.concurrency} clients, workers paused")
        signal_workers(procs[1:], signal.SIGSTOP)
        cpu_before = cpu_snapshot(procs, db)
        load = run_load(base, path, headers, lambda i: update(i, 1_000_000),
                        total=opts.events, concurrency=opts.concurrency, max_seconds=600,
                        expect=200)
        cpu_acked = cpu_snapshot(procs, db)
        stored = processed_count(pg_url, channel_id, stored=True) - opts.warmup
        signal_workers(procs[1:], signal.SIGCONT)
        started = time.monotonic()
        target = opts.warmup + load.ok
        deadline = started + opts.process_timeout
        done = processed_count(pg_url, channel_id)
        while done < target and time.monotonic() < deadline:
            time.sleep(0.2)
            done = processed_count(pg_url, channel_id)
        processing_seconds = time.monotonic() - started
        result = {
            "machine": machine(), "web_workers": opts.web_workers,
            "worker_threads": opts.worker_threads, "concurrency": opts.concurrency,
            "events": load.requests, "acknowledged": load.ok, "errors": load.errors,
            "error_samples": load.error_samples[:3], "stored_while_paused": stored,
            "ack_rate": round(load.rate, 1), "ack_p50_ms": round(load.percentile(50), 2),
            "ack_p99_ms": round(load.percentile(99), 2),
            **{f"ack_{k}_cpu_ms_per_event": round(
                (cpu_acked[k] - cpu_before[k]) * 1000 / max(1, load.ok), 2)
               for k in ("web", "postgres")},
            "processed": done - opts.warmup,
            "processed_rate": round((done - opts.warmup) / processing_seconds, 1),
            "processing_seconds": round(processing_seconds, 2),
            "load_avg_at_start": load_avg,
        }
        if done < target:
            log("not every update was processed before the timeout; worker log:\n"
                + tail(worker_log))
        return result
    finally:
        stop(procs)
        try:
            _redis_cleanup(prefix)
        finally:
            _pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--worker-threads", type=int, default=4)
    parser.add_argument("--process-timeout", type=float, default=600)
    parser.add_argument("--json", type=Path)
    opts = parser.parse_args()
    result = run(opts)
    print(json.dumps(result, indent=2))
    if opts.json:
        opts.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
