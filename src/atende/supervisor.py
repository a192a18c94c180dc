"""`atende run`: the embedded profile's processes, forked from one that has imported Django.

The web server, the task worker and the IMAP IDLE watcher stay separate processes (a part
that crashes does not take the others with it, and each gets its own core for Python).
They are forked from this supervisor after it has set Django up and imported the
application, instead of each starting its own interpreter: the imported code and data are
then shared copy-on-write between them, which is most of a Django process's memory.

A part that stops on its own is forked again from the same clean state; one that keeps
stopping (`MAX_RESTARTS` within `RESTART_WINDOW_SECONDS`) stops the whole with an error,
so a broken installation does not loop quietly. SIGTERM or SIGINT stops every part.

The console shows the address once the web server answers, and warnings and errors;
`--verbose` (or `ATENDE_LOG_LEVEL`) shows the INFO lines as well (each periodic task).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import os
import signal
import socket
import sys
import time
import traceback
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger("atende.run")

MAX_RESTARTS = 5
RESTART_WINDOW_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0
READY_TIMEOUT_SECONDS = 60.0


def console_levels(verbose: bool, environ: dict[str, str] | os._Environ[str]) -> None:
    """Set the log levels the parts start with: WARNING on the console by default, INFO with
    `--verbose`; an explicit ATENDE_LOG_LEVEL is kept unless `--verbose` is given."""
    if verbose:
        environ["ATENDE_LOG_LEVEL"] = "INFO"
        environ.setdefault("ATENDE_UVICORN_LOG_LEVEL", "info")
    else:
        environ.setdefault("ATENDE_LOG_LEVEL", "WARNING")


def _prctl(option: int, value: int | bytes) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _name_process(name: str) -> None:
    """Give the process a name `ps`/`top` show (Linux `comm`, 15 bytes at most)."""
    _prctl(15, name.encode()[:15])  # PR_SET_NAME


@dataclass
class Part:
    name: str
    main: Callable[[], int | None]
    pid: int | None = None
    starts: deque[float] = field(default_factory=deque)


def _fork(name: str, main: Callable[[], int | None]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    # The child: never returns into the supervisor's code.
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # A supervisor killed outright (SIGKILL, OOM) must not leave its parts running.
        _prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
        _name_process(f"atende-{name}")
        code = main() or 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return 0  # unreachable


def _wait(pid: int) -> int:
    _pid, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _preload() -> None:
    """Import what the parts run, so that they share it instead of each importing it."""
    from importlib import import_module

    from django.conf import settings
    from django.utils.module_loading import autodiscover_modules

    import_module(settings.ROOT_URLCONF)
    import_module("atende.asgi")
    import_module("atende.jobs")
    import_module("atende.connectors.email.watcher")
    import_module("huey.consumer")
    import_module("huey.contrib.djhuey.management.commands.run_huey")
    autodiscover_modules("tasks")


def _release_before_fork() -> None:
    """Nothing the supervisor opened may be used by two processes."""
    from django.db import connections
    from huey.contrib.djhuey import HUEY

    connections.close_all()
    HUEY.storage.close()  # SqliteHuey opened its file to create its tables


def _prepare() -> int:
    """migrate and collectstatic, in a child, so the supervisor keeps none of their memory."""
    def main() -> int:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        return 0

    return _wait(_fork("migrate", main))


def _web(sock: socket.socket, host: str, port: int) -> Callable[[], None]:
    def main() -> None:
        from atende.webserver import serve_on

        serve_on(sock, host, port)

    return main


def _without(sock: socket.socket, main: Callable[[], None]) -> Callable[[], None]:
    """`main` in a part that does not serve HTTP: it lets go of the listener."""
    def wrapped() -> None:
        sock.close()
        main()

    return wrapped


def _worker() -> None:
    from django.core.management import call_command

    call_command("run_huey")


def _mail_idle() -> None:
    from atende.connectors.email.watcher import Watcher

    watcher = Watcher()

    def stop(*_args: object) -> None:
        watcher.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watcher.run()


def _voice() -> None:
    from atende.connectors.voice.agi_server import serve

    serve()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


class Supervisor:
    def __init__(self, parts: list[Part]) -> None:
        self.parts = parts
        self.stopping = False

    def start(self, part: Part) -> None:
        now = time.monotonic()
        part.starts.append(now)
        while part.starts and now - part.starts[0] > RESTART_WINDOW_SECONDS:
            part.starts.popleft()
        part.pid = _fork(part.name, part.main)

    def stop(self, *_args: object) -> None:
        self.stopping = True
        for part in self.parts:
            if part.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(part.pid, signal.SIGTERM)

    def reap(self) -> Part | None:
        """Collect the parts that exited; start them again. Returns a part that stopped too
        often (the caller stops everything)."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return None
            if pid == 0:
                return None
            part = next((p for p in self.parts if p.pid == pid), None)
            if part is None:
                continue
            part.pid = None
            if self.stopping:
                continue
            code = os.waitstatus_to_exitcode(status)
            if len(part.starts) > MAX_RESTARTS:
                logger.error("the %s process stopped (exit code %s) %s times in %.0f s; "
                             "stopping Atende", part.name, code, len(part.starts),
                             RESTART_WINDOW_SECONDS)
                return part
            logger.warning("the %s process stopped (exit code %s); starting it again",
                           part.name, code)
            self.start(part)

    def wait_all(self) -> None:
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for part in self.parts:
            if part.pid is None:
                continue
            while time.monotonic() < deadline:
                pid, _status = os.waitpid(part.pid, os.WNOHANG)
                if pid:
                    break
                time.sleep(0.1)
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(part.pid, signal.SIGKILL)
                os.waitpid(part.pid, 0)
            part.pid = None


def run(host: str, port: int, verbose: bool) -> int:
    console_levels(verbose, os.environ)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.settings")
    import django

    django.setup()
    _name_process("atende-run")
    _preload()
    _release_before_fork()
    code = _prepare()
    if code:
        logger.error("preparing the database failed (exit code %s)", code)
        return code

    from django.conf import settings

    from atende.webserver import listen

    sock = listen(host, port)
    # Objects that exist now live as long as the process: keep the collector from writing
    # to them (and so copying their pages in every part).
    gc.collect()
    gc.freeze()
    supervisor = Supervisor([
        Part("web", _web(sock, host, port)),
        Part("worker", _without(sock, _worker)),
        Part("mail-idle", _without(sock, _mail_idle)),
        # The phone channel's FastAGI server (ATENDE_VOICE_AGI_PORT=0: none).
        *([Part("voice", _without(sock, _voice))] if settings.VOICE_AGI_PORT else []),
    ])
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    # The supervisor keeps the listener open: a web process started again serves on it, and
    # connections wait in its backlog meanwhile.
    for part in supervisor.parts:
        supervisor.start(part)

    url = f"http://{host}:{port}"
    announced = False
    started = time.monotonic()
    failed: Part | None = None
    try:
        while not supervisor.stopping:
            failed = supervisor.reap()
            if failed is not None:
                break
            if not announced:
                if _healthy(url):
                    announced = True
                    print(f"Atende is running at {url}/ (API docs: {url}/api/docs). "
                          "Ctrl+C stops it.", flush=True)
                elif time.monotonic() - started > READY_TIMEOUT_SECONDS:
                    logger.error("the web server did not answer %s/healthz within %.0f s",
                                 url, READY_TIMEOUT_SECONDS)
                    failed = supervisor.parts[0]
                    break
            time.sleep(0.2 if not announced else 0.5)
    finally:
        supervisor.stop()
        supervisor.wait_all()
    return 1 if failed is not None else 0
