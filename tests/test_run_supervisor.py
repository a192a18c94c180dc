"""`atende run` (atende.supervisor): a quiet console, the parts forked as named processes,
a part that dies started again, a part that keeps dying stopping the whole, and SIGTERM
stopping everything.

The end-to-end tests start the real command (embedded profile, SQLite in a temporary data
directory); memory is measured by bench/memory.py, not here.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from atende import supervisor
from tests.test_readme_command import _atende, _child_env, _children, _free_port, _Output

PART_NAMES = {"atende-web", "atende-worker", "atende-mail-idl"}  # comm keeps 15 bytes


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _parts(pid: int) -> dict[str, int]:
    return {_comm(c): c for c in _children(pid) if _comm(c) in PART_NAMES}


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], _Output, str]:
    port = _free_port()
    env = _child_env(tmp_path / "data")
    env.pop("ATENDE_LOG_LEVEL", None)
    env.pop("ATENDE_UVICORN_LOG_LEVEL", None)
    run = subprocess.Popen(
        [_atende(), "run", "--port", str(port), *args], env=env, cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    return run, _Output(run), f"http://127.0.0.1:{port}"


def _stop(run: subprocess.Popen[str]) -> None:
    if run.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)
        run.wait(timeout=10)


def test_console_levels_default_to_warning_and_verbose_to_info() -> None:
    env: dict[str, str] = {}
    supervisor.console_levels(False, env)
    assert env == {"ATENDE_LOG_LEVEL": "WARNING"}
    env = {"ATENDE_LOG_LEVEL": "DEBUG"}
    supervisor.console_levels(False, env)
    assert env["ATENDE_LOG_LEVEL"] == "DEBUG"  # an operator's explicit choice stays
    env = {"ATENDE_LOG_LEVEL": "ERROR"}
    supervisor.console_levels(True, env)
    assert env == {"ATENDE_LOG_LEVEL": "INFO", "ATENDE_UVICORN_LOG_LEVEL": "info"}


def test_a_part_that_keeps_stopping_stops_the_whole() -> None:
    part = supervisor.Part("broken", lambda: 3)
    runner = supervisor.Supervisor([part])
    runner.start(part)
    deadline = time.monotonic() + 30
    failed = None
    while failed is None and time.monotonic() < deadline:
        failed = runner.reap()
        time.sleep(0.01)
    assert failed is part
    assert len(part.starts) == supervisor.MAX_RESTARTS + 1
    assert part.pid is None


@pytest.mark.slow
def test_run_is_quiet_restarts_a_dead_part_and_stops_on_sigterm(tmp_path: Path) -> None:
    run, output, base = _start(tmp_path)
    try:
        line = output.wait_for(r"Atende is running at ", run, timeout=180)
        assert f"{base}/" in line
        parts = _parts(run.pid)
        assert set(parts) == PART_NAMES, parts
        # The worker runs every periodic job once at start; none of it reaches the console.
        time.sleep(5)
        assert not [ln for ln in output.lines if " INFO " in ln], output.text()

        os.kill(parts["atende-worker"], signal.SIGKILL)
        output.wait_for(r"WARNING .*the worker process stopped .*starting it again", run,
                        timeout=30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            again = _parts(run.pid)
            if again.get("atende-worker") not in (None, parts["atende-worker"]):
                break
            time.sleep(0.2)
        assert again["atende-worker"] != parts["atende-worker"], again
        assert again["atende-web"] == parts["atende-web"]
        with urllib.request.urlopen(base + "/healthz", timeout=10) as response:
            assert response.status == 200

        # The web process too: the new one serves on the supervisor's listener.
        os.kill(parts["atende-web"], signal.SIGKILL)
        output.wait_for(r"WARNING .*the web process stopped .*starting it again", run,
                        timeout=30)
        deadline = time.monotonic() + 60
        answered = False
        while not answered and time.monotonic() < deadline:
            with contextlib.suppress(OSError), \
                    urllib.request.urlopen(base + "/healthz", timeout=5) as response:
                answered = response.status == 200
            time.sleep(0.2)
        assert answered, output.text()
        again = _parts(run.pid)
        assert again["atende-web"] != parts["atende-web"], again

        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0, output.text()
        deadline = time.monotonic() + 15
        while _children(run.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in again.values() if _comm(p) in PART_NAMES], "a part outlived run"
    finally:
        _stop(run)


@pytest.mark.slow
def test_run_verbose_shows_each_periodic_task(tmp_path: Path) -> None:
    run, output, _base = _start(tmp_path, "--verbose")
    try:
        output.wait_for(r"Atende is running at ", run, timeout=180)
        assert re.search(r"INFO huey", output.wait_for(r"INFO huey: Executing atende\.jobs\.",
                                                       run, timeout=60))

        # A supervisor killed outright takes its parts with it.
        parts = _parts(run.pid)
        assert set(parts) == PART_NAMES, parts
        os.kill(run.pid, signal.SIGKILL)
        run.wait(timeout=10)
        deadline = time.monotonic() + 30
        while any(_comm(p) in PART_NAMES for p in parts.values()) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in parts.values() if _comm(p) in PART_NAMES], "orphaned parts"
    finally:
        run.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            run.wait(timeout=60)
        _stop(run)
