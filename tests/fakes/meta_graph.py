"""A fake Meta Graph API for the Messenger Platform on 127.0.0.1 (CONTRACTS §3, §10),
driven by the production client (`channels.meta.GraphClient`, `meta_messaging.client`).

What it does, as Meta would:
- Facebook Login: `GET /v21.0/dialog/oauth` answers at once with a redirect to
  `redirect_uri` with `code` and `state` (or `error=access_denied` after `deny_next()`);
  `GET /v21.0/oauth/access_token` exchanges a code (single use, same redirect URI, the
  app's secret) for a short-lived user token, and `grant_type=fb_exchange_token` a valid
  user token for a long-lived one (60 days on the fake's clock; an expired token is
  refused with code 190);
- `GET /me/accounts` (the user's pages with their page tokens and Instagram accounts),
  `GET /{page}`, `GET|POST /{page}/subscribed_apps`, `GET /{user}` (the User Profile API);
- the Send API `POST /{page}/messages`: `{"recipient_id", "message_id"}`, refused with
  code 10 / subcode 2018278 outside the 24-hour window, or outside 7 days with the
  HUMAN_AGENT tag (which needs `human_agent=True`); texts over 1000 bytes refused (100);
  `POST /{page}/message_attachments` (multipart `filedata`): `{"attachment_id"}`;
- `GET /cdn/<name>`: attachment downloads;
- webhooks: customer messages, attachments, story mentions and replies, reactions, reads,
  unsends, unsupported media and echoes, POSTed signed with `X-Hub-Signature-256` to the
  channel's URL (`flush`), in any order, any number of times;
- a clock (`advance`) for the windows and token expiry, and injected faults:
  `fail_next(429)`, `fail_next(500)`, `fail_next(400, code=4)` (throttling).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.fakes.served import ServedFake

VERSION = "/v21.0"
APP_ID = "1234567890123"
APP_SECRET = "0123456789abcdef0123456789abcdef"
PAGE_ID = "104000000000001"
IG_ID = "17841400000000001"
CUSTOMER = "IGSID900001"
LONG_LIVED = 60 * 24 * 3600


@dataclass
class Fault:
    status: int
    code: int | None
    path: str


@dataclass
class FakeMetaGraph(ServedFake):
    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    page_id: str = PAGE_ID
    page_name: str = "Loja Exemplo"
    ig_id: str = IG_ID
    ig_username: str = "loja.exemplo"
    human_agent: bool = False  # the app has the Human Agent feature
    now: float = field(default_factory=time.time)
    page_token: str = "EAAGpage0001"
    codes: dict[str, str] = field(default_factory=dict)  # code → redirect URI
    user_tokens: dict[str, float] = field(default_factory=dict)  # token → expiry
    subscribed: list[str] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)  # Send API bodies accepted
    uploads: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    last_customer_message: dict[str, float] = field(default_factory=dict)
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    outbox: list[dict[str, Any]] = field(default_factory=list)  # webhook bodies to deliver
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _faults: deque[Fault] = field(default_factory=deque)
    _deny: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # --- where the production code points ------------------------------------------------

    @property
    def graph_url(self) -> str:
        return f"{self.url}{VERSION}"

    @property
    def dialog_url(self) -> str:
        return f"{self.url}{VERSION}/dialog/oauth"

    # --- test controls --------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def deny_next(self) -> None:
        self._deny = True

    def fail_next(self, status: int, *, code: int | None = None, times: int = 1,
                  path: str = "") -> None:
        """The next `times` calls (whose path contains `path`) answer this error."""
        with self._lock:
            self._faults.extend(Fault(status, code, path) for _ in range(times))

    def cdn(self, name: str, data: bytes, content_type: str) -> str:
        self.media[name] = (data, content_type)
        return f"{self.url}/cdn/{name}"

    def webhook(self, *items: dict[str, Any], standby: bool = False,
                obj: str = "instagram") -> dict[str, Any]:
        """A delivery with these `messaging[]` items, queued and returned."""
        account = self.ig_id if obj == "instagram" else self.page_id
        body = {"object": obj, "entry": [{"id": account, "time": int(self.now * 1000),
                                          "standby" if standby else "messaging": list(items)}]}
        with self._lock:
            self.outbox.append(body)
        return body

    def item(self, *, sender: str = CUSTOMER, recipient: str = "", **content: Any
             ) -> dict[str, Any]:
        return {"sender": {"id": sender}, "recipient": {"id": recipient or self.ig_id},
                "timestamp": int(self.now * 1000), **content}

    def customer_sends(self, text: str | None = None, *, sender: str = CUSTOMER,
                       attachments: list[dict[str, Any]] | None = None,
                       obj: str = "instagram", mid: str = "", **extra: Any) -> dict[str, Any]:
        """A customer's message (a text, attachments, `reply_to=`, `is_unsupported=`);
        it opens the window. Queued; returns its item."""
        message: dict[str, Any] = {"mid": mid or f"aWdfZAG1faWQ{next(self._ids):06d}", **extra}
        if text is not None:
            message["text"] = text
        if attachments:
            message["attachments"] = attachments
        self.last_customer_message[sender] = self.now
        recipient = self.ig_id if obj == "instagram" else self.page_id
        item = self.item(sender=sender, recipient=recipient, message=message)
        self.webhook(item, obj=obj)
        return item

    def reaction(self, mid: str, emoji: str = "❤", *, action: str = "react",
                 sender: str = CUSTOMER) -> dict[str, Any]:
        item = self.item(sender=sender, reaction={"mid": mid, "action": action,
                                                  "reaction": "love", "emoji": emoji})
        self.webhook(item)
        return item

    def read(self, mid: str, *, sender: str = CUSTOMER) -> dict[str, Any]:
        item = self.item(sender=sender, read={"mid": mid})
        self.webhook(item)
        return item

    def echo_from_app(self, text: str, *, to: str = CUSTOMER) -> dict[str, Any]:
        """What the business typed in the Instagram app."""
        item = {"sender": {"id": self.ig_id}, "recipient": {"id": to},
                "timestamp": int(self.now * 1000),
                "message": {"mid": f"aWdfZAG1faWQecho{next(self._ids):06d}", "text": text,
                            "is_echo": True}}
        self.webhook(item)
        return item

    def sign(self, body: bytes, secret: str = "") -> str:
        digest = hmac.new((secret or self.app_secret).encode(), body, hashlib.sha256)
        return f"sha256={digest.hexdigest()}"

    def flush(self, url: str, *, order: list[int] | None = None, repeat: int = 1,
              client: httpx.Client | None = None) -> list[int]:
        """POST the queued deliveries to `url` (in `order`, each `repeat` times), signed;
        returns the statuses answered."""
        with self._lock:
            bodies, self.outbox = self.outbox, []
        if order is not None:
            bodies = [bodies[i] for i in order]
        statuses = []
        http = client or httpx.Client(timeout=10)
        try:
            for body in bodies:
                raw = json.dumps(body).encode()
                for _ in range(repeat):
                    statuses.append(http.post(url, content=raw, headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": self.sign(raw)}).status_code)
        finally:
            if client is None:
                http.close()
        return statuses

    # --- the API --------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[Any, ...]:
        parts = urlsplit(path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        route = parts.path.removeprefix(VERSION).strip("/")
        with self._lock:
            self.requests.append((method, route))
            fault = next((f for f in self._faults if f.path in route), None)
            if fault is not None:
                self._faults.remove(fault)
        if route.startswith("cdn/"):
            found = self.media.get(route.removeprefix("cdn/"))
            if found is None:
                return 404, b"gone", "text/plain"
            return 200, found[0], found[1]
        if fault is not None:
            code = fault.code if fault.code is not None else (
                4 if fault.status == 429 else 2)
            return fault.status, _error("Injected failure", code), "application/json"
        if route == "dialog/oauth":
            return self._dialog(query)
        if route == "oauth/access_token":
            return self._access_token(query)
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if route == "me/accounts":
            if not self._user_token_valid(token):
                return 400, _error("Error validating access token", 190), "application/json"
            return 200, {"data": [{
                "id": self.page_id, "name": self.page_name, "access_token": self.page_token,
                "instagram_business_account": {"id": self.ig_id,
                                               "username": self.ig_username}}],
                "paging": {}}, "application/json"
        if token != self.page_token:
            return 400, _error("Invalid OAuth access token", 190), "application/json"
        if route == f"{self.page_id}/subscribed_apps":
            if method == "POST":
                self.subscribed = query.get("subscribed_fields", "").split(",")
                return 200, {"success": True}, "application/json"
            data = [{"id": self.app_id, "subscribed_fields": self.subscribed}] \
                if self.subscribed else []
            return 200, {"data": data}, "application/json"
        if route == f"{self.page_id}/messages" and method == "POST":
            return self._send(json.loads(body or b"{}"))
        if route == f"{self.page_id}/message_attachments" and method == "POST":
            return self._upload(headers, body)
        if route == self.page_id:
            return 200, {"id": self.page_id, "name": self.page_name}, "application/json"
        if method == "GET" and route in self.profiles:
            return 200, {"id": route, **self.profiles[route]}, "application/json"
        return 400, _error(f"Unsupported request: {method} {route}", 100), "application/json"

    def _dialog(self, query: dict[str, str]) -> tuple[Any, ...]:
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.app_id or not redirect_uri:
            return 400, b"Invalid App ID or redirect URI", "text/plain"
        if self._deny:
            self._deny = False
            params = {"error": "access_denied", "error_reason": "user_denied",
                      "error_description": "Permissions error", "state": query.get("state", "")}
        else:
            code = f"code-{next(self._ids)}"
            self.codes[code] = redirect_uri
            params = {"code": code, "state": query.get("state", "")}
        return 302, b"", "text/plain", {"Location": f"{redirect_uri}?{urlencode(params)}"}

    def _access_token(self, query: dict[str, str]) -> tuple[Any, ...]:
        if query.get("client_id") != self.app_id or \
                query.get("client_secret") != self.app_secret:
            return 400, _error("Error validating client secret.", 1), "application/json"
        if query.get("grant_type") == "fb_exchange_token":
            if not self._user_token_valid(query.get("fb_exchange_token", "")):
                return 400, _error("Error validating access token: Session has expired",
                                   190), "application/json"
            return 200, self._issue(LONG_LIVED), "application/json"
        code = query.get("code", "")
        if self.codes.pop(code, None) != query.get("redirect_uri") or not code:
            return 400, _error("Invalid verification code format.", 100), "application/json"
        return 200, self._issue(3600), "application/json"

    def _issue(self, seconds: int) -> dict[str, Any]:
        token = f"EAAGuser{next(self._ids):06d}"
        self.user_tokens[token] = self.now + seconds
        return {"access_token": token, "token_type": "bearer", "expires_in": seconds}

    def _user_token_valid(self, token: str) -> bool:
        return self.user_tokens.get(token, 0) > self.now

    def _send(self, request: dict[str, Any]) -> tuple[Any, ...]:
        recipient = str((request.get("recipient") or {}).get("id") or "")
        last = self.last_customer_message.get(recipient)
        tagged = request.get("messaging_type") == "MESSAGE_TAG" and \
            request.get("tag") == "HUMAN_AGENT"
        limit = 7 * 24 * 3600 if tagged and self.human_agent else 24 * 3600
        if last is None or self.now - last > limit:
            return 400, _error("(#10) This message is sent outside of allowed window.", 10,
                               2018278), "application/json"
        text = (request.get("message") or {}).get("text")
        if isinstance(text, str) and len(text.encode()) > 1000:
            return 400, _error("(#100) Length of param message[text] must be less than "
                               "or equal to 1000", 100), "application/json"
        mid = f"aWdfZAG1faWQsent{next(self._ids):06d}"
        self.sent.append({**request, "message_id": mid})
        return 200, {"recipient_id": recipient, "message_id": mid}, "application/json"

    def _upload(self, headers: dict[str, str], body: bytes) -> tuple[Any, ...]:
        parsed = BytesParser(policy=default_policy).parsebytes(
            f"Content-Type: {headers.get('content-type', '')}\r\n\r\n".encode() + body)
        fields: dict[str, Any] = {}
        for part in parsed.iter_parts():
            name = part.get_param("name", header="content-disposition")
            fields[str(name)] = part.get_content() if part.get_filename() is None else (
                part.get_filename(), part.get_payload(decode=True), part.get_content_type())
        if "filedata" not in fields:
            return 400, _error("(#100) No file was uploaded.", 100), "application/json"
        attachment_id = f"{next(self._ids) + 5000}"
        self.uploads.append({"attachment_id": attachment_id, **fields})
        return 200, {"attachment_id": attachment_id}, "application/json"


def _error(message: str, code: int, subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code,
                             "fbtrace_id": "AbCdEf"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}
