"""What the channels on Meta's platform share (WhatsApp's Cloud API, Instagram, Messenger;
CONTRACTS §2, §3, §10): the webhook body's signature, the subscription handshake, and the
Graph API's bearer token, error shape and cursor pages. In the kit, so that each Meta
connector uses this one copy without importing another connector."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from atende import json_input
from atende.crypto import constant_time_equals, hmac_sha256_hex

SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_PAGES = 20  # a cursor that points at itself must not loop forever
DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
DEFAULT_DIALOG_URL = "https://www.facebook.com/v21.0/dialog/oauth"
TIMEOUT = 15.0
# Graph's throttling codes (application, user, page, custom-level): try again later.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
INVALID_TOKEN = 190


def signature_valid(app_secret: str, body: bytes, signature: str) -> bool:
    """`X-Hub-Signature-256: sha256=<HMAC-SHA256(app secret, raw body)>`, compared in
    constant time. Over the raw bytes as received: a body parsed and serialised again
    does not match. False when the secret or the signature is missing."""
    if not app_secret or not signature:
        return False
    return constant_time_equals(f"sha256={hmac_sha256_hex(app_secret, body)}", signature)


def handshake(params: Mapping[str, str], verify_token: str) -> str | None:
    """Meta's subscription check (`GET ?hub.mode=subscribe&hub.verify_token=…&
    hub.challenge=…`): the challenge to echo when the verify token matches (in constant
    time), else None (answer 403)."""
    sent = params.get("hub.verify_token", "")
    if params.get("hub.mode") == "subscribe" and verify_token and sent \
            and constant_time_equals(sent, verify_token):
        return str(params.get("hub.challenge", ""))
    return None


def bearer(token: str) -> dict[str, str]:
    """The Graph API's authentication header (a system user's or a page's token)."""
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class GraphError:
    """`{"error": {"message", "type", "code", "error_subcode", "error_data": {"details"}}}`."""

    code: int | None
    subcode: int | None
    message: str
    details: str


def graph_error(body: Any) -> GraphError | None:
    """The Graph API's error in an answer's JSON, or None when it is not in that shape."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    error = body["error"]
    data = error.get("error_data")
    return GraphError(code=_int(error.get("code")), subcode=_int(error.get("error_subcode")),
                      message=str(error.get("message") or ""),
                      details=str(data.get("details") or "") if isinstance(data, dict) else "")


def graph_url() -> str:
    """Graph's base URL with its version (setting `META_GRAPH_URL`; a fake in tests)."""
    return str(getattr(settings, "META_GRAPH_URL", "") or DEFAULT_GRAPH_URL).rstrip("/")


def dialog_url() -> str:
    """Facebook Login's consent dialog (setting `META_DIALOG_URL`)."""
    return str(getattr(settings, "META_DIALOG_URL", "") or DEFAULT_DIALOG_URL)


@dataclass
class GraphCallError(Exception):
    """A refused or failed Graph call. `retryable`: a network error, 5xx, 429 or one of
    the throttling codes, where trying again later may help."""

    status: int | None
    error: GraphError | None
    description: str
    retryable: bool = False

    @property
    def code(self) -> int | None:
        return self.error.code if self.error else None

    @property
    def subcode(self) -> int | None:
        return self.error.subcode if self.error else None

    def __str__(self) -> str:
        where = f"HTTP {self.status}: " if self.status else ""
        code = f" (#{self.code})" if self.code is not None else ""
        return f"{where}{self.description}{code}"[:2000]


class GraphClient:
    """Graph API calls with one token (a page's, or none for the token endpoint), shared by
    the Messenger Platform channels (Instagram, Messenger). Every answer is JSON; an error
    raises `GraphCallError` without the token in it."""

    def __init__(self, token: str, *, base_url: str = "") -> None:
        self.token = token
        self.base_url = (base_url or graph_url()).rstrip("/")

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None,
             params: dict[str, Any] | None = None) -> Any:
        return self.call("POST", path, params=params, json=body or {})

    def rows(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        return pages(lambda url, query: self.call("GET", url, params=query),
                     self.url(path), params)

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else \
            f"{self.base_url}/{path.lstrip('/')}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = bearer(self.token) if self.token else {}
        try:
            with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as http:
                response = http.request(method, self.url(path), headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            # The message may hold the URL, and the URL a token.
            raise GraphCallError(None, None, type(exc).__name__, retryable=True) from None
        try:
            answer = json_input.loads(response.content) if response.content else {}
        except ValueError:
            answer = None
        if response.status_code >= 400 or answer is None:
            raise call_error(response.status_code, answer, response.reason_phrase)
        return answer


def call_error(status: int, body: Any, reason: str = "") -> GraphCallError:
    found = graph_error(body)
    retryable = status >= 500 or status == 429 or (
        found is not None and found.code in RATE_LIMIT_CODES)
    text = (found.message if found else "") or reason or "unexpected answer"
    return GraphCallError(status, found, text, retryable=retryable)


def pages(get_json: Callable[[str, dict[str, Any] | None], Any], url: str,
          params: dict[str, Any] | None) -> Iterator[dict[str, Any]]:
    """The rows of a cursor-paged Graph list (`data`, then `paging.next` until there is
    none), bounded by MAX_PAGES. `get_json(url, params)` makes the call; the next URLs
    carry their own query."""
    for _page in range(MAX_PAGES):
        answer = get_json(url, params)
        if not isinstance(answer, dict):
            return
        yield from (row for row in answer.get("data") or [] if isinstance(row, dict))
        following = (answer.get("paging") or {}).get("next")
        if not following:
            return
        url, params = str(following), None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
