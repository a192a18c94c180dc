"""Memory of the embedded default: `atende run` on a fresh data directory, PSS summed over
its whole process tree, idle after start and after a small load.

    .venv/bin/python bench/memory.py
    .venv/bin/python bench/memory.py --src /tmp/older-checkout/src --creates 500

PSS (proportional set size, `/proc/<pid>/smaps_rollup`) counts a page shared by N processes
as 1/N in each, so the sum over the tree is the memory the tree really takes; RSS counts
shared pages in every process. The load is `--creates` tickets POSTed through the API by 8
clients, then `--reads` ticket lists; the figures are taken `--settle` seconds after each
phase (the worker has run its periodic jobs at start by then).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_create import ATENDE, ROOT, atende_body, free_port, spawn, stop, wait_ready
from bench.loadgen import run_load, tree_pids

MIB = 1024 * 1024


def _rollup(pid: int) -> dict[str, int]:
    found: dict[str, int] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            name, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                found[name] = int(parts[0]) * 1024
    return found


def _name(pid: int) -> str:
    with contextlib.suppress(OSError):
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        words = [a.decode(errors="replace") for a in args if a][1:]
        command = " ".join(w for w in words if not w.startswith("/") and w != "-m")
        return f"{comm} ({command[:40]})" if comm.startswith("atende-") else command[:55]
    return "?"


def snapshot(root: int, label: str) -> int:
    pids = tree_pids([root])
    total_pss = total_rss = 0
    print(f"\n{label}: {len(pids)} processes")
    print(f"  {'pid':>7}  {'RSS MiB':>8}  {'PSS MiB':>8}  process")
    for pid in pids:
        r = _rollup(pid)
        total_pss += r.get("Pss", 0)
        total_rss += r.get("Rss", 0)
        print(f"  {pid:>7}  {r.get('Rss', 0) / MIB:8.1f}  {r.get('Pss', 0) / MIB:8.1f}  "
              f"{_name(pid)}")
    print(f"  {'total':>7}  {total_rss / MIB:8.1f}  {total_pss / MIB:8.1f}")
    return total_pss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src",
                        help="the `src` directory to run (default: this checkout's)")
    parser.add_argument("--creates", type=int, default=300)
    parser.add_argument("--reads", type=int, default=100)
    parser.add_argument("--settle", type=float, default=10.0)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    opts = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="atende-mem-"))
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "ATENDE_TASKS_IMMEDIATE",
                        "DJANGO_SETTINGS_MODULE", "ATENDE_LOG_LEVEL"}}
    env.update({"ATENDE_DATA_DIR": str(work / "data"), "ATENDE_API_RATE_LIMIT": "0",
                "PYTHONPATH": str(opts.src.resolve()), "PYTHONUNBUFFERED": "1"})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    demo = subprocess.run([ATENDE, "demo", "--port", str(port)], env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    key = next((line.removeprefix("API key: ").strip() for line in demo.stdout.splitlines()
                if line.startswith("API key: ")), None)
    if key is None:
        print(demo.stdout + demo.stderr, file=sys.stderr)
        return 1
    log = work / "atende-run.log"
    proc = spawn([ATENDE, "run", "--port", str(port)], env, log)
    try:
        wait_ready(base + "/healthz", [proc])
        time.sleep(opts.settle)
        idle = snapshot(proc.pid, f"idle, {opts.settle:.0f} s after ready")
        headers = {"Authorization": f"Bearer {key}"}
        created = run_load(base, "/api/v1/tickets", headers, atende_body, total=opts.creates,
                           concurrency=8, max_seconds=300)
        read = run_load(base, "/api/v1/tickets?limit=50", headers, lambda _i: None,
                        total=opts.reads, concurrency=4, max_seconds=120, expect=200,
                        method="GET")
        print(f"\nload: {created.ok}/{created.requests} creates, {read.ok}/{read.requests} "
              "ticket lists")
        time.sleep(opts.settle)
        loaded = snapshot(proc.pid, f"after the load, {opts.settle:.0f} s later")
        print(f"\nPSS of the tree: {idle / MIB:.1f} MiB idle, {loaded / MIB:.1f} MiB after "
              f"the load (src: {opts.src})")
    finally:
        stop([proc])
        if opts.keep:
            print(f"kept {work}")
        else:
            import shutil

            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
