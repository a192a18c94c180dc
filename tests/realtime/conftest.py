"""Real processes per profile: `atende web` serving the SSE stream, and a separate
long-lived publisher process (the worker side) that emits events through
`atende.events.emit`; two organisations with their API keys.

`site` is module-scoped and parametrised: every test that uses it runs once against the
embedded profile (SQLite, outbox polling) and once against the scaled profile (a fresh
PostgreSQL database, Redis pub/sub with a unique prefix; skipped when those servers are not
reachable, failed instead under ATENDE_REQUIRE_SERVICES=1). The processes get their profile
from these variables alone, whatever profile pytest itself runs on.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import require_server
from tests.fakes import processes
from tests.realtime.sse_client import SSEClient

SETUP_ORGS = """
import json
from atende.tenancy.api_keys import generate_api_key
from atende.tenancy.models import Organization
out = {}
for slug in ("acme", "globex"):
    org = Organization.objects.create(name=slug.title(), slug=slug)
    _key, raw = generate_api_key(org, "realtime tests")
    out[slug] = {"id": org.pk, "key": raw}
print(json.dumps(out))
"""

# A long-lived "worker" process: reads one JSON command per line, answers one JSON line.
# Each event is one transaction, as a service would do it; `sent_at` is taken before commit.
PUBLISHER = """
import json, sys, time
from django.db import transaction
from atende.events import emit
from atende.realtime.models import Event

def publish(org, count, type, marker, interval):
    ids = []
    for n in range(count):
        with transaction.atomic():
            emit(org, type, {"marker": marker, "n": n, "sent_at": time.time()})
            ids.append(Event.objects.for_org(org).latest("id").pk)
        time.sleep(interval)
    return ids

def run(code):
    scope = {}
    exec(code, scope)
    return scope.get("result")

print(json.dumps("ready"), flush=True)
for line in sys.stdin:
    command = json.loads(line)
    kind = command.pop("kind")
    result = publish(**command) if kind == "publish" else run(**command)
    print(json.dumps(result), flush=True)
"""


class Publisher:
    """The worker-side process of the tests: publishes through `atende.events.emit`."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = processes.popen_django(PUBLISHER, env)
        self._lock = threading.Lock()
        self._read()  # "ready": Django is set up

    def _read(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            stderr = self.proc.stderr.read() if self.proc.stderr else ""
            raise RuntimeError(f"publisher died:\n{stderr}")
        return json.loads(line)

    def call(self, **command: Any) -> Any:
        assert self.proc.stdin is not None
        with self._lock:
            self.proc.stdin.write(json.dumps(command) + "\n")
            self.proc.stdin.flush()
            return self._read()

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                pipe.close()


# Server-side failures show up in the web log even when the client sees nothing wrong.
LOG_PROBLEMS = re.compile(r"Traceback|Exception in ASGI|Task exception was never retrieved"
                          r"|ERROR|never awaited|Unclosed")


@dataclass
class Org:
    id: int
    key: str


@dataclass
class Site:
    profile: str
    web: processes.WebProcess
    env: dict[str, str]
    acme: Org
    globex: Org
    publisher: Publisher
    redis_prefix: str = ""

    @property
    def stream_url(self) -> str:
        return self.web.url + "/realtime/stream"

    def stream(self, org: Org, last_event_id: int | None = None) -> SSEClient:
        return SSEClient(self.stream_url, org.key, last_event_id)

    def publish(self, org: Org, count: int = 1, *, event_type: str = "test.ping",
                marker: str = "m", interval: float = 0.0) -> list[int]:
        """Emit `count` events from the publisher process; returns their outbox ids."""
        ids: list[int] = self.publisher.call(kind="publish", org=org.id, count=count,
                                             type=event_type, marker=marker,
                                             interval=interval)
        return ids

    def run(self, code: str) -> Any:
        """Run `code` in the publisher process; returns the value it left in `result`."""
        return self.publisher.call(kind="run", code=code)

    def log_problems(self, since: int = 0) -> list[str]:
        text = self.web.log_path.read_text(errors="replace")[since:]
        return [line for line in text.splitlines() if LOG_PROBLEMS.search(line)]

    def log_size(self) -> int:
        return len(self.web.log_path.read_text(errors="replace"))


def _redis_prefix_cleanup(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"*{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="module", params=["embedded", "scaled"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Site]:
    profile: str = request.param
    data_dir: Path = tmp_path_factory.mktemp(f"realtime-{profile}")
    with ExitStack() as stack:
        if profile == "scaled":
            redis_parts = urlsplit(processes.REDIS_URL)
            require_server("PostgreSQL", processes.PG_HOST, processes.PG_PORT)
            require_server("Redis", redis_parts.hostname or "127.0.0.1", redis_parts.port or 6379)
            database_url = stack.enter_context(processes.postgres_database())
            env = processes.profile_env(data_dir, database_url=database_url,
                                        redis_url=processes.REDIS_URL)
            stack.callback(_redis_prefix_cleanup, processes.REDIS_URL,
                           env["ATENDE_REDIS_PREFIX"])
        else:
            env = processes.profile_env(data_dir)
        # Open streams check their access every second (30 s by default).
        env["ATENDE_REALTIME_RECHECK"] = "1"
        processes.manage(env, "migrate", "--no-input", "-v", "0")
        orgs = json.loads(processes.run_django(SETUP_ORGS, env).strip().splitlines()[-1])
        web = processes.start_web(env, data_dir)
        stack.callback(web.stop)
        publisher = Publisher(env)
        stack.callback(publisher.stop)
        yield Site(profile, web, env, Org(**orgs["acme"]), Org(**orgs["globex"]), publisher,
                   env.get("ATENDE_REDIS_PREFIX", ""))


@pytest.fixture
def clean_log(site: Site) -> Iterator[None]:
    """Fails the test when the web process logged an error or traceback meanwhile."""
    start = site.log_size()
    yield
    problems = site.log_problems(start)
    assert not problems, "web process logged:\n" + site.web.log_tail()
