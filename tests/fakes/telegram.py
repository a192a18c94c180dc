"""A fake Telegram Bot API on 127.0.0.1, implementing CONTRACTS.md §9.

What it does, as Telegram would:
- `POST /bot<token>/<method>` with a JSON or multipart body; every answer is
  `{"ok": true, "result": …}` or `{"ok": false, "error_code", "description"}` (401 for a
  token it does not know, 404 for an unknown method);
- `getMe`, `setWebhook` (its `secret_token` checked: 1-256 of `A-Z a-z 0-9 _ -`),
  `getWebhookInfo` (with the last delivery error), `deleteWebhook`, `sendMessage`,
  `sendPhoto` / `sendDocument` (multipart upload), `getFile` and the file download at
  `/file/bot<token>/<file_path>`;
- webhook deliveries of `Update`s to the registered URL with the registered secret in
  `X-Telegram-Bot-Api-Secret-Token` (`flush`), replays of the same update, any order;
- a clock (`advance`) for the messages' `date`, and injected faults: `fail_next(429,
  retry_after=3)` answers Telegram's rate-limit error, `fail_next(502)` a server error.

    with FakeTelegram() as tg:
        tg.customer_sends(text="Oi")     # queues an update
        tg.flush()                        # POSTs it to the registered webhook
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.fakes.served import ServedFake

SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
BOT_ID = 7000000001
CUSTOMER_ID = 123456789


@dataclass
class Fault:
    status: int
    description: str
    retry_after: int | None
    method: str


@dataclass
class FakeTelegram(ServedFake):
    token: str = f"{BOT_ID}:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    username: str = "atende_test_bot"
    now: float = field(default_factory=time.time)  # Telegram's clock, movable
    webhook: dict[str, Any] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)  # what the bot sent
    requests: list[str] = field(default_factory=list)  # method names called
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)  # file_id → data, path
    outbox: list[dict[str, Any]] = field(default_factory=list)  # updates not yet delivered
    delivered: list[dict[str, Any]] = field(default_factory=list)
    last_error: str = ""
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(500))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _faults: deque[Fault] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # --- test controls --------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def fail_next(self, status: int, *, retry_after: int | None = None, times: int = 1,
                  method: str = "", description: str = "") -> None:
        """The next `times` calls (of `method`, or any) answer this error."""
        text = description or ("Too Many Requests: retry after "
                               f"{retry_after}" if status == 429 else "Bad Gateway")
        with self._lock:
            for _ in range(times):
                self._faults.append(Fault(status, text, retry_after, method))

    def store_file(self, data: bytes, path: str) -> str:
        file_id = f"BQACAgEAAx{next(self._message_ids)}{len(self.files)}"
        self.files[file_id] = (data, path)
        return file_id

    def customer_sends(self, text: str | None = None, *, user_id: int = CUSTOMER_ID,
                       first_name: str = "Maria", last_name: str = "Souza",
                       username: str = "mariasouza", at: float | None = None,
                       edited: bool = False, message_id: int | None = None,
                       **content: Any) -> dict[str, Any]:
        """A private message from a user to the bot: `text=`, or content fields as
        Telegram sends them (`photo=[…]`, `document={…}`, `voice={…}`, `location={…}`,
        `caption=`). Queues the update and returns it."""
        at = self.now if at is None else at
        message: dict[str, Any] = {
            "message_id": message_id if message_id is not None else next(self._message_ids),
            "from": {"id": user_id, "is_bot": False, "first_name": first_name,
                     "last_name": last_name, "username": username, "language_code": "pt-br"},
            "chat": {"id": user_id, "first_name": first_name, "last_name": last_name,
                     "username": username, "type": "private"},
            "date": int(at), **content}
        if text is not None:
            message["text"] = text
        if edited:
            message["edit_date"] = int(at)
        update = {"update_id": next(self._update_ids),
                  "edited_message" if edited else "message": message}
        with self._lock:
            self.outbox.append(update)
        return update

    def photo(self, data: bytes) -> list[dict[str, Any]]:
        """A photo as Telegram sends it: several sizes, the largest last."""
        small = self.store_file(b"thumbnail", "photos/file_0.jpg")
        large = self.store_file(data, "photos/file_1.jpg")
        return [{"file_id": small, "file_unique_id": "s", "width": 90, "height": 90,
                 "file_size": 9},
                {"file_id": large, "file_unique_id": "l", "width": 1280, "height": 960,
                 "file_size": len(data)}]

    def flush(self, *, reverse: bool = False) -> list[int]:
        """Deliver the queued updates (in order, or reversed); returns the HTTP statuses."""
        with self._lock:
            updates, self.outbox = self.outbox, []
        if reverse:
            updates.reverse()
        return [self.deliver(update) for update in updates]

    def deliver(self, update: dict[str, Any], *, secret: str | None = None) -> int:
        """POST one update (also again: a replay) to the webhook as Telegram does."""
        assert self.webhook.get("url"), "no webhook registered"
        token = self.webhook.get("secret_token") if secret is None else secret
        headers = {"Content-Type": "application/json"}
        if token:
            headers[SECRET_HEADER] = token
        response = httpx.post(self.webhook["url"], content=json.dumps(update).encode(),
                              headers=headers, timeout=30)
        if response.status_code != 200:
            self.last_error = f"Wrong response from the webhook: {response.status_code}"
        self.delivered.append(update)
        return response.status_code

    # --- the Bot API ----------------------------------------------------------------------

    def _message(self, chat_id: Any, **content: Any) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(self.now),
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Atende",
                         "username": self.username},
                "chat": {"id": int(chat_id), "type": "private"}, **content}

    def _method(self, method: str, params: dict[str, Any]) -> tuple[int, Any]:
        if method == "getMe":
            return 200, {"id": BOT_ID, "is_bot": True, "first_name": "Atende",
                         "username": self.username, "can_join_groups": True,
                         "supports_inline_queries": False}
        if method == "setWebhook":
            secret = str(params.get("secret_token") or "")
            if secret and not SECRET.fullmatch(secret):
                return 400, "Bad Request: secret token contains unallowed characters"
            allowed = params.get("allowed_updates")
            if isinstance(allowed, str):
                allowed = json.loads(allowed)
            self.webhook = {"url": str(params.get("url") or ""), "secret_token": secret,
                            "allowed_updates": allowed or []}
            self.last_error = ""
            return 200, True
        if method == "deleteWebhook":
            self.webhook = {}
            return 200, True
        if method == "getWebhookInfo":
            info: dict[str, Any] = {"url": self.webhook.get("url", ""),
                                    "has_custom_certificate": False,
                                    "pending_update_count": len(self.outbox)}
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
            if self.last_error:
                info.update(last_error_date=int(self.now), last_error_message=self.last_error)
            return 200, info
        if method == "sendMessage":
            if not params.get("chat_id") or not str(params.get("text") or "").strip():
                return 400, "Bad Request: message text is empty"
            if len(str(params["text"])) > 4096:
                return 400, "Bad Request: message is too long"
            sent = self._message(params["chat_id"], text=str(params["text"]))
            self.sent.append({"method": method, **params})
            return 200, sent
        if method in ("sendDocument", "sendPhoto"):
            field_name = "document" if method == "sendDocument" else "photo"
            upload = params.get(field_name)
            if not params.get("chat_id") or not isinstance(upload, tuple):
                return 400, f"Bad Request: there is no {field_name} in the request"
            data, content_type, filename = upload
            file_id = self.store_file(data, f"{field_name}s/{filename}")
            self.sent.append({"method": method, "chat_id": params["chat_id"],
                              "caption": params.get("caption", ""), "filename": filename,
                              "content_type": content_type, "data": data})
            content = ({"photo": [{"file_id": file_id, "width": 1, "height": 1}]}
                       if field_name == "photo" else
                       {"document": {"file_id": file_id, "file_name": filename,
                                     "mime_type": content_type}})
            return 200, self._message(params["chat_id"], **content)
        if method == "getFile":
            file_id = str(params.get("file_id") or "")
            if file_id not in self.files:
                return 400, "Bad Request: invalid file_id"
            data, path = self.files[file_id]
            return 200, {"file_id": file_id, "file_unique_id": file_id[-6:],
                         "file_size": len(data), "file_path": path}
        return 404, "Not Found"

    def handle(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, Any, str]:
        """(status, JSON or bytes, content type) for one request."""
        parts = urlsplit(path)
        download = re.fullmatch(r"/file/bot([^/]+)/(.+)", parts.path)
        if download is not None:
            if download[1] != self.token:
                return 401, _error(401, "Unauthorized"), "application/json"
            for data, file_path in self.files.values():
                if file_path == download[2]:
                    return 200, data, "application/octet-stream"
            return 404, _error(404, "Not Found"), "application/json"
        call = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", parts.path)
        if call is None:
            return 404, _error(404, "Not Found"), "application/json"
        if call[1] != self.token:
            return 401, _error(401, "Unauthorized"), "application/json"
        name = call[2]
        self.requests.append(name)
        with self._lock:
            fault = None
            if self._faults and self._faults[0].method in ("", name):
                fault = self._faults.popleft()
        if fault is not None:
            return fault.status, _error(fault.status, fault.description,
                                        fault.retry_after), "application/json"
        params = _params(headers.get("content-type", ""), body, parts.query)
        status, result = self._method(name, params)
        if status != 200:
            return status, _error(status, str(result)), "application/json"
        return 200, {"ok": True, "result": result}, "application/json"


def _error(status: int, description: str, retry_after: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return body


def _params(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    """The parameters of a call, in any of the ways the Bot API takes them (query string,
    JSON, form, multipart; a multipart file as (data, content type, filename))."""
    params: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
    if content_type.startswith("application/json") and body:
        params.update(json.loads(body))
    elif content_type.startswith("application/x-www-form-urlencoded"):
        params.update({k: v[0] for k, v in parse_qs(body.decode()).items()})
    elif content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=default_policy).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            data = part.get_payload(decode=True)
            if part.get_filename():
                params[name] = (data, part.get_content_type(), part.get_filename())
            else:
                params[name] = data.decode() if isinstance(data, bytes) else str(data)
    return params
