"""A small Server-Sent Events client for tests: reads a stream in a thread, parses events
(id / event / data) and records when each one arrived."""

from __future__ import annotations

import contextlib
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class ReceivedEvent:
    id: int
    type: str
    data: dict[str, Any]
    arrived_at: float  # time.time(), comparable with a timestamp taken in another process


class SSEClient:
    """Connects on `start()`; `next()` returns events in arrival order."""

    def __init__(self, url: str, api_key: str | None = None,
                 last_event_id: int | None = None, cookie: str | None = None) -> None:
        self.url = url
        self.headers = {"Accept": "text/event-stream"}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        if cookie:  # a signed-in agent's session, as a browser sends it
            self.headers["Cookie"] = cookie
        if last_event_id is not None:
            self.headers["Last-Event-ID"] = str(last_event_id)
        self.events: queue.Queue[ReceivedEvent] = queue.Queue()
        self.status_code: int | None = None
        self.error: BaseException | None = None
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._response: httpx.Response | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(5.0, read=None))
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, timeout: float = 10) -> SSEClient:
        """Returns once the server has answered and sent the stream's preamble."""
        self._thread.start()
        if not self._connected.wait(timeout):
            raise TimeoutError(f"no SSE preamble from {self.url} in {timeout}s ({self.error!r})")
        if self.error is not None:
            raise self.error
        return self

    def _run(self) -> None:
        try:
            with self._client.stream("GET", self.url, headers=self.headers) as response:
                self._response = response
                self.status_code = response.status_code
                response.raise_for_status()
                self._read(response)
        except BaseException as exc:  # reported to the test through `error`
            if not self._stop.is_set():
                self.error = exc
        finally:
            self._connected.set()

    def _read(self, response: httpx.Response) -> None:
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if self._stop.is_set():
                return
            if line.startswith("retry:"):
                # The first thing the server sends: from here on, nothing is missed.
                self._connected.set()
            elif line == "":
                if "data" in fields:
                    self.events.put(ReceivedEvent(
                        id=int(fields.get("id", "0")), type=fields.get("event", "message"),
                        data=json.loads(fields["data"]), arrived_at=time.time()))
                fields = {}
            elif not line.startswith(":"):
                name, _sep, value = line.partition(":")
                fields[name] = value.removeprefix(" ")

    def next(self, timeout: float = 10) -> ReceivedEvent:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout}s (error: {self.error!r})") from None

    def take(self, count: int, timeout: float = 10) -> list[ReceivedEvent]:
        deadline = time.monotonic() + timeout
        return [self.next(max(deadline - time.monotonic(), 0.01)) for _ in range(count)]

    def wait_closed(self, timeout: float) -> bool:
        """Whether the server ended the stream within `timeout` seconds."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def close(self) -> None:
        """Disconnect the way a browser tab does: the socket goes away mid-stream."""
        self._stop.set()
        if self._response is not None:
            # Closing the client from this thread does not wake the reader blocked in
            # recv(); shutting the socket down does.
            stream = self._response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        self._client.close()

    def __enter__(self) -> SSEClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
