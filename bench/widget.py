"""The website chat under load: idle visitors' streams and live messages both ways.

    .venv/bin/python -m bench.widget                          # 2000 idle, 100 active chats
    .venv/bin/python -m bench.widget --idle 500 --active 20 --rate 20

The scaled profile (`bench.webhook_site`: `atende web --workers 2`, a Huey worker on
Redis, a throwaway PostgreSQL database) with the demo organisation's widget. Steps:

1. After 50 warm-up streams, `--idle` visitors each get a token and open their stream,
   and stay idle; the web processes' memory (PSS of the process tree) is read before and
   after: per connection.
2. `--active` visitors open a chat (one message each: their ticket). An agent's stream
   (the organisation's `/realtime/stream`, with the demo API key) listens.
3. At `--rate` messages per second in all, alternating: a visitor writes (latency: until
   the agent's stream carries the `message.created`), an agent answers through the API
   (latency: until that visitor's stream carries the `message`).

Reported: memory per idle stream, p50/p99 of both latencies, the widget's gzipped size.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.api_create import log, machine
from bench.loadgen import tree_pids
from bench.memory import _rollup
from bench.webhook_site import options, percentile, webhook_site

PUBLIC_ID = "benchwidget01"
SETUP = f"""
from atende.channels.models import Channel
c = Channel.objects.get(kind="webchat")
c.settings = {{**c.settings, "public_id": "{PUBLIC_ID}"}}
c.save()
print("CHANNEL", c.pk)
"""
SCRIPT = Path(__file__).resolve().parent.parent / "src/atende/connectors/webchat/assets/v1.js"


def pss(root: int) -> int:
    return sum(_rollup(pid).get("Pss", 0) for pid in tree_pids([root]))


class Stream:
    """One SSE connection read in a task; `events` gets (type, data, arrival time)."""

    def __init__(self, client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
        self.events: asyncio.Queue[tuple[str, dict[str, Any], float]] = asyncio.Queue()
        self.opened = asyncio.Event()
        self.task = asyncio.create_task(self._run(client, url, headers))

    async def _run(self, client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
        async with client.stream("GET", url, headers=headers) as response:
            kind = ""
            async for line in response.aiter_lines():
                if line.startswith("retry:"):
                    self.opened.set()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    body = json.loads(line[6:])
                    self.events.put_nowait((kind, body.get("data") or {}, time.perf_counter()))


async def visitor(client: httpx.AsyncClient, base: str) -> str:
    r = await client.post(f"{base}/widget/w/{PUBLIC_ID}/session", json={})
    r.raise_for_status()
    token: str = r.json()["token"]
    return token


async def run(args: Any, base: str, key: str, web_pid: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.idle + args.active + 150)  # + warm-up, agent
    async with httpx.AsyncClient(timeout=httpx.Timeout(60, read=None), limits=limits) as client:
        # Warm up first (imports, caches, the first connections of each web process), so
        # the difference is the streams' own cost.
        warm = []
        for _n in range(50):
            token = await visitor(client, base)
            warm.append(Stream(client, f"{base}/widget/w/{PUBLIC_ID}/stream?token={token}", {}))
        await asyncio.wait_for(asyncio.gather(*(s.opened.wait() for s in warm)), 300)
        await asyncio.sleep(5)
        before = pss(web_pid)
        idle = []
        for n in range(args.idle):
            token = await visitor(client, base)
            idle.append(Stream(client, f"{base}/widget/w/{PUBLIC_ID}/stream?token={token}", {}))
            if n % 200 == 199:
                log(f"{n + 1} idle streams")
        await asyncio.wait_for(asyncio.gather(*(s.opened.wait() for s in idle)), 300)
        await asyncio.sleep(5)
        after = pss(web_pid)
        per_stream = (after - before) / max(args.idle, 1)
        log(f"web PSS {before / 2**20:.1f} → {after / 2**20:.1f} MiB: "
            f"{per_stream / 1024:.1f} KiB per idle stream")

        agent = Stream(client, f"{base}/realtime/stream", {"Authorization": f"Bearer {key}"})
        await agent.opened.wait()
        chats = []
        for n in range(args.active):
            token = await visitor(client, base)
            auth = {"Authorization": f"Bearer {token}"}
            r = await client.post(f"{base}/widget/w/{PUBLIC_ID}/messages", headers=auth,
                                  json={"client_id": f"open-{n}", "text": f"oi {n}"})
            r.raise_for_status()
            stream = Stream(client, f"{base}/widget/w/{PUBLIC_ID}/stream?token={token}", {})
            await stream.opened.wait()
            chats.append((auth, stream))
        ticket_of: dict[int, int] = {}
        deadline = time.perf_counter() + 30
        while len(ticket_of) < args.active and time.perf_counter() < deadline:
            kind, data, _at = await asyncio.wait_for(agent.events.get(), 30)
            if kind == "message.created" and data.get("direction") == "inbound":
                n = int(str(data.get("text", "oi -1")).split()[-1])
                ticket_of[n] = int(data["ticket_id"])
        while not agent.events.empty():
            agent.events.get_nowait()

        to_agent: list[float] = []
        to_visitor: list[float] = []
        interval = 1 / args.rate
        for i in range(args.messages):
            n = i % args.active
            auth, stream = chats[n]
            started = time.perf_counter()
            if i % 2 == 0:
                text = f"visitante {i}"
                r = await client.post(f"{base}/widget/w/{PUBLIC_ID}/messages", headers=auth,
                                      json={"client_id": f"m-{i}", "text": text})
                r.raise_for_status()
                while True:
                    kind, data, at = await asyncio.wait_for(agent.events.get(), 30)
                    if kind == "message.created" and data.get("text") == text:
                        to_agent.append(at - started)
                        break
            else:
                text = f"agente {i}"
                r = await client.post(f"{base}/api/v1/tickets/{ticket_of[n]}/comments",
                                      headers={"Authorization": f"Bearer {key}"},
                                      json={"text": text})
                r.raise_for_status()
                while True:
                    kind, data, at = await asyncio.wait_for(stream.events.get(), 30)
                    if kind == "message" and data.get("text") == text:
                        to_visitor.append(at - started)
                        break
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))
        for s in [*warm, *idle, agent, *(c[1] for c in chats)]:
            s.task.cancel()
    ms = 1000
    return {
        "idle_streams": args.idle, "active_chats": args.active, "rate": args.rate,
        "kib_per_idle_stream": round(per_stream / 1024, 1),
        "visitor_to_agent_p50_ms": round(statistics.median(to_agent) * ms, 1),
        "visitor_to_agent_p99_ms": round(percentile(to_agent, 99) * ms, 1),
        "agent_to_visitor_p50_ms": round(statistics.median(to_visitor) * ms, 1),
        "agent_to_visitor_p99_ms": round(percentile(to_visitor, 99) * ms, 1),
        "widget_gzip_bytes": len(gzip.compress(SCRIPT.read_bytes(), 9)),
        "machine": machine(),
    }


def main() -> int:
    parser = options(__doc__, 200)
    parser.add_argument("--idle", type=int, default=2000)
    parser.add_argument("--active", type=int, default=100)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--messages", type=int, default=400)
    args = parser.parse_args()
    with webhook_site("widget", SETUP, web_workers=args.web_workers,
                      worker_threads=args.worker_threads,
                      # One address plays every visitor here.
                      ATENDE_WIDGET_SESSIONS_PER_IP_MINUTE="1000000",
                      ATENDE_WIDGET_MESSAGES_PER_IP_MINUTE="1000000") as site:
        result = asyncio.run(run(args, site.base, site.key, site.procs[0].pid))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
