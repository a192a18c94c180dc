"""A small HTTP server on 127.0.0.1 standing in for an integrator's webhook endpoint.

It records every request and answers with the statuses it was told to, in order (then the
default), e.g. `receiver.respond_with(500, 200)`.

    with HttpReceiver() as receiver:
        receiver.respond_with(500, (200, {"id": "ext-1"}))
        ...  # POST to receiver.url
        assert receiver.requests[0].json()["event"] == "message.outbound"
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Answer = tuple[int, Any]


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass
class HttpReceiver:
    default: Answer = (200, {"ok": True})
    host: str = "127.0.0.1"  # any of 127.0.0.0/8 on Linux
    requests: list[ReceivedRequest] = field(default_factory=list)
    _answers: deque[Answer] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the receiver first"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook"

    def respond_with(self, *answers: int | Answer) -> None:
        """Queue the next answers: a status (with an empty JSON object) or (status, JSON)."""
        with self._lock:
            for answer in answers:
                self._answers.append((answer, {}) if isinstance(answer, int) else answer)

    def _record(self, request: ReceivedRequest) -> Answer:
        with self._lock:
            self.requests.append(request)
            return self._answers.popleft() if self._answers else self.default

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload = receiver._record(
                    ReceivedRequest(self.command, self.path, headers, body))
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PUT = do_GET = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output quiet

        self._server = ThreadingHTTPServer((self.host, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> HttpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
