"""Where a uvicorn worker spends its time while tickets are created through the API.

    .venv/bin/python bench/profile_server.py                  # atende-pg, 1 web process
    .venv/bin/python bench/profile_server.py --target atende-sqlite --seconds 20
    .venv/bin/python bench/profile_server.py --atende-settings bench.experiments.settings_sync_chain

Starts the target like bench/api_create.py does, loads it with 8 clients, and samples the
web process with py-spy (`record --gil`: only the thread holding the GIL, so the samples are
where the Python CPU goes, not where threads sleep). py-spy comes from PyPI into
~/.cache/atende-bench (not into the project's venv). Prints the share of samples under each
step of the request (inclusive: a step's share contains its sub-steps) and the hottest leaf
functions; `--raw FILE` keeps py-spy's collapsed stacks (flamegraph.pl / speedscope read them).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import api_create
from bench.loadgen import run_load, tree_pids

# (label, substring of a frame "function (file:line)"); a sample counts for a label when any
# frame of its stack contains the substring.
STEPS = [
    ("no Django frame at all: uvicorn/h11 HTTP + asyncio event loop", None),
    ("Django side, but neither middleware nor view: asgiref/thread plumbing", "PLUMBING"),
    ("  middleware chain, outside the view", "MIDDLEWARE_ONLY"),
    ("  ninja view (create_ticket and what ninja wraps it in)", "PathView._sync_view"),
    ("    ninja: auth (API key lookup, rate limit)", "_run_authentication"),
    ("    ninja: request parsing + pydantic validation", "Operation._get_values"),
    ("    ninja: response validation + JSON rendering", "Operation._result_to_response"),
    ("    find_or_create_contact", "find_or_create_contact ("),
    ("    validate_custom_fields", "validate_custom_fields ("),
    ("    open_ticket", "open_ticket ("),
    ("      allocate_number", "allocate_number ("),
    ("      emit (realtime outbox + webhook fan-out)", "emit (atende/events.py"),
    ("      audit.record", "record (atende/tickets/services/audit.py"),
    ("    ticket_for (re-read for the response)", "ticket_for ("),
    ("    ticket_out", "ticket_out ("),
    ("    transaction commit", "Atomic.__exit__"),
]

# Self time by package of the leaf frame (adds up to 100%).
PACKAGES = [
    ("psycopg (driver)", ("psycopg/", "psycopg_binary")),
    ("sqlite3 (driver)", ("sqlite3/",)),
    ("Django ORM (django/db)", ("django/db/",)),
    ("ninja + pydantic", ("ninja/", "pydantic")),
    ("asgiref + thread hand-offs (threading, concurrent.futures, queue)",
     ("asgiref/", "threading.py", "concurrent/futures", "queue.py")),
    ("uvicorn + h11 + asyncio (HTTP, event loop)",
     ("uvicorn/", "h11/", "asyncio/", "selectors.py", "httptools", "uvloop")),
    ("Django, other (handlers, middleware, http, utils, signals)", ("django/",)),
    ("redis client", ("redis/",)),
    ("atende (application code)", ("atende/",)),
    ("json", ("json/",)),
]
APP_MARKERS = ("django/", "ninja/", "atende/", "asgiref/", "psycopg", "sqlite3")


def classify(stack: list[str], needle: str | None) -> bool:
    if needle is None:
        return not any(m in f for f in stack for m in APP_MARKERS)
    if needle == "PLUMBING":
        return (any(m in f for f in stack for m in APP_MARKERS)
                and not any(k in f for f in stack for k in ("MiddlewareMixin",
                                                            "WhiteNoiseMiddleware",
                                                            "PathView._sync_view")))
    if needle == "MIDDLEWARE_ONLY":
        return (any("MiddlewareMixin" in f or "WhiteNoiseMiddleware" in f for f in stack)
                and not any("PathView._sync_view" in f for f in stack))
    return any(needle in f for f in stack)


def summarise(raw: Path, top: int = 25) -> str:
    steps: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack_text.split(";")
        if frames and frames[0].startswith("process "):
            frames = frames[1:]
        if frames and frames[0].startswith("thread "):
            frames = frames[1:]
        total += n
        for label, needle in STEPS:
            if classify(frames, needle):
                steps[label] += n
        leaf = frames[-1] if frames else "?"
        leaves[leaf] += n
        packages[next((label for label, keys in PACKAGES if any(k in leaf for k in keys)),
                      "other (stdlib, C calls attributed to their caller)")] += n
    if not total:
        return "no samples"
    out = [f"{total} samples (GIL holder)", "",
           "inclusive share of samples (a step contains its sub-steps):"]
    out += [f"{100 * steps[label] / total:5.1f}%  {label}" for label, _ in STEPS]
    out += ["", "self time by package (leaf frame):"]
    out += [f"{100 * n / total:5.1f}%  {label}" for label, n in packages.most_common()]
    out += ["", "hottest leaf functions (self time):"]
    out += [f"{100 * n / total:5.1f}%  {leaf[:140]}" for leaf, n in leaves.most_common(top)]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=("atende-pg", "atende-sqlite"), default="atende-pg")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--wall", action="store_true",
                        help="sample every thread, idle ones too (where wall time goes), "
                             "instead of only the GIL holder (where CPU goes)")
    parser.add_argument("--atende-settings", metavar="MODULE")
    parser.add_argument("--raw", type=Path, help="keep py-spy's collapsed stacks here")
    parser.add_argument("--summarise", type=Path, metavar="RAW",
                        help="only summarise an existing collapsed-stack file")
    opts = parser.parse_args()
    if opts.summarise:
        print(summarise(opts.summarise))
        return 0

    spy = api_create.install_extras(["py-spy>=0.4"]) / "bin" / "py-spy"
    api_create.ATENDE_EXTRA_ENV["PYTHONPATH"] = f"{api_create.ROOT / 'src'}:{api_create.ROOT}"
    if opts.atende_settings:
        api_create.ATENDE_EXTRA_ENV["DJANGO_SETTINGS_MODULE"] = opts.atende_settings
    work = Path(tempfile.mkdtemp(prefix="atende-prof-"))
    raw = opts.raw or work / "pyspy.txt"
    start = (api_create.atende_pg(work, 1) if opts.target == "atende-pg"
             else api_create.atende_sqlite(work))
    try:
        summary = _profile(start, opts, spy, raw)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(summary)
    return 0


def _profile(start: Any, opts: argparse.Namespace, spy: Path, raw: Path) -> str:
    with start as server:
        run_load(server.base_url, server.path, server.headers, server.make_body, total=300,
                 concurrency=opts.concurrency, max_seconds=60, offset=10_000_000)
        # The web process: `atende web` itself (1 worker), or the uvicorn child of `atende run`.
        pids = tree_pids(server.pids)
        web = next(p for p in pids if b"web" in Path(f"/proc/{p}/cmdline").read_bytes())
        result: dict[str, object] = {}

        def load() -> None:
            result["load"] = run_load(server.base_url, server.path, server.headers,
                                      server.make_body, total=1_000_000,
                                      concurrency=opts.concurrency,
                                      max_seconds=opts.seconds + 3)

        loader = threading.Thread(target=load)
        loader.start()
        time.sleep(1)
        mode = ["--idle"] if opts.wall else ["--gil"]
        subprocess.run([str(spy), "record", "--pid", str(web), *mode, "--rate",
                        str(opts.rate), "--duration", str(opts.seconds), "--format", "raw",
                        "--output", str(raw), "--nonblocking"], check=True,
                       capture_output=True, timeout=opts.seconds + 60)
        loader.join(timeout=opts.seconds + 60)
    load_result = result.get("load")
    head = ""
    if load_result is not None:
        head = (f"load while profiling: {load_result.rate:.1f} tickets/s "  # type: ignore[attr-defined]
                f"(p99 {load_result.percentile(99):.0f} ms; py-spy slows the server a "  # type: ignore[attr-defined]
                "little)\n")
    return head + summarise(raw)


if __name__ == "__main__":
    sys.exit(main())
