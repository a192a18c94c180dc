"""One request through the production ASGI application (`atende.asgi`), the way uvicorn
calls it: for the lean webhook routes, which Django's test client does not go through."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from atende.asgi import application


def asgi_call(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
              *, query: bytes = b"", close: Callable[[], Awaitable[None]] | None = None,
              ) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of the answer. `close`: run when the request is done,
    in its event loop (a connector's `group_commit.close_for_this_loop`: on PostgreSQL the
    loop's connection pool goes with the loop)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": query, "client": ("203.0.113.9", 5000),
             "server": ("testserver", 80),
             "headers": [(k.lower().encode(), v.encode()) for k, v in
                         {"host": "testserver", "content-type": "application/json",
                          **(headers or {})}.items()]}
    chunks = [body[:10], body[10:]]  # a body in two parts, as a socket may deliver it
    answer: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {k.decode(): v.decode() for k, v in message["headers"]}
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    async def run() -> None:
        try:
            await application(scope, receive, send)
        finally:
            if close is not None:
                await close()

    asyncio.run(run())
    return answer["status"], answer["headers"], answer["body"]
