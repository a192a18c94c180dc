"""Real Atende processes for tests: `atende web`, `atende worker`, `atende manage` and small
Django scripts, each started with an explicit profile environment.

The environment is built from scratch for the profile (the test run's own DATABASE_URL,
REDIS_URL and data directory are never inherited), so a test decides which profile its
processes run on regardless of the profile pytest itself runs on. Output goes to a log file
per process; failures quote its tail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

# Variables that choose the profile or the data location; never inherited by children.
PROFILE_VARIABLES = (
    "DATABASE_URL", "REDIS_URL", "ATENDE_DATA_DIR", "ATENDE_REDIS_PREFIX",
    "ATENDE_TASKS_IMMEDIATE", "ATENDE_PORT", "ATENDE_HOST",
)
PG_HOST = os.environ.get("ATENDE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = 5432
REDIS_URL = os.environ.get("ATENDE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

DJANGO_PRELUDE = (
    "import os, django\n"
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'atende.settings')\n"
    "django.setup()\n"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def profile_env(data_dir: Path, *, database_url: str = "", redis_url: str = "",
                redis_prefix: str = "", **extra: str) -> dict[str, str]:
    """The environment of a child process: embedded unless database/redis URLs are given."""
    env = {k: v for k, v in os.environ.items() if k not in PROFILE_VARIABLES}
    env.update(
        ATENDE_DATA_DIR=str(data_dir),
        ATENDE_ALLOW_PRIVATE_WEBHOOKS="1",
        ATENDE_LOG_LEVEL=env.get("ATENDE_LOG_LEVEL", "WARNING"),
        DJANGO_SETTINGS_MODULE="atende.settings",
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["ATENDE_REDIS_PREFIX"] = redis_prefix or f"atende-test-{uuid.uuid4().hex[:12]}"
    env.update(extra)
    return env


@dataclass
class Process:
    """A child process whose output is written to `log_path`."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self._log.close()


@dataclass
class WebProcess(Process):
    url: str = ""


def start(name: str, args: list[str], env: Mapping[str, str], log_dir: Path,
          **popen: Any) -> Process:
    log_path = log_dir / f"{name}-{uuid.uuid4().hex[:6]}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(args, env=dict(env), stdout=log, stderr=subprocess.STDOUT, **popen)
    return Process(name, proc, log_path, log)


def atende_args(*args: str) -> list[str]:
    return [sys.executable, "-m", "atende.cli", *args]


def manage(env: Mapping[str, str], *args: str, timeout: float = 180) -> str:
    """Run `atende manage …` to completion; returns its output, raises with it on failure."""
    done = subprocess.run(atende_args("manage", *args), env=dict(env), capture_output=True,
                          text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"atende manage {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def run_django(code: str, env: Mapping[str, str], timeout: float = 60) -> str:
    """Run `code` in a fresh interpreter after django.setup(); returns its stdout."""
    done = subprocess.run([sys.executable, "-c", DJANGO_PRELUDE + code], env=dict(env),
                          capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"script failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return done.stdout


def popen_django(code: str, env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start `code` after django.setup() with line-buffered pipes, for step-by-step scripts."""
    return subprocess.Popen([sys.executable, "-c", DJANGO_PRELUDE + code], env=dict(env),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)


def wait_healthy(url: str, process: Process, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.alive():
            raise RuntimeError(f"{process.name} exited early:\n{process.log_tail()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} not healthy after {timeout}s:\n{process.log_tail()}")


def start_web(env: Mapping[str, str], log_dir: Path, port: int | None = None) -> WebProcess:
    """`atende web` on 127.0.0.1 and a free port, returned once /healthz answers 200."""
    port = port or free_port()
    base = start("web", atende_args("web", "--host", "127.0.0.1", "--port", str(port)),
                 env, log_dir)
    web = WebProcess(base.name, base.proc, base.log_path, base._log,
                     url=f"http://127.0.0.1:{port}")
    try:
        wait_healthy(web.url, web)
    except BaseException:
        web.stop()
        raise
    return web


def start_worker(env: Mapping[str, str], log_dir: Path, *, periodic: bool = False) -> Process:
    args = atende_args("worker") if periodic else atende_args("worker", "--no-periodic")
    return start("worker", args, env, log_dir)


@contextmanager
def postgres_database(host: str = PG_HOST, port: int = PG_PORT) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the duration; yields its URL."""
    import psycopg

    name = f"atende_proc_{uuid.uuid4().hex[:12]}"
    admin = f"postgresql://postgres@{host}:{port}/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@{host}:{port}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
