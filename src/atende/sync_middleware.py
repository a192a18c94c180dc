"""The innermost middleware: it keeps the whole chain in one (sync) mode, and on SQLite it
lets one write request through at a time.

Django builds each middleware in the mode of the one inside it. WhiteNoise's middleware is
sync-only, so without a sync middleware innermost the chain is split: the outer part runs
sync in the request's thread, the inner part async, and every inner hook and the (sync)
view then cross between the event loop and the thread one at a time. Ending the chain
with a sync-only middleware makes the whole chain sync: a request crosses once. Async
views (the SSE streams) still work; Django runs them from the sync chain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A write that holds the gate longer (a "Test settings" that logs in to a mail server) lets
# the others go on to SQLite's own waiting after this long, instead of holding them all.
GATE_WAIT_SECONDS = 1.0


class SyncChain:
    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.gate = threading.Lock() if not settings.IS_POSTGRES else None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.gate is None or request.method in SAFE_METHODS:
            return self.get_response(request)
        # SQLite takes one writer at a time anyway; the others wait in its busy handler,
        # which polls in growing sleeps, so a few requests wait far longer than the lock
        # was held. Waiting here instead wakes each as soon as the previous write is done.
        entered = self.gate.acquire(timeout=GATE_WAIT_SECONDS)
        try:
            return self.get_response(request)
        finally:
            if entered:
                self.gate.release()
