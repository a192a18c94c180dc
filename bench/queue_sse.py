"""Live queue fan-out: from a ticket created through the API to its event (and its queue row)
on 100 connected SSE clients.

    .venv/bin/python bench/queue_sse.py                        # 100 clients, 5 tickets/s, 60 s
    .venv/bin/python bench/queue_sse.py --clients 100 --restricted 50 --rate 5 --seconds 60 \\
        --row-fetchers 5 --web-workers 2 --json out.json

The scaled profile, as in production: `atende web --workers W` (uvicorn) + `atende worker`
(Huey on Redis), PostgreSQL (a throwaway database, dropped afterwards) and Redis (a private
key prefix, deleted afterwards), the demo organisation from `atende demo`.

Clients: `--restricted` of them are signed-in agents without "see every ticket" (each its
own session, member of the "Suporte" service), so every event goes through the per-stream
visibility filter (tickets/event_visibility.py); the others read `/realtime/stream` with the
organisation's API key (no filter). Tickets are POSTed to `/api/v1/tickets` at a steady
`--rate` for `--seconds`, in "Suporte", each with a unique title.

Reported (JSON, then the same in words): per ticket, p50/p95/p99 from the start of the
POST until `ticket.created` is on *all* the clients (the last client's receipt: the issue's
figure, `to_all_clients_ms`; a ticket some client never got is counted apart), and over
every (ticket, client) pair, to one client's receipt (`to_event_ms`). `--row-fetchers` of
the restricted agents then do what queue.js does on that event: wait its 120 ms debounce
and GET `/?rows=<id>` (HX-Request); reported as p50/p95/p99 from the POST's start to the
row's HTML being back, and the fetch alone. Arrival times are taken in this process's
reader threads: with 100 streams on a 2-core machine shared with the server, they include
this process's own scheduling delay.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, the project root on the path for `bench.*`.
_HERE = Path(__file__).resolve().parent
if __package__ in (None, ""):
    sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import queue  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from typing import Any  # noqa: E402

from tests.realtime.sse_client import SSEClient  # noqa: E402

from bench.api_create import (  # noqa: E402
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
from bench.webhook_site import percentile  # noqa: E402

DEBOUNCE_SECONDS = 0.120  # queue.js: schedule()

# Restricted agents in "Suporte", each with a session (printed as SESSION <cookie value>).
SETUP = """
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from atende.tenancy.models import Membership, Organization, Role, Service, User
from atende.tickets.visibility import sees_every_ticket
org = Organization.objects.get(slug="demo")
support = Service.objects.get(organization=org, name="Suporte")
print("SERVICE", support.pk)
print("COOKIE", settings.SESSION_COOKIE_NAME)
engine = import_module(settings.SESSION_ENGINE)
for n in range(COUNT):
    user, _ = User.objects.get_or_create(email=f"sse{n}@bench.test",
                                         defaults={"name": f"Agente SSE {n}"})
    m, _ = Membership.objects.get_or_create(organization=org, user=user,
                                            defaults={"role": Role.AGENT})
    m.services.add(support)
    assert not sees_every_ticket(m), "a bench agent must be restricted"
    session = engine.SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    print("SESSION", session.session_key)
