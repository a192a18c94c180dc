"""Inbound WhatsApp webhooks under load: acknowledgement and processing into tickets.

    .venv/bin/python -m bench.whatsapp_webhook                       # 4000 events, 16 clients
    .venv/bin/python -m bench.whatsapp_webhook --events 8000 --web-workers 2 --json out.json

The scaled profile, as in production: `atende web --workers W` (uvicorn) + `atende worker`
(Huey on Redis), PostgreSQL (a throwaway database, dropped afterwards) and Redis (a private
key prefix, deleted afterwards). A WhatsApp channel is created with its webhook secret; C
concurrent keep-alive clients POST Cloud-API bodies (one text message each, a fresh wamid,
1,000 distinct customers) with the secret header, as 360dialog does.

Reported: events/s acknowledged (HTTP 200 from the webhook) and p50/p99 acknowledgement
latency on the client side (with `--no-worker`, while the workers are paused: the
acknowledgement alone, its CPU in `ack_*_cpu_ms_per_event`); events/s processed into
tickets (from the first POST, or with `--no-worker` from the workers' resumption, until the
last event is marked processed by the worker, read from the database); then, at a steady
`--sse-rate` events/s, the time from each POST to its `message.created` event on an agent's
SSE stream (`/realtime/stream`, the demo organisation's key).
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.realtime.sse_client import SSEClient

from bench.api_create import log, machine, tail
from bench.loadgen import run_load
from bench.webhook_site import commits, options, percentile, report, webhook_site

SETUP = """
from atende.channels.models import Channel, ChannelKind
from atende.tenancy.models import Organization
org = Organization.objects.get(slug="demo")
channel = Channel(organization=org, kind=ChannelKind.WHATSAPP, name="WhatsApp bench",
                  settings={"provider": "360dialog", "number": "+551130000000"})
