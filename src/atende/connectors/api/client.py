"""The signed POST to an API channel's webhook URL, and what its answer means."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from atende import json_input
from atende.channels.models import Channel
from atende.net import BlockedDestination, failure_text, post_json, status_text
from atende.webhooks.signing import signed_headers

# Timeouts, rate limits and server errors may pass; any other 4xx will not by retrying.
RETRYABLE_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class Delivery:
    ok: bool
    error: str = ""
    retryable: bool = False
    status_code: int | None = None
    response: Any = None  # the receiver's JSON answer, when it sent one


def webhook_url(channel: Channel) -> str:
    return str(channel.settings.get("webhook_url") or "")


def deliver(channel: Channel, event_type: str, payload: dict[str, Any],
            delivery_id: str) -> Delivery:
    """POST `payload` as JSON, signed with the channel's secret (see webhooks.signing).

    Never raises for the receiver's faults: the outcome says whether a retry may help."""
    url = webhook_url(channel)
    if not url:
        return Delivery(ok=False, error=_("This channel has no webhook URL to send replies to."))
    secret = channel.secrets.get("signing_secret")
    if not secret:
        return Delivery(ok=False, error=_("This channel has no signing secret."))
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = signed_headers(str(secret), body, delivery_id, event_type)
    try:
        response = post_json(url, body, headers, settings.WEBHOOK_TIMEOUT_SECONDS)
    except BlockedDestination as exc:
        return Delivery(ok=False, error=str(exc))
    except httpx.HTTPError as exc:
        return Delivery(ok=False, error=failure_text(exc), retryable=True)
    return _outcome(response)


def _outcome(response: httpx.Response) -> Delivery:
    status = response.status_code
    if 200 <= status < 300:
        return Delivery(ok=True, status_code=status, response=_json(response))
    retryable = status >= 500 or status in RETRYABLE_STATUSES
    # Only the status: the body of an internal answer must not be read back through Atende.
    return Delivery(ok=False, error=status_text(response), retryable=retryable,
                    status_code=status)


def _json(response: httpx.Response) -> Any:
    try:
        return json_input.loads(response.content)
    except ValueError:
        return None
