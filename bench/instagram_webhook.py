"""Inbound Instagram webhooks under load: acknowledgement and processing into tickets.

    .venv/bin/python -m bench.instagram_webhook                    # 2000 deliveries, 16 clients
    .venv/bin/python -m bench.instagram_webhook --events 4000 --json out.json

The scaled profile, as `bench.telegram_webhook` (the site of `bench.webhook_site`). An
Instagram channel is created with its app secret; C concurrent keep-alive clients POST one
delivery each (one customer text message, a fresh mid, 1,000 distinct senders) signed with
`X-Hub-Signature-256` over the raw body, as Meta does: the signature is checked on every
delivery, in the route.

The workers are paused while the deliveries are acknowledged (the acknowledgement alone is
measured), then resumed and the processing timed. Reported: deliveries/s acknowledged
(HTTP 200), p50/p99 acknowledgement latency, the web process's and PostgreSQL's CPU per
delivery, and deliveries/s processed into tickets (no profile lookups: the senders'
contacts are created without a name, the Graph host being unreachable is logged).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
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

SECRET = "0123456789abcdef0123456789abcdef"  # a throwaway channel's app secret
ACCOUNT = "17841400000000001"
SETUP = f"""
from atende.channels.models import Channel, ChannelKind
from atende.tenancy.models import Organization
org = Organization.objects.get(slug="demo")
channel = Channel(organization=org, kind=ChannelKind.INSTAGRAM, name="Instagram bench",
                  settings={{"page_id": "1", "account_id": "{ACCOUNT}"}})
channel.secrets = {{"app_secret": "{SECRET}", "verify_token": "v", "page_token": "unused"}}
channel.save()
print("CHANNEL", channel.pk)
"""


def delivery(i: int, offset: int) -> dict[str, Any]:
    sender = f"IGSID{100_000 + i % 1000}"
    now = int(time.time() * 1000)
    return {"object": "instagram", "entry": [{"id": ACCOUNT, "time": now, "messaging": [{
        "sender": {"id": sender}, "recipient": {"id": ACCOUNT}, "timestamp": now,
        "message": {"mid": f"aWdfZAG1faWQ{offset + i:010d}",
                    "text": f"Mensagem {i}: vocês entregam em Campinas?"}}]}]}


def sign(body: bytes) -> dict[str, str]:
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}"}


def run(opts: argparse.Namespace) -> dict[str, Any]:
    load_avg = os.getloadavg()[0]
    with webhook_site("ig", SETUP, web_workers=opts.web_workers,
                      worker_threads=opts.worker_threads) as site:
        path = f"/instagram/{site.channel_id}/webhook"
        site.warm_up(path, {}, lambda i: delivery(i, 0), opts.warmup, opts.concurrency,
                     sign=sign)
        log(f"measured: {opts.events} deliveries, {opts.concurrency} clients, workers paused")
        site.pause_workers()
        cpu_before = site.cpu()
        load = run_load(site.base, path, {}, lambda i: delivery(i, 1_000_000),
                        total=opts.events, concurrency=opts.concurrency, max_seconds=600,
                        expect=200, sign=sign)
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
            log("not every delivery was processed before the timeout; worker log:\n"
                + tail(site.worker_log))
        return result


def main() -> int:
    opts = options(__doc__, events=2000).parse_args()
    return report(run(opts), opts.json)


if __name__ == "__main__":
    raise SystemExit(main())