"""


def setup_agents(env: dict[str, str], count: int) -> tuple[int, str, list[str]]:
    out = subprocess.run([ATENDE, "manage", "shell", "-c", SETUP.replace("COUNT", str(count))],
                         env=env, check=True, capture_output=True, text=True, timeout=300)
    words = [line.split() for line in out.stdout.splitlines() if line.strip()]
    service = next(int(w[1]) for w in words if w[0] == "SERVICE")
    cookie = next(w[1] for w in words if w[0] == "COOKIE")
    return service, cookie, [w[1] for w in words if w[0] == "SESSION"]


def fan_out(base: str, key: str, service_id: int, cookie_name: str, sessions: list[str],
            opts: argparse.Namespace) -> dict[str, Any]:
    import httpx

    run_id = f"sse{int(time.time())}"
    clients: list[tuple[str, SSEClient]] = []
    for n in range(opts.clients):
        if n < len(sessions):
            clients.append((sessions[n], SSEClient(base + "/realtime/stream",
                                                   cookie=f"{cookie_name}={sessions[n]}")))
        else:
            clients.append(("", SSEClient(base + "/realtime/stream", api_key=key)))
    log(f"connecting {len(clients)} SSE clients ({len(sessions)} restricted agents)")
    for _session, client in clients:
        client.start(timeout=30)

    started: dict[str, float] = {}  # title -> time.time() at the POST's start
    answered: dict[str, float] = {}  # title -> time.time() when the API answered
    per_ticket: dict[str, list[float]] = {}  # title -> arrival times on every client
    arrivals: list[float] = []
    rows: list[float] = []
    fetches: list[float] = []
    lock = threading.Lock()
    fetchers = ThreadPoolExecutor(max(1, opts.row_fetchers * 2))
    row_http = httpx.Client(base_url=base, timeout=30,
                            limits=httpx.Limits(max_connections=opts.row_fetchers * 2 + 1))
    stop_readers = threading.Event()

    def fetch_row(session: str, ticket_id: int, t0: float) -> None:
        time.sleep(DEBOUNCE_SECONDS)
        f0 = time.time()
        response = row_http.get(f"/?rows={ticket_id}", headers={"HX-Request": "true"},
                                cookies={cookie_name: session})
        done = time.time()
        if response.status_code == 200 and f'id="ticket-row-{ticket_id}"' in response.text:
            with lock:
                rows.append((done - t0) * 1000)
                fetches.append((done - f0) * 1000)

    def reader(session: str, client: SSEClient, fetch: bool) -> None:
        while not stop_readers.is_set():
            try:
                event = client.events.get(timeout=0.5)
            except queue.Empty:
                continue
            if event.type != "ticket.created":
                continue
            payload = event.data.get("data") or {}
            t0 = started.get(str(payload.get("title", "")))
            if t0 is None:
                continue
            with lock:
                arrivals.append((event.arrived_at - t0) * 1000)
                per_ticket.setdefault(str(payload["title"]), []).append(event.arrived_at)
            if fetch:
                fetchers.submit(fetch_row, session, int(payload["id"]), t0)

    threads = [threading.Thread(target=reader, args=(s, c, bool(s) and n < opts.row_fetchers),
                                daemon=True) for n, (s, c) in enumerate(clients)]
    for thread in threads:
        thread.start()

    total = int(opts.rate * opts.seconds)
    statuses: list[int] = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30,
                      limits=httpx.Limits(max_connections=8)) as http:

        def post(i: int) -> int:
            title = f"Bench {run_id} #{i}: pedido atrasado"
            started[title] = time.time()
            status = http.post("/api/v1/tickets", json={
                "title": title, "description": "Meu pedido não chegou.", "priority": "high",
                "requester_email": f"cliente{i % 200}@example.com",
                "service_id": service_id}).status_code
            answered[title] = time.time()
            return status

        log(f"creating {total} tickets at {opts.rate}/s")
        start = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            futures = []
            for i in range(total):
                time.sleep(max(0.0, start + i / opts.rate - time.monotonic()))
                futures.append(pool.submit(post, i))
            statuses = [f.result() for f in futures]
    expected = sum(1 for s in statuses if s in (200, 201)) * len(clients)
    deadline = time.monotonic() + 30
    while len(arrivals) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # the last row fetches
    stop_readers.set()
    fetchers.shutdown(wait=True)
    row_http.close()
    errors = [repr(c.error) for _s, c in clients if c.error is not None]
    for _session, client in clients:
        client.close()

    def figures(data: list[float]) -> dict[str, float]:
        return {"p50": round(percentile(data, 50), 1), "p95": round(percentile(data, 95), 1),
                "p99": round(percentile(data, 99), 1), "max": round(max(data, default=0), 1)}

    api = [(answered[t] - started[t]) * 1000 for t in answered]
    # The figure: from the API call's start until the ticket's row event is on
    # *every* client (the last client's arrival), one value per ticket; a ticket some
    # client never received is counted apart, not left out silently.
    everywhere = [(max(a) - started[t]) * 1000 for t, a in per_ticket.items()
                  if len(a) == len(clients)]
    missed = sum(1 for s in statuses if s in (200, 201)) - len(everywhere)
    # The first client's receipt after the API answered (the commit, then the broker and
    # the hub), and how much later the last client got the same event (the fan-out).
    first = [(min(a) - answered[t]) * 1000 for t, a in per_ticket.items() if t in answered]
    spread = [(max(a) - min(a)) * 1000 for a in per_ticket.values()]
    return {
        "api_ms": figures(api), "first_client_after_api_ms": figures(first),
        "fan_out_spread_ms": figures(spread),
        "clients": len(clients), "restricted_clients": len(sessions),
        "rate": opts.rate, "seconds": opts.seconds, "tickets": total,
        "created": sum(1 for s in statuses if s in (200, 201)),
        "deliveries_expected": expected, "deliveries": len(arrivals),
        "stream_errors": errors[:3],
        "to_all_clients_ms": figures(everywhere), "tickets_not_on_every_client": missed,
        "to_event_ms": figures(arrivals),
        "row_fetchers": opts.row_fetchers, "rows_fetched": len(rows),
        "to_row_ms": figures(rows), "row_fetch_ms": figures(fetches),
    }


def run(opts: argparse.Namespace) -> dict[str, Any]:
    tag = f"qsse_{int(time.time())}"
    db, prefix = f"atende_bench_{tag}", f"atende-bench-{tag}"
    pg_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}"
    work = Path(tempfile.mkdtemp(prefix="atende-queue-sse-"))
    port = free_port()
    env = atende_env(work / "data", DATABASE_URL=pg_url, REDIS_URL=REDIS_URL,
                     ATENDE_REDIS_PREFIX=prefix)
    _pg(f'DROP DATABASE IF EXISTS "{db}"')
    _pg(f'CREATE DATABASE "{db}"')
    procs: list[subprocess.Popen[bytes]] = []
    try:
        key = atende_demo_key(env, port, work / "demo.log")  # migrates, creates the tenant
        service_id, cookie_name, sessions = setup_agents(env, min(opts.restricted,
                                                                  opts.clients))
        web_log, worker_log = work / "web.log", work / "worker.log"
        procs.append(spawn([ATENDE, "web", "--host", "127.0.0.1", "--port", str(port),
                            "--workers", str(opts.web_workers)], env, web_log))
        procs.append(spawn([ATENDE, "worker"], env, worker_log))
        base = f"http://127.0.0.1:{port}"
        wait_ready(base + "/healthz", procs)
        result = {"machine": machine(), "web_workers": opts.web_workers}
        result.update(fan_out(base, key, service_id, cookie_name, sessions, opts))
        if result["deliveries"] < result["deliveries_expected"]:
            log("not every event arrived; web log:\n" + tail(web_log))
        return result
    finally:
        stop(procs)
        try:
            _redis_cleanup(prefix)
        finally:
            _pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def summary(result: dict[str, Any]) -> str:
    """The figures in words, after the JSON."""
    def line(label: str, f: dict[str, float]) -> str:
        return (f"  {label:58s} p50 {f['p50']:7.1f}  p95 {f['p95']:7.1f}  "
                f"p99 {f['p99']:7.1f}  max {f['max']:7.1f} ms")

    return "\n".join([
        f"\n{result['created']} tickets created through the API at {result['rate']}/s, "
        f"{result['clients']} SSE clients ({result['restricted_clients']} restricted agents), "
        f"{result['deliveries']:,} of {result['deliveries_expected']:,} events delivered; "
        f"{result['tickets_not_on_every_client']} tickets not on every client; "
        f"load average {os.getloadavg()[0]:.1f}",
        line(f"API call start -> ticket.created on ALL {result['clients']} clients",
             result["to_all_clients_ms"]),
        line("API call start -> ticket.created on one client (each pair)",
             result["to_event_ms"]),
        line("API call itself (POST -> 201)", result["api_ms"]),
        line("fan-out spread (first -> last client)", result["fan_out_spread_ms"]),
        *([line(f"API call start -> row HTML back ({result['rows_fetched']} fetches)",
                result["to_row_ms"])] if result["row_fetchers"] else []),
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--restricted", type=int, default=50,
                        help="of the clients, how many are restricted agents' sessions")
    parser.add_argument("--rate", type=float, default=5.0, help="tickets per second")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--row-fetchers", type=int, default=5,
                        help="restricted agents that also fetch the row, as queue.js does")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    opts = parser.parse_args()
    result = run(opts)
    print(json.dumps(result, indent=2))
    print(summary(result))
    if opts.json:
        opts.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
