"""Ticket creation through the HTTP API, under concurrent clients: Atende vs django-helpdesk.

    .venv/bin/python bench/api_create.py                      # everything, default sizes
    .venv/bin/python bench/api_create.py --requests 2000 --only atende-pg --web-workers 1,2,3
    .venv/bin/python bench/api_create.py --json /tmp/api_create.json

Targets (all on 127.0.0.1, each started, measured and stopped in turn):

- atende-sqlite: the embedded profile, `atende run` (migrate + uvicorn web + Huey worker
  under one supervisor), SQLite in a temporary ATENDE_DATA_DIR.
- atende-pg: the scaled profile, `atende web --workers W` (uvicorn) + `atende worker`,
  PostgreSQL (a throwaway database, dropped afterwards) + Redis (a private key prefix,
  deleted afterwards).
- helpdesk: django-helpdesk 2.6.1 in its own venv (cached under ~/.cache/atende-bench),
  a generated minimal Django project, DRF token auth, SQLite, gunicorn gthread workers.

Each target gets a warm-up, then a fixed number of `POST`s from C concurrent keep-alive
clients; latency is measured per request on the client side; the server's RSS is the sum
over its whole process tree, sampled from /proc during the measured phase. The benchmark
servers run with ATENDE_API_RATE_LIMIT=0 (the per-key limit would otherwise answer 429).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import helpdesk_site
from bench.loadgen import (
    LoadResult,
    TreeSampler,
    machine_busy_seconds,
    matching_cpu_seconds,
    run_load,
    tree_cpu_by_process,
)

ROOT = Path(__file__).resolve().parent.parent
ATENDE = str(ROOT / ".venv" / "bin" / "atende")
TARGETS = ("atende-sqlite", "atende-pg", "helpdesk")
# Experiments, only with --only: the same app through gunicorn (WSGI), and the framework's
# floor (GET /healthz: the middleware chain and one SELECT 1, no ORM, no JSON parsing).
EXTRA_TARGETS = ("atende-pg-wsgi", "atende-pg-healthz")
# Set by main() from --atende-settings / --uvicorn-extras; applied to every Atende process.
ATENDE_EXTRA_ENV: dict[str, str] = {}
ATENDE_VARIANT = ""
WEB_NODELAY = False  # --web-nodelay: work around uvicorn's lost TCP_NODELAY with --workers N
EXTRAS = helpdesk_site.cache_dir() / "py312-extras"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
PO_HELPDESK = {"rate": 74.0, "p99_ms": 178.0}  # the product owner's measurement
GOAL = {"rate": 10 * PO_HELPDESK["rate"], "p99_ms": 50.0}


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f
                    if line.startswith("model name")), "")
    mem_kib = 0
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        mem_kib = next((int(line.split()[1]) for line in f if line.startswith("MemTotal")), 0)
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(), "kernel": platform.release(),
        "loadavg_at_start": os.getloadavg(),
    }


# --- processes -----------------------------------------------------------------------------

@dataclass
class Server:
    name: str
    description: str
    base_url: str
    path: str
    headers: dict[str, str]
    make_body: Callable[[int], dict[str, Any] | None]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    method: str = "POST"
    expect: int = 201
    # Command-line substring of helper processes outside the tree whose CPU counts too
    # (the PostgreSQL backends of the benchmark database).
    db_processes: str = ""

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]


def spawn(cmd: list[str], env: dict[str, str], logfile: Path,
          cwd: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a server in its own session, so stopping it reaches every child it forks."""
    out = logfile.open("ab")
    return subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def stop(procs: list[subprocess.Popen[bytes]], timeout: float = 20) -> None:
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=5)
    # Children a clean exit may have left behind in the same process group.
    for p in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)


def wait_ready(url: str, procs: list[subprocess.Popen[bytes]],
               headers: dict[str, str] | None = None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers=headers or {})
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"server exited with {p.returncode} before it was ready")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} was not ready after {timeout:.0f} s")


def tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


# --- Atende --------------------------------------------------------------------------------