channel.secrets = {"api_key": "unused", "webhook_secret": "bench-secret"}
channel.save()
print("CHANNEL", channel.pk)
"""


def webhook_body(i: int, run: str) -> dict[str, Any]:
    customer = f"55119{i % 1000:08d}"
    return {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "551130000000", "phone_number_id": "1"},
            "contacts": [{"profile": {"name": f"Cliente {i % 1000}"}, "wa_id": customer}],
            "messages": [{"from": customer, "id": f"wamid.bench.{run}.{i}",
                          "timestamp": str(int(time.time())), "type": "text",
                          "text": {"body": f"Mensagem {i}: meu pedido não chegou"}}]}}]}]}


def to_screen(base: str, path: str, headers: dict[str, str], key: str, rate: float,
              seconds: float) -> dict[str, Any]:
    """POST `rate` events/s for `seconds` and time each one to its SSE event."""
    import httpx

    stream = SSEClient(base + "/realtime/stream", api_key=key).start()
    sent: dict[str, float] = {}
    total = int(rate * seconds)
    run_id = f"sse{int(time.time())}"
    with httpx.Client(base_url=base, headers=headers, timeout=30,
                      limits=httpx.Limits(max_connections=16)) as http:

        def post(i: int) -> int:
            body = webhook_body(i, run_id)
            sent[body["entry"][0]["changes"][0]["value"]["messages"][0]["id"]] = time.time()
            return http.post(path, json=body).status_code

        start = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            futures = []
            for i in range(total):
                time.sleep(max(0.0, start + i / rate - time.monotonic()))
                futures.append(pool.submit(post, i))
            statuses = [f.result() for f in futures]
    latencies: list[float] = []
    seen: dict[str, int] = {}
    deadline = time.monotonic() + 60
    while len(latencies) < total and time.monotonic() < deadline:
        try:
            event = stream.events.get(timeout=1)
        except queue.Empty:
            continue
        seen[event.type] = seen.get(event.type, 0) + 1
        # The frame's data is {"id", "type", "data": the message payload}.
        payload = event.data.get("data") or {}
        wamid = payload.get("external_id") if event.type == "message.created" else None
        if wamid in sent:
            latencies.append((event.arrived_at - sent[wamid]) * 1000)
    stream.close()
    log(f"SSE events seen: {seen}; stream error: {stream.error!r}")
    return {"sse_rate": rate, "sse_events": total,
            "sse_acknowledged": sum(1 for s in statuses if s == 200),
            "sse_received": len(latencies),
            "to_screen_p50_ms": round(percentile(latencies, 50), 1),
            "to_screen_p99_ms": round(percentile(latencies, 99), 1)}


def run(opts: argparse.Namespace) -> dict[str, Any]:
    extra_env = ({"ATENDE_WHATSAPP_DRAIN_SHARDS": str(opts.drain_shards)}
                 if opts.drain_shards else {})
    load_avg = os.getloadavg()[0]
    with webhook_site("wa", SETUP, web_workers=opts.web_workers,
                      worker_threads=opts.worker_threads, worker_procs=opts.worker_procs,
                      **extra_env) as site:
        path = f"/whatsapp/{site.channel_id}/webhook"
        headers = {"X-Atende-Webhook-Token": "bench-secret"}
        site.warm_up(path, headers, lambda i: webhook_body(i, "warm"), opts.warmup,
                     opts.concurrency)
        log(f"measured: {opts.events} events, {opts.concurrency} clients"
            + (", workers paused" if opts.no_worker else ""))
        if opts.no_worker:  # acknowledgement alone: the workers keep their queue for later
            site.pause_workers()
        cpu_before = site.cpu()
        commits_before = commits(site.pg_url) if opts.no_worker else 0
        client_cpu = time.process_time()  # the load generator's own share of the cores
        started = time.monotonic()
        load = run_load(site.base, path, headers, lambda i: webhook_body(i, site.db),
                        total=opts.events, concurrency=opts.concurrency, max_seconds=600,
                        expect=200)
        client_cpu = time.process_time() - client_cpu
        cpu_acked = site.cpu()
        if opts.no_worker:
            ack_stored = site.processed(stored=True) - opts.warmup
            # Should be 0: a figure above it means the pause did not hold.
            ack_processed = site.processed() - opts.warmup
            time.sleep(1.0)  # let the statistics collector count the last commits
            # Workers paused: the commits are the webhook's flushes (and these counts').
            ack_commits = commits(site.pg_url) - commits_before
            site.resume_workers()
            started = time.monotonic()  # processing is timed from here
        target = opts.warmup + load.ok
        done = site.wait_processed(target, opts.process_timeout)
        processing_seconds = time.monotonic() - started
        cpu_after = site.cpu()
        cpu_ms = {f"{k}_cpu_ms_per_event": round(
            (cpu_after[k] - cpu_before[k]) * 1000 / max(1, done - opts.warmup), 2)
            for k in cpu_before}
        # The acknowledgement phase alone (with --no-worker: nothing else ran meanwhile).
        cpu_ms.update({f"ack_{k}_cpu_ms_per_event": round(
            (cpu_acked[k] - cpu_before[k]) * 1000 / max(1, load.ok), 2)
            for k in ("web", "postgres")})
        cpu_ms["ack_client_cpu_ms_per_event"] = round(client_cpu * 1000 / max(1, load.ok), 2)
        result = {
            "machine": machine(), "web_workers": opts.web_workers,
            "worker_threads": opts.worker_threads, "worker_procs": opts.worker_procs,
            "drain_shards": opts.drain_shards or "default",
            "no_worker": opts.no_worker,
            "concurrency": opts.concurrency,
            "events": load.requests, "acknowledged": load.ok, "errors": load.errors,
            "error_samples": load.error_samples[:3],
            "ack_rate": round(load.rate, 1), "ack_p50_ms": round(load.percentile(50), 2),
            "ack_p99_ms": round(load.percentile(99), 2),
            "processed": done - opts.warmup,
            "processed_rate": round((done - opts.warmup) / processing_seconds, 1),
            "processing_seconds": round(processing_seconds, 2),
            **cpu_ms, "load_avg_at_start": load_avg,
        }
        if opts.no_worker:
            result["stored_while_paused"] = ack_stored
            result["processed_while_paused"] = ack_processed
            result["ack_commits"] = ack_commits
            result["ack_events_per_commit"] = round(load.ok / max(1, ack_commits), 1)
        if done < target:
            log("not every event was processed before the timeout; worker log:\n"
                + tail(site.worker_log))
        if opts.sse_seconds > 0:
            log(f"to the screen: {opts.sse_rate} events/s for {opts.sse_seconds} s")
            result.update(to_screen(site.base, path, headers, site.key, opts.sse_rate,
                                    opts.sse_seconds))
        return result


def main() -> int:
    parser = options(__doc__, events=4000)
    parser.add_argument("--worker-procs", type=int, default=1,
                        help="`atende worker` processes (the first runs periodic jobs)")
    parser.add_argument("--drain-shards", type=int, default=0,
                        help="drains per channel at once (ATENDE_WHATSAPP_DRAIN_SHARDS); "
                             "0: the app's default")
    parser.add_argument("--no-worker", "--backlog", dest="no_worker", action="store_true",
                        help="pause the workers while the events are acknowledged (the "
                             "acknowledgement alone), then time their processing")
    parser.add_argument("--sse-rate", type=float, default=100)
    parser.add_argument("--sse-seconds", type=float, default=10, help="0 skips this phase")
    opts = parser.parse_args()
    return report(run(opts), opts.json)


if __name__ == "__main__":
    raise SystemExit(main())
