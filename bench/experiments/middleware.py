"""Sync-only middleware for the settings experiments (see settings_sync_chain and
settings_sqlite_write_lock)."""

import threading
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class SyncOnly:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)


class SerializeWrites(SyncOnly):
    """One write request at a time per process (a process-wide lock around every request
    that is not GET/HEAD/OPTIONS). On SQLite, concurrent writers otherwise wait for the write
    lock inside SQLite's busy handler, which sleeps in growing steps (up to 100 ms a step), so
    a few requests wait far longer than the lock was actually held."""

    _lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in {"GET", "HEAD", "OPTIONS"}:
            return self.get_response(request)
        with self._lock:
            return self.get_response(request)
