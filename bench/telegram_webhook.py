"""Inbound Telegram webhooks under load: acknowledgement and processing into tickets.

    .venv/bin/python -m bench.telegram_webhook                    # 2000 updates, 16 clients
    .venv/bin/python -m bench.telegram_webhook --events 4000 --web-workers 2 --json out.json

The scaled profile, as `bench.whatsapp_webhook` (the site of `bench.webhook_site`). A
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
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_create import log, machine, tail
from bench.loadgen import run_load
from bench.webhook_site import options, report, webhook_site

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
    load_avg = os.getloadavg()[0]
    with webhook_site("tg", SETUP, web_workers=opts.web_workers,
                      worker_threads=opts.worker_threads) as site:
        path = f"/telegram/{site.channel_id}/webhook"
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        site.warm_up(path, headers, lambda i: update(i, 0), opts.warmup, opts.concurrency)
        log(f"measured: {opts.events} updates, {opts.concurrency} clients, workers paused")
        site.pause_workers()
        cpu_before = site.cpu()
        load = run_load(site.base, path, headers, lambda i: update(i, 1_000_000),
                        total=opts.events, concurrency=opts.concurrency, max_seconds=600,
                        expect=200)
        cpu_acked = site.cpu()
        stored = site.processed(stored=True) - opts.warmup
        site.resume_workers()
        started = time.monotonic()
        target = opts.warmup + load.ok
        done = site.wait_processed(target, opts.process_timeout)
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
                + tail(site.worker_log))
        return result


def main() -> int:
    opts = options(__doc__, events=2000).parse_args()
    return report(run(opts), opts.json)


if __name__ == "__main__":
    raise SystemExit(main())
