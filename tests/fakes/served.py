"""The HTTP side the provider fakes share: a threaded server on 127.0.0.1 that hands each
request to the fake's `handle(method, path, headers, body)` and writes its JSON (or bytes)
answer."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class ServedFake:
    """Mixed into a fake (a dataclass with a `_server` field defaulting to None) that
    defines `handle`; gives it `start`/`stop`, `url` and the context manager."""

    _server: ThreadingHTTPServer | None

    def handle(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[Any, ...]:
        """(status, JSON-able or bytes, content type[, extra headers])."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload, ctype, *more = fake.handle(self.command, self.path, headers,
                                                            raw)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in (more[0] if more else {}).items():  # e.g. a Location
                    self.send_header(name, value)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        # A fake run by hand (a demo) may ask for a fixed `port`; tests take a free one.
        self._server = ThreadingHTTPServer(("127.0.0.1", int(getattr(self, "port", 0))),
                                           Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