def atende_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "ATENDE_TASKS_IMMEDIATE",
                        "DJANGO_SETTINGS_MODULE"}}
    env.update({
        "ATENDE_DATA_DIR": str(data_dir),
        "ATENDE_API_RATE_LIMIT": "0",  # the per-key limit (600/min) would answer 429
        "ATENDE_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(ATENDE_EXTRA_ENV)
    env.update(extra)
    return env


def install_extras(packages: list[str]) -> Path:
    """Packages the server may import, kept outside the project's venv (PYTHONPATH)."""
    uv = helpdesk_site._find_uv()
    marker = EXTRAS / (".ok-" + "-".join(sorted(packages)))
    if not marker.exists():
        log(f"installing {packages} into {EXTRAS}")
        if uv:
            subprocess.run([uv, "pip", "install", "-q", "-p", helpdesk_site.base_python(),
                            "--target", str(EXTRAS), *packages], check=True, timeout=600)
        else:
            subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target",
                            str(EXTRAS), *packages], check=True, timeout=600)
        marker.write_text("ok\n")
    return EXTRAS


def atende_demo_key(env: dict[str, str], port: int, logfile: Path) -> str:
    out = subprocess.run([ATENDE, "demo", "--port", str(port)], env=env, capture_output=True,
                         text=True, timeout=300, check=False)
    logfile.write_text(out.stdout + out.stderr)
    for line in out.stdout.splitlines():
        if line.startswith("API key: "):
            return line.removeprefix("API key: ").strip()
    raise RuntimeError(f"`atende demo` printed no API key (exit {out.returncode}):\n"
                       + tail(logfile))


def atende_body(i: int) -> dict[str, Any]:
    return {
        "title": f"Pedido {i}: não consigo emitir a segunda via",
        "description": "Olá, desde ontem o portal devolve erro ao gerar o boleto. "
                       "Podem verificar? Obrigado.",
        "priority": "high",
        "category": "financeiro",
        # A thousand distinct requesters: new contacts first, then existing ones.
        "requester_email": f"cliente{i % 1000}@example.com",
    }


@contextlib.contextmanager
def atende_sqlite(work: Path) -> Iterator[Server]:
    data = work / "atende-sqlite"
    port = free_port()
    env = atende_env(data)
    key = atende_demo_key(env, port, work / "atende-sqlite-demo.log")
    logfile = work / "atende-sqlite.log"
    proc = spawn([ATENDE, "run", "--host", "127.0.0.1", "--port", str(port)], env, logfile)
    server = Server("atende-sqlite" + ATENDE_VARIANT,
                    "atende run (uvicorn, 1 process, + Huey worker), SQLite WAL",
                    f"http://127.0.0.1:{port}", "/api/v1/tickets",
                    {"Authorization": f"Bearer {key}"}, atende_body, [proc], [logfile])
    try:
        wait_ready(server.base_url + "/healthz", server.procs)
        yield server
    finally:
        stop(server.procs)


