"""A fake 360dialog Cloud API (`waba-v2`) on 127.0.0.1, implementing CONTRACTS.md §1.

What it does, as the real service would:
- `D360-API-KEY` on every call (401 with 360dialog's error body otherwise);
- `POST /messages` (Meta schema; answers a wamid) and the statuses that follow it, queued as
  webhook deliveries: sent + delivered, or — for a free-form message more than 24 h after
  the contact last wrote (a per-contact clock) — failed with 131047;
- `POST|GET /v1/configs/webhook`, `GET /v1/configs/templates` (Meta direct:
  `GET /{waba-id}/message_templates?status=APPROVED`, cursor-paged), `POST /media` (multipart),
  `GET /{media-id}` (a lookaside URL) and `GET /whatsapp_business/attachments/`;
- webhook deliveries to the registered URL with the registered headers (`flush`), replays
  of the same body, any order, and injected faults (`fail_next(503)`, `fail_next(429)`).

    with FakeDialog360() as wa:
        wa.customer_sends("5511987654321", "Oi")   # queues an inbound webhook
        wa.flush()                                  # POSTs it to the registered URL
"""

from __future__ import annotations

import hashlib
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

WINDOW_SECONDS = 24 * 3600
_ids = itertools.count(1)


def same_person(number: str) -> str:
    """WhatsApp reaches a Brazilian mobile with or without the ninth digit."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if digits.startswith("55") and len(digits) == 12 and digits[4] in "6789":
        return digits[:4] + "9" + digits[4:]
    return digits


@dataclass
class Fault:
    status: int
    body: Any
    path_prefix: str


@dataclass
class FakeDialog360(ServedFake):
    api_key: str = "d360-test-key"
    phone: str = "551130000000"
    phone_number_id: str = "106540352242922"
    waba_id: str = "102290129340398"
    now: float = field(default_factory=time.time)  # the provider's clock, movable
    webhook: dict[str, Any] = field(default_factory=dict)
    templates: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)  # bodies of POST /messages
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    media: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)  # id → data, type, name
    outbox: list[dict[str, Any]] = field(default_factory=list)  # webhook bodies not yet sent
    delivered: list[dict[str, Any]] = field(default_factory=list)  # webhook bodies sent
    last_inbound: dict[str, float] = field(default_factory=dict)
    _faults: deque[Fault] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # --- test controls --------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def fail_next(self, status: int, body: Any = None, *, times: int = 1,
                  path_prefix: str = "/") -> None:
        with self._lock:
            for _ in range(times):
                self._faults.append(Fault(status, body if body is not None else {
                    "meta": {"httpCode": status, "developerMessage": "injected fault",
                             "success": False}}, path_prefix))

    def add_template(self, name: str, body: str, *, language: str = "pt_BR",
                     status: str = "approved") -> None:
        self.templates.append({
            "name": name, "language": language, "status": status, "category": "UTILITY",
            "namespace": "c8ae5f90_307a", "rejected_reason": "NONE",
            "components": [{"type": "BODY", "text": body}]})

    def store_media(self, data: bytes, mime_type: str, filename: str = "") -> str:
        media_id = f"{next(_ids)}{int(self.now)}"
        self.media[media_id] = (data, mime_type, filename)
        return media_id

    def customer_sends(self, wa_id: str, text: str = "", *, kind: str = "text",
                       content: Any = None, name: str = "Maria Souza",
                       legacy: bool = False, at: float | None = None,
                       wamid: str = "") -> dict[str, Any]:
        """A customer's message: moves their clock and queues the webhook body."""
        at = self.now if at is None else at
        self.last_inbound[same_person(wa_id)] = max(at, self.last_inbound.get(
            same_person(wa_id), 0))
        item: dict[str, Any] = {"from": wa_id, "id": wamid or f"wamid.IN{next(_ids)}",
                                "timestamp": str(int(at)), "type": kind}
        # A contacts message carries a list of cards; every other type an object.
        item[kind] = content if content is not None else {"body": text}
        contacts = [{"profile": {"name": name}, "wa_id": wa_id}]
        return self._queue(contacts=contacts, messages=[item], legacy=legacy)

    def status(self, wamid: str, status: str, *, to: str = "5511987654321",
               errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {"id": wamid, "status": status, "timestamp": str(int(self.now)),
                                "recipient_id": to}
        if errors:
            item["errors"] = errors
        return self._queue(statuses=[item])

    def flush(self, *, reverse: bool = False) -> list[int]:
        """Deliver the queued webhook bodies (in order, or reversed) to the registered URL
        with the registered headers; returns the HTTP statuses."""
        with self._lock:
            bodies, self.outbox = self.outbox, []
        if reverse:
            bodies.reverse()
        return [self.deliver(body) for body in bodies]

    def deliver(self, body: dict[str, Any]) -> int:
        """POST one body (also again: a replay) as 360dialog does."""
        assert self.webhook.get("url"), "no webhook registered"
        headers = {"Content-Type": "application/json", **self.webhook.get("headers", {})}
        response = httpx.post(self.webhook["url"], content=json.dumps(body).encode(),
                              headers=headers, timeout=30)
        self.delivered.append(body)
        return response.status_code

    # --- provider behaviour ---------------------------------------------------------------

    def _queue(self, *, contacts: list[Any] | None = None, messages: list[Any] | None = None,
               statuses: list[Any] | None = None, legacy: bool = False) -> dict[str, Any]:
        value: dict[str, Any] = {}
        if contacts:
            value["contacts"] = contacts
        if messages:
            value["messages"] = messages
        if statuses:
            value["statuses"] = statuses
        if legacy:
            body = value
        else:
            body = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
                    "changes": [{"field": "messages", "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {"display_phone_number": self.phone,
                                     "phone_number_id": "106540352242922"}, **value}}]}]}
        with self._lock:
            self.outbox.append(body)
        return body

    def _send(self, body: dict[str, Any]) -> tuple[int, Any]:
        if body.get("messaging_product") != "whatsapp" or not body.get("to") \
                or body.get("type") not in body:
            return 400, {"error": {"message": "(#100) Invalid parameter", "code": 100,
                                   "type": "OAuthException"}}
        problem = _interactive_problem(body) if body["type"] == "interactive" else ""
        if problem:
            return 400, {"error": {"message": f"(#131009) Parameter value is not valid: "
                                   f"{problem}", "code": 131009, "type": "OAuthException"}}
        self.sent.append(body)
        to = str(body["to"])
        wamid = f"wamid.OUT{next(_ids)}"
        last = self.last_inbound.get(same_person(to))
        outside = last is None or self.now - last > WINDOW_SECONDS
        if body["type"] != "template" and outside:
            self.status(wamid, "failed", to=to, errors=[{
                "code": 131047, "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": "Message failed to send because more than 24 "
                               "hours have passed since the customer last replied to this "
                               "number."}}])
        else:
            self.status(wamid, "sent", to=to)
            self.status(wamid, "delivered", to=to)
        return 200, {"messaging_product": "whatsapp",
                     "contacts": [{"input": to, "wa_id": to}],
                     "messages": [{"id": wamid, "message_status": "accepted"}]}

    def _upload(self, content_type: str, raw: bytes) -> tuple[int, Any]:
        message = BytesParser(policy=default_policy).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = (part.get_payload(decode=True), part.get_content_type(),
                                 part.get_filename() or "")
        if "file" not in fields or fields.get("messaging_product", (b"",))[0] != b"whatsapp":
            return 400, {"error": {"message": "file and messaging_product required",
                                   "code": 100}}
        data, mime, filename = fields["file"]
        return 200, {"id": self.store_media(data, mime, filename)}

    def _meta_templates(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        """Graph API template list: `status` filter (upper case) and cursor paging."""
        wanted = query.get("status", [""])[0]
        rows = [{**t, "status": t["status"].upper(), "id": str(n)}
                for n, t in enumerate(self.templates)
                if not wanted or t["status"].upper() == wanted]
        limit = int(query.get("limit", ["25"])[0])
        start = int(query.get("after", ["0"])[0])
        page: dict[str, Any] = {"data": rows[start:start + limit],
                                "paging": {"cursors": {"before": str(start),
                                                       "after": str(start + limit)}}}
        if start + limit < len(rows):
            page["paging"]["next"] = (f"{self.url}/{self.waba_id}/message_templates?"
                                      f"status={wanted}&limit={limit}&after={start + limit}")
        return 200, page

    def handle(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, Any, str]:
        """(status, JSON or bytes, content type) for one request."""
        self.requests.append((method, path))
        # Meta's Cloud API direct: a Bearer token and paths under the phone number id.
        meta = headers.get("authorization", "").startswith("Bearer ")
        if meta and headers["authorization"] != f"Bearer {self.api_key}":
            return 401, {"error": {"message": "Invalid OAuth access token.", "code": 190,
                                   "type": "OAuthException"}}, "application/json"
        if not meta and headers.get("d360-api-key") != self.api_key:
            return 401, {"meta": {"httpCode": 401, "success": False,
                                  "developerMessage": "Invalid api_key"}}, "application/json"
        if meta:
            path = re.sub(rf"^/{self.phone_number_id}/(messages|media)", r"/\1", path)
        parts = urlsplit(path)
        with self._lock:
            fault = None
            if self._faults and parts.path.startswith(self._faults[0].path_prefix):
                fault = self._faults.popleft()
        if fault is not None:
            return fault.status, fault.body, "application/json"
        route = parts.path.rstrip("/") or "/"
        if method == "POST" and route == "/messages":
            return (*self._send(json.loads(body or b"{}")), "application/json")
        if route == "/v1/configs/webhook":
            if method == "POST":
                config = json.loads(body or b"{}")
                self.webhook = {"url": config.get("url"), "headers": config.get("headers") or {}}
                return 200, {"url": self.webhook["url"]}, "application/json"
            return 200, self.webhook, "application/json"
        if method == "GET" and route == "/v1/configs/templates":
            return 200, {"count": len(self.templates), "filters": {}, "limit": 1000,
                         "offset": 0, "sort": ["id"], "total": len(self.templates),
                         "waba_templates": self.templates}, "application/json"
        if meta and method == "GET" and route == f"/{self.waba_id}/message_templates":
            return (*self._meta_templates(parse_qs(parts.query)), "application/json")
        if method == "POST" and route == "/media":
            return (*self._upload(headers.get("content-type", ""), body), "application/json")
        if method == "GET" and route == "/whatsapp_business/attachments":
            mid = parse_qs(parts.query).get("mid", [""])[0]
            if mid not in self.media:
                return 404, {"error": {"message": "not found", "code": 131052}}, \
                    "application/json"
            data, mime, _name = self.media[mid]
            return 200, data, mime
        media_id = route.lstrip("/")
        if method == "GET" and media_id in self.media:
            data, mime, _name = self.media[media_id]
            digest = hashlib.sha256(data).hexdigest()
            return 200, {"messaging_product": "whatsapp", "id": media_id, "mime_type": mime,
                         "sha256": digest, "file_size": len(data),
                         "url": f"{self.url if meta else 'https://lookaside.fbsbx.com'}"
                                "/whatsapp_business/attachments/"
                                f"?mid={media_id}&ext=1&hash={digest[:12]}"}, \
                "application/json"
        return 404, {"error": {"message": f"unknown path {route}", "code": 100}}, \
            "application/json"


def _interactive_problem(body: dict[str, Any]) -> str:
    """Meta's documented limits of reply-button and list messages (what a real send
    refuses): body 1,024 characters; 1-3 buttons of 20; a list button of 20, at most
    10 rows in all, row titles of 24."""
    interactive = body.get("interactive")
    if not isinstance(interactive, dict):
        return "interactive must be an object"
    text = str((interactive.get("body") or {}).get("text") or "")
    if not text or len(text) > 1024:
        return "body.text is required, at most 1024 characters"
    action = interactive.get("action") or {}
    if interactive.get("type") == "button":
        buttons = action.get("buttons") or []
        if not 1 <= len(buttons) <= 3 or any(
                len(str(b.get("reply", {}).get("title") or "")) > 20 for b in buttons):
            return "1 to 3 buttons, titles of at most 20 characters"
        return ""
    if interactive.get("type") == "list":
        rows = [r for section in action.get("sections") or [] for r in section.get("rows") or []]
        if not action.get("button") or len(str(action["button"])) > 20:
            return "action.button is required, at most 20 characters"
        if not 1 <= len(rows) <= 10 or any(
                not r.get("id") or not r.get("title") or len(str(r["title"])) > 24
                for r in rows):
            return "1 to 10 rows with an id and a title of at most 24 characters"
        return ""
    return f"unsupported interactive type {interactive.get('type')!r}"
