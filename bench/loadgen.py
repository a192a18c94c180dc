"""Load generation and measurement for the API benchmarks.

- `run_load`: C concurrent clients (asyncio, one keep-alive connection each: a minimal raw
  HTTP/1.1 client by default, or httpx) POST a JSON body until N requests are done or a
  deadline passes; latency is measured per request on the client side.
- `TreeSampler`: sums RSS and PSS over a process and all its descendants from /proc, in a
  background thread, so forked/spawned server workers are counted; `tree_cpu_by_process`
  and `matching_cpu_seconds` read CPU time the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


# --- /proc ---------------------------------------------------------------------------------

def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name is in parentheses and may contain spaces: split after the last ')'.
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def tree_pids(roots: list[int]) -> list[int]:
    kids = _children_map()
    seen: list[int] = []
    stack = list(roots)
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.append(pid)
        stack.extend(kids.get(pid, []))
    return seen


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _pss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(b")") + 2:].split()
    # fields[11], [12] are utime, stime (fields 14 and 15 of proc(5), 0-based after the name).
    return (int(fields[11]) + int(fields[12])) / TICKS


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
    except OSError:
        return "?"
    words = [a.decode(errors="replace") for a in args if a]
    # "python …/atende web --workers 2" → "atende web"; gunicorn workers keep their title.
    for i, word in enumerate(words):
        base = os.path.basename(word)
        if base in {"atende", "gunicorn"} or word == "atende.cli":
            sub = next((w for w in words[i + 1:] if not w.startswith("-")), "")
            return f"{'atende' if base != 'gunicorn' else 'gunicorn'} {sub}".strip()
        if word.startswith("from multiprocessing"):
            return "python (multiprocessing child)"
    return os.path.basename(words[0]) if words else "?"


def tree_cpu_by_process(roots: list[int]) -> dict[int, tuple[str, float]]:
    return {pid: (_cmdline(pid), _cpu_seconds(pid)) for pid in tree_pids(roots)}


def matching_cpu_seconds(needle: str) -> dict[int, float]:
    """CPU seconds of every process whose command line contains `needle` (e.g. the
    PostgreSQL backends serving one database: "postgres: 15/main: user DBNAME …")."""
    found: dict[int, float] = {}
    key = needle.encode()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                if key not in f.read():
                    continue
        except OSError:
            continue
        found[int(entry.name)] = _cpu_seconds(int(entry.name))
    return found


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return (total - idle) / TICKS, total / TICKS


@dataclass
class TreeSampler:
    """Samples the summed RSS (and PSS) of the process trees under `roots`.

    The tree is re-read every `refresh` samples and PSS (smaps_rollup, dearer) every 4th
    sample, to keep the sampler's own CPU small next to the server's.
    """

    roots: list[int]
    interval: float = 0.25
    refresh: int = 8
    rss: list[int] = field(default_factory=list)
    pss: list[int] = field(default_factory=list)
    processes: int = 0
    _pids: list[int] = field(default_factory=list)
    _n: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        if self._n % self.refresh == 0 or not self._pids:
            self._pids = tree_pids(self.roots)
            self.processes = max(self.processes, len(self._pids))
        self.rss.append(sum(_rss_bytes(p) for p in self._pids))
        if self._n % 4 == 0:
            self.pss.append(sum(_pss_bytes(p) for p in self._pids))
        self._n += 1

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> TreeSampler:
        self.sample()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._n = 0  # a last full sample
        self.sample()


# --- load ----------------------------------------------------------------------------------

@dataclass
class LoadResult:
    requests: int
    ok: int
    errors: int
    error_samples: list[str]
    elapsed: float
    latencies_ms: list[float]
    client_cpu_seconds: float
    timed_out: bool

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        data = sorted(self.latencies_ms)
        k = max(0, min(len(data) - 1, math.ceil(p / 100 * len(data)) - 1))  # nearest rank
        return data[k]


class RawConnection:
    """A minimal HTTP/1.1 keep-alive client over asyncio streams: the load generator shares
    the machine with the server, so it should spend as little CPU as it can (httpx costs
    several times more per request). Understands Content-Length bodies only (no chunked
    responses: every endpoint measured here sends Content-Length)."""

    def __init__(self, base_url: str, headers: dict[str, str], timeout: float) -> None:
        url = httpx.URL(base_url)
        self.host, self.port = url.host, url.port or 80
        self.timeout = timeout
        self.head = "".join(f"{k}: {v}\r\n" for k, v in
                            {"Host": f"{self.host}:{self.port}", "Accept": "application/json",
                             "Content-Type": "application/json", **headers}.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: bytes,
                      extra: dict[str, str] | None = None) -> tuple[int, bytes]:
        return await asyncio.wait_for(self._request(method, path, body, extra), self.timeout)

    async def _request(self, method: str, path: str, body: bytes,
                       extra: dict[str, str] | None = None) -> tuple[int, bytes]:
        if self.writer is None:
            await self.connect()
        assert self.reader is not None and self.writer is not None
        more = "".join(f"{k}: {v}\r\n" for k, v in (extra or {}).items())
        self.writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}{more}"
                          f"Content-Length: {len(body)}"
                          f"\r\n\r\n".encode() + body)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
            elif name == b"transfer-encoding":
                raise RuntimeError("chunked responses are not supported by the raw client")
        data = await self.reader.readexactly(length) if length else b""
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def _client(kind: str, method: str, base_url: str, path: str, headers: dict[str, str],
                  make_body: Callable[[int], dict[str, Any] | None],
                  counter: itertools.count,  # type: ignore[type-arg]
                  total: int, deadline: float, expect: int, timeout: float,
                  latencies: list[float], errors: list[str],
                  conn: RawConnection | None = None,
                  sign: Callable[[bytes], dict[str, str]] | None = None) -> None:
    if kind == "raw":
        conn = conn or RawConnection(base_url, headers, timeout)
        try:
            while True:
                i = next(counter)
                if i >= total or time.monotonic() > deadline:
                    return
                payload = make_body(i)
                body = json.dumps(payload).encode() if payload is not None else b""
                start = time.perf_counter()
                try:
                    status, data = await conn.request(method, path, body,
                                                      sign(body) if sign else None)
                    elapsed = time.perf_counter() - start
                    if status == expect:
                        latencies.append(elapsed * 1000)
                    else:
                        errors.append(f"HTTP {status}: {data[:200]!r}")
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        TimeoutError, ValueError, IndexError) as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
                    await conn.close()
        finally:
            await conn.close()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1, keepalive_expiry=60)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits,
                                 timeout=timeout, trust_env=False) as client:
        while True:
            i = next(counter)
            if i >= total or time.monotonic() > deadline:
                return
            payload = make_body(i)
            start = time.perf_counter()
            try:
                response = await client.request(method, path, json=payload)
                elapsed = time.perf_counter() - start
                if response.status_code == expect:
                    latencies.append(elapsed * 1000)
                else:
                    errors.append(f"HTTP {response.status_code}: {response.text[:200]}")
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")


async def _run(kind: str, method: str, base_url: str, path: str, headers: dict[str, str],
               make_body: Callable[[int], dict[str, Any] | None], total: int,
               concurrency: int, max_seconds: float, expect: int, timeout: float,
               offset: int, stagger: float,
               sign: Callable[[bytes], dict[str, str]] | None = None) -> LoadResult:
    counter = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + max_seconds

    def body(i: int) -> dict[str, Any] | None:
        return make_body(offset + i)

    # Connect before the clock starts, one client at a time. A burst of connections would
    # all be accepted by one server process (asyncio accepts everything pending at once),
    # and with keep-alive they stay there: the other workers of the server would idle.
    conns: list[RawConnection | None] = [None] * concurrency
    if kind == "raw":
        for n in range(concurrency):
            conn = RawConnection(base_url, headers, timeout)
            await asyncio.wait_for(conn.connect(), timeout)
            conns[n] = conn
            if stagger:
                await asyncio.sleep(stagger)
    cpu0 = time.thread_time()
    start = time.perf_counter()
    await asyncio.gather(*(
        _client(kind, method, base_url, path, headers, body, counter, total, deadline, expect,
                timeout, latencies, errors, conns[n], sign)
        for n in range(concurrency)
    ))
    elapsed = time.perf_counter() - start
    cpu = time.thread_time() - cpu0
    done = len(latencies) + len(errors)
    return LoadResult(requests=done, ok=len(latencies), errors=len(errors),
                      error_samples=sorted(set(errors))[:5], elapsed=elapsed,
                      latencies_ms=latencies, client_cpu_seconds=cpu,
                      timed_out=done < total)


def run_load(base_url: str, path: str, headers: dict[str, str],
             make_body: Callable[[int], dict[str, Any] | None], *, total: int,
             concurrency: int, max_seconds: float, expect: int = 201, timeout: float = 30.0,
             offset: int = 0, client: str = "raw", method: str = "POST",
             stagger: float = 0.05,
             sign: Callable[[bytes], dict[str, str]] | None = None) -> LoadResult:
    """Send `total` requests (POST by default) with `concurrency` clients; stops early at
    `max_seconds`. `make_body(i)` gives request i's JSON body (None: no body).

    `sign(body)` gives headers computed from a raw-client request's body (a webhook's
    signature). `client` is "raw" (a minimal keep-alive HTTP/1.1 client) or "httpx". The raw clients
    connect before the clock starts, `stagger` seconds apart (see _run)."""
    if client not in {"raw", "httpx"}:
        raise ValueError(f"unknown client {client!r}")
    return asyncio.run(_run(client, method, base_url, path, headers, make_body, total, concurrency,
                            max_seconds, expect, timeout, offset, stagger, sign))