def _pg(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def _redis_cleanup(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@contextlib.contextmanager
def atende_pg(work: Path, web_workers: int, server_cmd: list[str] | None = None,
              label: str = "") -> Iterator[Server]:
    tag = f"{os.getpid()}_{web_workers}_{int(time.time())}"
    db = f"atende_bench_{tag}"
    prefix = f"atende-bench-{tag}"
    data = work / f"atende-pg-{tag}"
    port = free_port()
    pg_url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}"
    env = atende_env(data, DATABASE_URL=pg_url, REDIS_URL=REDIS_URL, ATENDE_REDIS_PREFIX=prefix)
    _pg(f'DROP DATABASE IF EXISTS "{db}"')
    _pg(f'CREATE DATABASE "{db}"')
    procs: list[subprocess.Popen[bytes]] = []
    try:
        key = atende_demo_key(env, port, work / f"atende-pg-{tag}-demo.log")
        web_log = work / f"atende-pg-{tag}-web.log"
        worker_log = work / f"atende-pg-{tag}-worker.log"
        if server_cmd:
            procs.append(spawn([*server_cmd, "--bind", f"127.0.0.1:{port}"], env, web_log))
        else:
            web = ([str(ROOT / ".venv" / "bin" / "python"), "-m",
                    "bench.experiments.web_nodelay"] if WEB_NODELAY else [ATENDE])
            procs.append(spawn([*web, "web", "--host", "127.0.0.1", "--port", str(port),
                                "--workers", str(web_workers)], env, web_log))
        procs.append(spawn([ATENDE, "worker"], env, worker_log))
        server = Server(
            (label or f"atende-pg (web x{web_workers})") + ATENDE_VARIANT,
            (label or f"atende web --workers {web_workers} (uvicorn)")
            + " + atende worker; PostgreSQL + Redis",
            f"http://127.0.0.1:{port}", "/api/v1/tickets", {"Authorization": f"Bearer {key}"},
            atende_body, procs, [web_log, worker_log], db_processes=f" {db} ")
        wait_ready(server.base_url + "/healthz", procs)
        yield server
    finally:
        stop(procs)
        with contextlib.suppress(Exception):
            _redis_cleanup(prefix)
        _pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


@contextlib.contextmanager
def atende_pg_wsgi(work: Path, workers: int, threads: int) -> Iterator[Server]:
    """Experiment: the same app through WSGI (gunicorn gthread) instead of ASGI (uvicorn)."""
    extras = install_extras(["gunicorn>=23"])
    global ATENDE_EXTRA_ENV
    saved = dict(ATENDE_EXTRA_ENV)
    path = ATENDE_EXTRA_ENV.get("PYTHONPATH", "")
    ATENDE_EXTRA_ENV["PYTHONPATH"] = f"{extras}:{path}" if path else str(extras)
    try:
        with atende_pg(work, 1, server_cmd=[
            str(ROOT / ".venv" / "bin" / "python"), "-m", "gunicorn", "atende.wsgi:application",
            "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
            "--keep-alive", "30", "--log-level", "warning",
        ], label=f"atende-pg-wsgi (gunicorn {workers}x{threads})") as server:
            yield server
    finally:
        ATENDE_EXTRA_ENV = saved


@contextlib.contextmanager
def atende_pg_healthz(work: Path, web_workers: int) -> Iterator[Server]:
    with atende_pg(work, web_workers) as server:
        server.name = f"GET /healthz (web x{web_workers}){ATENDE_VARIANT}"
        server.path, server.method, server.expect = "/healthz", "GET", 200
        server.make_body = lambda _i: None
        yield server


@contextlib.contextmanager
def helpdesk(work: Path, workers: int, threads: int) -> Iterator[Server]:
    venv = helpdesk_site.ensure_venv(log)
    root = work / "helpdesk"
    token, queue_id = helpdesk_site.prepare(root, venv)
    port = free_port()
    logfile = work / "helpdesk.log"
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV"}}
    proc = spawn(helpdesk_site.server_command(venv, port, workers, threads), env, logfile, root)

    def body(i: int) -> dict[str, Any]:
        return {
            "queue": queue_id,
            "title": f"Pedido {i}: não consigo emitir a segunda via",
            "description": "Olá, desde ontem o portal devolve erro ao gerar o boleto. "
                           "Podem verificar? Obrigado.",
            "priority": 2,  # high
            "submitter_email": f"cliente{i % 1000}@example.com",
        }

    headers = {"Authorization": f"Token {token}"}
    server = Server("helpdesk", f"django-helpdesk {helpdesk_site.HELPDESK_VERSION}, gunicorn "
                    f"gthread {workers}x{threads} threads, SQLite WAL",
                    f"http://127.0.0.1:{port}",
                    "/api/tickets/", headers, body, [proc], [logfile])
    try:
        wait_ready(server.base_url + "/api/tickets/?status=99", server.procs, headers)
        yield server
    finally:
        stop(server.procs)


# --- measuring -----------------------------------------------------------------------------

@dataclass
class Row:
    target: str
    server: str
    concurrency: int
    requests: int
    ok: int
    errors: int
    seconds: float
    tickets_per_s: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    rss_peak_mib: float
    rss_idle_mib: float
    pss_peak_mib: float
    processes: int
    server_cpu_ms_per_req: float
    client_cpu_ms_per_req: float
    error_samples: list[str]
    timed_out: bool
    cpu_ms_per_req_by_process: dict[str, float]
    core_pct_by_process: dict[str, list[int]]
    db_cpu_ms_per_req: float
    other_cpu_ms_per_req: float
    machine_busy_pct: float
    loadavg_after: float


def measure(server: Server, requests: int, warmup: int, concurrency: int,
            max_seconds: float, client: str) -> Row:
    log(f"{server.name}: warm-up ({warmup} requests)")
    warm = run_load(server.base_url, server.path, server.headers, server.make_body,
                    total=warmup, concurrency=concurrency, max_seconds=max_seconds,
                    offset=10_000_000, client=client, method=server.method,
                    expect=server.expect)
    if warm.ok == 0:
        raise RuntimeError(f"{server.name}: warm-up failed: {warm.error_samples}")
    log(f"{server.name}: measuring ({requests} requests, {concurrency} clients)")
    cpu_before = tree_cpu_by_process(server.pids)
    db_before = matching_cpu_seconds(server.db_processes) if server.db_processes else {}
    busy0, total0 = machine_busy_seconds()
    with TreeSampler(server.pids) as sampler:
        idle_rss = sampler.rss[0]
        result: LoadResult = run_load(server.base_url, server.path, server.headers,
                                      server.make_body, total=requests,
                                      concurrency=concurrency, max_seconds=max_seconds,
                                      client=client, method=server.method,
                                      expect=server.expect)
    busy1, total1 = machine_busy_seconds()
    cpu_after = tree_cpu_by_process(server.pids)
    db_after = matching_cpu_seconds(server.db_processes) if server.db_processes else {}
    db_cpu = sum(v - db_before.get(pid, 0.0) for pid, v in db_after.items())
    mib = 1024 * 1024
    n = max(result.requests, 1)
    by_process: dict[str, float] = {}
    by_pid: dict[str, list[float]] = {}
    for pid, (name, seconds) in cpu_after.items():
        used = seconds - cpu_before.get(pid, (name, 0.0))[1]
        by_process[name] = by_process.get(name, 0.0) + used
        by_pid.setdefault(name, []).append(used)
    server_cpu = sum(by_process.values())
    # Everything the machine did in the window that was neither the server tree nor the
    # load client: PostgreSQL/Redis (for atende-pg) and other people's work on shared cores.
    other = (busy1 - busy0) - server_cpu - db_cpu - result.client_cpu_seconds
    return Row(
        target=server.name, server=server.description, concurrency=concurrency,
        requests=result.requests, ok=result.ok, errors=result.errors,
        seconds=round(result.elapsed, 2), tickets_per_s=round(result.rate, 1),
        p50_ms=round(result.percentile(50), 1), p90_ms=round(result.percentile(90), 1),
        p99_ms=round(result.percentile(99), 1), max_ms=round(max(result.latencies_ms or [0]), 1),
        rss_peak_mib=round(max(sampler.rss) / mib, 1), rss_idle_mib=round(idle_rss / mib, 1),
        pss_peak_mib=round(max(sampler.pss) / mib, 1), processes=sampler.processes,
        server_cpu_ms_per_req=round(server_cpu * 1000 / n, 2),
        client_cpu_ms_per_req=round(result.client_cpu_seconds * 1000 / n, 2),
        error_samples=result.error_samples, timed_out=result.timed_out,
        cpu_ms_per_req_by_process={k: round(v * 1000 / n, 2) for k, v in by_process.items()},
        # How evenly the load spread over processes of the same kind (uvicorn/gunicorn
        # workers), as % of one core each.
        core_pct_by_process={k: sorted((round(100 * v / result.elapsed) for v in vs),
                                       reverse=True)
                             for k, vs in by_pid.items() if len(vs) > 1},
        db_cpu_ms_per_req=round(db_cpu * 1000 / n, 2),
        other_cpu_ms_per_req=round(other * 1000 / n, 2),
        machine_busy_pct=round(100 * (busy1 - busy0) / max(total1 - total0, 1e-9), 1),
        loadavg_after=round(os.getloadavg()[0], 2),
    )


def print_table(rows: list[Row]) -> None:
    header = ["target", "ok/sent", "tickets/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
              "RSS MiB", "PSS MiB", "procs", "srv CPU ms/req", "PG CPU ms/req",
              "cli CPU ms/req", "other CPU ms/req", "busy %"]
    table = [header] + [[
        r.target, f"{r.ok}/{r.requests}", f"{r.tickets_per_s:.1f}", f"{r.p50_ms:.1f}",
        f"{r.p90_ms:.1f}", f"{r.p99_ms:.1f}", f"{r.max_ms:.1f}", f"{r.rss_peak_mib:.0f}",
        f"{r.pss_peak_mib:.0f}", str(r.processes), f"{r.server_cpu_ms_per_req:.2f}",
        f"{r.db_cpu_ms_per_req:.2f}" if r.db_cpu_ms_per_req else "-",
        f"{r.client_cpu_ms_per_req:.2f}", f"{r.other_cpu_ms_per_req:.2f}",
        f"{r.machine_busy_pct:.0f}",
    ] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table[1:]:
        print("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                for i, (c, w) in enumerate(zip(row, widths, strict=True))) + " |")
    print("columns: RSS/PSS = peak sum over the server's process tree; procs = processes in it; "
          "CPU ms/req = CPU time per request of the server tree (srv), of the PostgreSQL "
          "backends of the benchmark database (PG), of the load client (cli), and of "
          "everything else on the machine in the same window (other: Redis, other users); "
          "busy % = whole-machine CPU use during the run")
    for r in rows:
        print(f"  {r.target}: {r.server}")
        print("    server CPU ms/req by process: " + ", ".join(
            f"{k} {v:.2f}" for k, v in sorted(r.cpu_ms_per_req_by_process.items())))
        for name, shares in r.core_pct_by_process.items():
            print(f"    {name}: % of a core each: {shares}")
        if r.errors:
            print(f"    {r.errors} errors, e.g. {r.error_samples[:2]}")
        if r.timed_out:
            print("    stopped at --max-seconds before all requests were sent")
    hd = next((r for r in rows if r.target == "helpdesk"), None)
    for r in rows:
        if r.target.startswith("atende-pg"):
            ratio = f", {r.tickets_per_s / hd.tickets_per_s:.1f}x helpdesk here" if hd else ""
            ok = r.tickets_per_s >= GOAL["rate"] and r.p99_ms <= GOAL["p99_ms"]
            print(f"goal for {r.target}: ≥ {GOAL['rate']:.0f} tickets/s and p99 ≤ "
                  f"{GOAL['p99_ms']:.0f} ms → {'MET' if ok else 'NOT MET'} "
                  f"({r.tickets_per_s:.0f}/s, p99 {r.p99_ms:.0f} ms{ratio})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000,
                        help="measured requests per target (default 3000)")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests (default 200)")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument("--only", default=",".join(TARGETS),
                        help=f"comma-separated subset of {','.join(TARGETS)} (default: all); "
                             f"experiments: {','.join(EXTRA_TARGETS)}")
    parser.add_argument("--web-workers", default="2",
                        help="uvicorn worker counts for atende-pg, comma-separated (default 2)")
    parser.add_argument("--atende-settings", metavar="MODULE",
                        help="experiment: DJANGO_SETTINGS_MODULE for the Atende servers, e.g. "
                             "bench.experiments.settings_no_whitenoise")
    parser.add_argument("--uvicorn-extras", action="store_true",
                        help="experiment: give the Atende servers httptools + uvloop (installed "
                             "under ~/.cache/atende-bench, not in the project venv)")
    parser.add_argument("--web-nodelay", action="store_true",
                        help="experiment: start `atende web` through "
                             "bench.experiments.web_nodelay, which gives uvicorn's --workers "
                             "listener proto=IPPROTO_TCP so keep-alive responses get "
                             "TCP_NODELAY (uvicorn issue #3149)")
    parser.add_argument("--wsgi-workers", type=int, default=2,
                        help="gunicorn processes for the atende-pg-wsgi experiment (2)")
    parser.add_argument("--wsgi-threads", type=int, default=4)
    parser.add_argument("--helpdesk-workers", type=int, default=2)
    parser.add_argument("--helpdesk-threads", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=300,
                        help="upper bound on each load phase (default 300 s)")
    parser.add_argument("--client", choices=("raw", "httpx"), default="raw",
                        help="load client: a minimal asyncio HTTP/1.1 client (default, cheapest "
                             "in CPU) or httpx.AsyncClient")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (logs, SQLite files)")
    parser.add_argument("--src", type=Path, default=ROOT / "src",
                        help="the `src` directory the Atende servers run (default: this "
                             "checkout's; another checkout's for a before/after)")
    opts = parser.parse_args(argv)

    only = [t.strip() for t in opts.only.split(",") if t.strip()]
    unknown = set(only) - set(TARGETS) - set(EXTRA_TARGETS)
    if unknown:
        parser.error(f"unknown targets: {sorted(unknown)}")
    if opts.requests < 1 or opts.concurrency < 1 or opts.requests > 1_000_000:
        parser.error("--requests must be 1..1000000 and --concurrency ≥ 1")
    web_workers = [int(w) for w in opts.web_workers.split(",") if w.strip()]

    global ATENDE_VARIANT, WEB_NODELAY
    variant: list[str] = []
    if opts.web_nodelay:
        WEB_NODELAY = True
        variant.append("TCP_NODELAY fix")
    # The chosen src first: the venv's editable install may point at another checkout.
    pythonpath = [str(opts.src.resolve()), str(ROOT)]
    if opts.atende_settings:
        ATENDE_EXTRA_ENV["DJANGO_SETTINGS_MODULE"] = opts.atende_settings
        variant.append(opts.atende_settings.rsplit(".", 1)[-1])
    if opts.uvicorn_extras:
        pythonpath.insert(0, str(install_extras(["httptools>=0.6", "uvloop>=0.21"])))
        variant.append("httptools+uvloop")
    ATENDE_EXTRA_ENV["PYTHONPATH"] = ":".join(pythonpath)
    ATENDE_VARIANT = f" [{', '.join(variant)}]" if variant else ""

    info = machine()
    log(f"machine: {info}")
    work = Path(tempfile.mkdtemp(prefix="atende-bench-"))
    rows: list[Row] = []
    plan: list[tuple[str, Callable[[], contextlib.AbstractContextManager[Server]]]] = []
    for name in (*TARGETS, *EXTRA_TARGETS):
        if name not in only:
            continue
        if name == "atende-sqlite":
            plan.append((name, lambda: atende_sqlite(work)))
        elif name == "atende-pg":
            for w in web_workers:
                plan.append((f"{name} (web x{w})", lambda w=w: atende_pg(work, w)))  # type: ignore[misc]
        elif name == "atende-pg-healthz":
            for w in web_workers:
                plan.append((f"{name} (web x{w})", lambda w=w: atende_pg_healthz(work, w)))  # type: ignore[misc]
        elif name == "atende-pg-wsgi":
            plan.append((name, lambda: atende_pg_wsgi(work, opts.wsgi_workers,
                                                      opts.wsgi_threads)))
        else:
            plan.append((name, lambda: helpdesk(work, opts.helpdesk_workers,
                                                opts.helpdesk_threads)))
    failed = False
    try:
        for name, start in plan:
            log(f"{name}: starting")
            try:
                with start() as server:
                    rows.append(measure(server, opts.requests, opts.warmup, opts.concurrency,
                                        opts.max_seconds, opts.client))
            except Exception as exc:
                failed = True
                log(f"{name}: FAILED: {exc}")
                for logfile in sorted(work.glob("*.log")):
                    if logfile.stat().st_size:
                        log(f"--- {logfile.name}\n{tail(logfile)}")
    finally:
        if opts.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nAPI ticket creation, {opts.concurrency} concurrent {opts.client} clients, "
          f"{opts.requests} "
          f"measured requests per target after {opts.warmup} warm-up; "
          f"{info['nproc']} cores ({info['cpu']}), {info['ram_gib']} GiB RAM, "
          f"load average at start {info['loadavg_at_start'][0]:.2f}\n")
    print_table(rows)
    if opts.json:
        opts.json.write_text(json.dumps({
            "machine": info, "concurrency": opts.concurrency, "requests": opts.requests,
            "warmup": opts.warmup, "client": opts.client,
            "product_owner_helpdesk": PO_HELPDESK, "goal": GOAL,
            "rows": [asdict(r) for r in rows],
        }, indent=2, ensure_ascii=False))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
