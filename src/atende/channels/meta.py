"""What the channels on Meta's platform share (WhatsApp's Cloud API, Instagram, Messenger;
CONTRACTS §2, §3, §10): the webhook body's signature, the subscription handshake, and the
Graph API's bearer token, error shape and cursor pages. In the kit, so that each Meta
connector uses this one copy without importing another connector."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from atende.crypto import constant_time_equals, hmac_sha256_hex

SIGNATURE_HEADER = "X-Hub-Signature-256"
MAX_PAGES = 20  # a cursor that points at itself must not loop forever


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
