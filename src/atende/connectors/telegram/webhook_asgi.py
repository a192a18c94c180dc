"""A lean ASGI route for Telegram's deliveries (`POST /telegram/<id>/webhook`), as WhatsApp
has: no session, user, CSRF, locale or template middleware on the hottest path.

On PostgreSQL (the scaled profile) the whole acknowledgement runs in the event loop: the
channel from the per-process cache, the secret check, reading the update, and its row
written by the kit's group commit (one INSERT and COMMIT for the concurrent requests);
only rare paths (a cache miss, a refusal, an unreadable body) go to a thread. On SQLite
(the embedded profile) `views.accept` runs in a thread, as the Django view does.
Anything else goes to Django."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections

from atende import json_input
from atende.channels.group_commit import Unavailable, Unstorable
from atende.channels.reasons import Unreadable
from atende.connectors.telegram import group_commit, inbound
from atende.connectors.telegram.views import accept, authentic, quarantine, refuse
from atende.connectors.telegram.webhook_channels import cached, webhook_channel

logger = logging.getLogger(__name__)
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]
# The database is down or unreachable: 503, so that Telegram delivers again later.
UNAVAILABLE = (OperationalError, InterfaceError)
PATH = re.compile(r"/telegram/(\d+)/webhook")


def with_telegram_route(app: ASGIApp) -> ASGIApp:
    async def application(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            match = PATH.fullmatch(scope["path"])
            if match is not None:
                await _deliver(int(match[1]), scope, receive, send)
                return
        await app(scope, receive, send)

    return application


async def _deliver(channel_id: int, scope: dict[str, Any], receive: Receive,
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
            await _answer(send, 413, {"error": "body too large"})
            return
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    client = scope.get("client")
    remote = client[0] if client else None
    if group_commit.enabled():
        try:
            status, answer = await _accept_async(channel_id, headers, b"".join(chunks), remote)
        except UNAVAILABLE as exc:  # Telegram retries a 5xx
            logger.warning("Telegram webhook for channel %s: database unavailable: %s",
                           channel_id, exc)
            status, answer = 503, {"error": "temporarily unavailable"}
        except Exception:
            logger.exception("Telegram webhook for channel %s failed", channel_id)
            status, answer = 500, {"error": "internal error"}
    else:
        status, answer = await asyncio.get_running_loop().run_in_executor(
            None, _accept, channel_id, headers, b"".join(chunks), remote)
    await _answer(send, status, answer)


async def _accept_async(channel_id: int, headers: dict[str, str], body: bytes,
                        remote: str | None) -> tuple[int, dict[str, Any]]:
    """`views.accept` for PostgreSQL, in the event loop (same answers)."""
    found = cached(channel_id) or await _in_thread(webhook_channel, channel_id)
    if found is None:
        return 404, {"error": "unknown channel"}
    channel = found.channel
    if not authentic(found.webhook_secret, headers):
        return await _in_thread(refuse, channel, headers, remote)
    try:
        update = json_input.loads(body)
        events = [(inbound.update_id(update), json.dumps(update))]
    except (ValueError, Unreadable) as exc:  # JSONDecodeError and TooDeep are ValueErrors
        return await _in_thread(quarantine, channel, body, exc)
    try:
        await group_commit.for_this_loop().store(
            channel.pk, channel.organization_id, events)
    except Unstorable as exc:
        return await _in_thread(quarantine, channel, body, exc)
    except Unavailable as exc:  # Telegram retries a 5xx
        logger.warning("Telegram webhook for channel %s not stored: %s", channel_id, exc)
        return 503, {"error": "temporarily unavailable"}
    return 200, {"ok": True}


async def _in_thread(func: Callable[..., Any], *args: Any) -> Any:
    def call() -> Any:
        close_old_connections()
        try:
            return func(*args)
        finally:
            close_old_connections()

    return await asyncio.get_running_loop().run_in_executor(None, call)


def _accept(channel_id: int, headers: dict[str, str], body: bytes,
            remote: str | None) -> tuple[int, dict[str, Any]]:
    # What Django's request_started/finished signals do: hand the connection back.
    close_old_connections()
    try:
        return accept(channel_id, headers, body, remote)
    except UNAVAILABLE as exc:
        logger.warning("Telegram webhook for channel %s: database unavailable: %s",
                       channel_id, exc)
        return 503, {"error": "temporarily unavailable"}
    except Exception:  # Telegram retries a 5xx: nothing is lost
        logger.exception("Telegram webhook for channel %s failed", channel_id)
        return 500, {"error": "internal error"}
    finally:
        close_old_connections()


async def _answer(send: Send, status: int, answer: dict[str, Any]) -> None:
    body = json.dumps(answer).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"x-content-type-options", b"nosniff")]})
    await send({"type": "http.response.body", "body": body})
