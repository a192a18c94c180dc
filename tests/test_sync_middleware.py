"""The innermost middleware's write gate (SQLite): one write request at a time, reads never
wait, and a write that holds the gate too long does not hold the others for good."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from atende import sync_middleware
from atende.sync_middleware import SyncChain

pytestmark = pytest.mark.skipif(settings.IS_POSTGRES, reason="the gate is for SQLite")


class _Counting:
    def __init__(self, hold: float) -> None:
        self.hold = hold
        self.inside = 0
        self.most = 0
        self.lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        time.sleep(self.hold)
        with self.lock:
            self.inside -= 1
        return HttpResponse("ok")


def _concurrently(chain: SyncChain, method: str, n: int = 4) -> list[Any]:
    factory = RequestFactory()
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _i: chain(factory.generic(method, "/x")), range(n)))


def test_writes_go_one_at_a_time_and_reads_do_not_wait() -> None:
    view = _Counting(hold=0.05)
    chain = SyncChain(view)
    _concurrently(chain, "POST")
    assert view.most == 1
    view.most = 0
    _concurrently(chain, "GET")
    assert view.most > 1


def test_a_long_write_lets_the_others_through_after_the_wait(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_middleware, "GATE_WAIT_SECONDS", 0.05)
    view = _Counting(hold=0.6)
    chain = SyncChain(view)
    started = time.monotonic()
    responses = _concurrently(chain, "POST", n=3)
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert view.most > 1
    assert time.monotonic() - started < 1.5  # not 3 times 0.6 s in a row
