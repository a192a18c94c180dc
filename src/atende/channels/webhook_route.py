"""A lean ASGI route for a connector's webhook deliveries (`POST /<kind>/<id>/webhook`),
wrapped around Django in `atende/asgi.py`.

It is the hottest path of the product (every inbound message and every status is one POST)
and needs none of the middleware: no session, user, CSRF, locale or templates. The route
reads the body (at most `DATA_UPLOAD_MAX_MEMORY_SIZE`: 413 beyond it) and answers JSON.

On PostgreSQL (the scaled profile: the connector's `fast()` is true) the acknowledgement
runs in the event loop, in the connector's `accept_async` (the channel from its
`WebhookChannels`, the secret check, the split events stored by the kit's group commit:
a `FastAccept`); only rare paths go to a thread. Otherwise the connector's `accept` (the
same function as its Django view's) runs in a thread. Anything else (other paths, a GET
handshake) goes to Django.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

from atende.channels.group_commit import GroupCommit, Unavailable, Unstorable
from atende.channels.models import Channel
from atende.channels.webhook_channels import WebhookChannels
from atende.ids import MAX_ID

Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]
Answer = tuple[int, dict[str, Any]]  # the HTTP status and the JSON body
# channel id, headers (lower-case names), body, the client's address
Accept = Callable[[int, dict[str, str], bytes, str | None], Answer]
AcceptAsync = Callable[[int, dict[str, str], bytes, str | None], Awaitable[Answer]]
# The database down, restarting or out of connections: answered 503 within the pool's
# timeout (settings.DB_UNAVAILABLE_AFTER), so that the provider delivers again later.
UNAVAILABLE = (OperationalError, InterfaceError)
TEMPORARILY_UNAVAILABLE: Answer = (503, {"error": "temporarily unavailable"})


@dataclass(frozen=True)
class WebhookRoute:
    """One connector's route: `path` (its one group is the channel id), `accept` (run in a
    thread), `accept_async` (run in the loop when `fast()`), and `name`, the provider's
    name in the log lines of `logger`. Every answer is JSON; an error never escapes (500)."""

    path: re.Pattern[str]
    accept: Accept
    accept_async: AcceptAsync
    fast: Callable[[], bool]
    name: str
    logger: logging.Logger

    def around(self, django_app: ASGIApp) -> ASGIApp:
        """The ASGI application: this route's POSTs, and `django_app` for the rest."""

        async def application(scope: dict[str, Any], receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["method"] == "POST":
                match = self.path.fullmatch(scope["path"])
                if match is not None:
                    await self._deliver(int(match[1]), scope, receive, send)
                    return
            await django_app(scope, receive, send)

        return application

    async def _deliver(self, channel_id: int, scope: dict[str, Any], receive: Receive,
                       send: Send) -> None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if limit is not None and size > limit:
                await answer(send, 413, {"error": "body too large"})
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        client = scope.get("client")
        remote = client[0] if client else None
        body = b"".join(chunks)
        if channel_id > MAX_ID:  # no channel: answered without a thread or a query
            status, content = 404, {"error": "unknown channel"}
        elif self.fast():
            try:
                status, content = await self.accept_async(channel_id, headers, body, remote)
            except UNAVAILABLE as exc:  # the provider retries on 5xx
                self.unavailable(channel_id, exc)
                status, content = TEMPORARILY_UNAVAILABLE
            except Exception:
                self.logger.exception("%s webhook for channel %s failed", self.name,
                                      channel_id)
                status, content = 500, {"error": "internal error"}
        else:
            status, content = await asyncio.get_running_loop().run_in_executor(
                None, self._accept, channel_id, headers, body, remote)
        await answer(send, status, content)

    def _accept(self, channel_id: int, headers: dict[str, str], body: bytes,
                remote: str | None) -> Answer:
        # What Django's request_started/finished signals do: hand the connection back.
        close_old_connections()
        try:
            return self.accept(channel_id, headers, body, remote)
        except UNAVAILABLE as exc:
            self.unavailable(channel_id, exc)
            return TEMPORARILY_UNAVAILABLE
        except Exception:  # the provider retries a 5xx: nothing is lost
            self.logger.exception("%s webhook for channel %s failed", self.name, channel_id)
            return 500, {"error": "internal error"}
        finally:
            close_old_connections()

    def unavailable(self, channel_id: int, exc: Exception) -> None:
        self.logger.warning("%s webhook for channel %s: database unavailable: %s",
                            self.name, channel_id, exc)


class Entry(Protocol):
    """A `WebhookChannels` entry: the channel and whatever its webhook checks."""

    @property
    def channel(self) -> Channel: ...


@dataclass(frozen=True)
class FastAccept[Found: Entry]:
    """A connector's `accept` in the event loop, on the kit's group commit, with the same
    answers: the channel from `channels` (404), `authentic(found, headers, body)` or
    `refuse` (401), `split(body)` into (provider id, JSON text) pairs or `quarantine` (400:
    it raises ValueError, as `Unreadable`), stored by `group_commit()` (503 when the
    database cannot; 400 for a body PostgreSQL refuses), answered `stored(ids)` (200).
    Only a cache miss, a refusal and a quarantine go to a thread."""

    channels: WebhookChannels[Found]
    authentic: Callable[[Found, Mapping[str, str], bytes], bool]
    split: Callable[[bytes], list[tuple[str, str]]]
    refuse: Callable[[Channel, Mapping[str, str], str | None], Answer]
    quarantine: Callable[[Channel, bytes, Exception], Answer]
    group_commit: Callable[[], GroupCommit]
    stored: Callable[[list[int]], dict[str, Any]]
    name: str
    logger: logging.Logger

    async def __call__(self, channel_id: int, headers: dict[str, str], body: bytes,
                       remote: str | None) -> Answer:
        found = (self.channels.cached(channel_id)
                 or await in_thread(self.channels.lookup, channel_id))
        if found is None:
            return 404, {"error": "unknown channel"}
        channel = found.channel
        if not self.authentic(found, headers, body):
            return await in_thread(self.refuse, channel, headers, remote)
        try:
            events = self.split(body)
        except ValueError as exc:  # JSONDecodeError, TooDeep and Unreadable are ValueErrors
            return await in_thread(self.quarantine, channel, body, exc)
        try:
            ids = await self.group_commit().store(channel.pk, channel.organization_id, events)
        except Unstorable as exc:
            return await in_thread(self.quarantine, channel, body, exc)
        except Unavailable as exc:  # the provider retries on 5xx
            self.logger.warning("%s webhook for channel %s not stored: %s", self.name,
                                channel_id, exc)
            return TEMPORARILY_UNAVAILABLE
        return 200, self.stored(ids)


async def in_thread(func: Callable[..., Any], *args: Any) -> Any:
    """`func(*args)` in a thread of the loop's executor, with its own database connection
    handed back afterwards (for the rare paths of an `accept_async`)."""

    def call() -> Any:
        close_old_connections()
        try:
            return func(*args)
        finally:
            close_old_connections()

    return await asyncio.get_running_loop().run_in_executor(None, call)


async def answer(send: Send, status: int, content: dict[str, Any]) -> None:
    body = json.dumps(content).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"x-content-type-options", b"nosniff")]})
    await send({"type": "http.response.body", "body": body})
