"""The README's first command path, as a person runs it: `atende demo` prints an API key,
`atende run` migrates and starts web + worker, the key creates a ticket through the API and
reads it back, and SIGTERM stops everything.

Real processes on 127.0.0.1, embedded profile only (SQLite in a temporary ATENDE_DATA_DIR;
DATABASE_URL and REDIS_URL are removed from the children's environment).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def _atende() -> str:
    for candidate in (Path(sys.executable).parent / "atende", ROOT / ".venv" / "bin" / "atende"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("atende")
    if not found:
        pytest.fail("the `atende` console script is not installed (run scripts/bootstrap)")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _child_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "ATENDE_TASKS_IMMEDIATE",
                        "DJANGO_SETTINGS_MODULE", "ATENDE_REDIS_PREFIX"}}
    env["ATENDE_DATA_DIR"] = str(data_dir)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _request(method: str, url: str, key: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json",
        "Accept": "application/json",
    })
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry.name}/stat").read_bytes()
            if int(stat[stat.rfind(b")") + 2:].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rfind(b")") + 2:].split()[0] != b"Z"


class _Output:
    """Collects a child's stdout lines in a thread, so the pipe never fills up."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, pattern: str, proc: subprocess.Popen[str], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if regex.search(line):
                    return line
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"no line matching {pattern!r} (exit {proc.poll()}):\n"
                             + "\n".join(self.lines[-40:]))

    def text(self) -> str:
        return "\n".join(self.lines[-60:])


def test_demo_then_run_then_api(tmp_path: Path) -> None:
    atende = _atende()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _child_env(tmp_path / "data")

    demo = subprocess.run([atende, "demo", "--port", str(port)], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=240, check=False)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    keys = re.findall(r"^API key: (atk_\S+)$", demo.stdout, flags=re.MULTILINE)
    assert len(keys) == 1, demo.stdout
    key = keys[0]
    assert f"URL: {base}" in demo.stdout

    run = subprocess.Popen(
        [atende, "run", "--port", str(port)], env=env, cwd=tmp_path, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    output = _Output(run)
    try:
        line = output.wait_for(r"Atende is running at ", run, timeout=180)
        assert f"{base}/" in line
        with urllib.request.urlopen(base + "/healthz", timeout=10) as response:
            assert response.status == 200

        payload = {
            "title": "Problema reportado pelo sistema",
            "description": "Erro no servidor XYZ",
            "priority": "high",
            "category": "infrastructure",
            "requester_email": "sistema@empresa.com",
        }
        status, created = _request("POST", f"{base}/api/v1/tickets", key, payload)
        assert status == 201, created
        assert created["title"] == payload["title"]
        assert created["priority"] == "high"
        assert created["origin"] == "api"
        assert created["protocol"].startswith("TKT-")
        assert {"kind": "email", "value": "sistema@empresa.com"} in created["contact"]["identities"]

        status, fetched = _request("GET", f"{base}/api/v1/tickets/{created['id']}", key)
        assert status == 200, fetched
        assert fetched["id"] == created["id"]
        assert fetched["protocol"] == created["protocol"]
        assert fetched["category"] == "infrastructure"
        texts = [item["message"]["text"] for item in fetched["timeline"]
                 if item["type"] == "message"]
        assert "Erro no servidor XYZ" in texts

        # A wrong key is refused: the printed key is what made the calls above work.
        status, _body = _request("GET", f"{base}/api/v1/tickets/{created['id']}",
                                 key[:-4] + "xxxx")
        assert status == 401

        children = _children(run.pid)
        assert len(children) >= 2, f"expected web + worker under `atende run`: {children}"
        run.send_signal(signal.SIGTERM)
        returncode = run.wait(timeout=60)
        assert returncode == 0, output.text()
        deadline = time.monotonic() + 15
        while any(_alive(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [c for c in children if _alive(c)], "web/worker outlived `atende run`"
    finally:
        if run.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.pid, signal.SIGKILL)
            run.wait(timeout=10)
        else:
            # Anything left in the session (it should be empty by now).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(run.pid, signal.SIGKILL)
