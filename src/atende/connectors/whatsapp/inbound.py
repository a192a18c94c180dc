"""A webhook body → the events in it, and each event → an `InboundMessage` or a status.

Both shapes are accepted: the Cloud API envelope (`entry[].changes[].value`) that 360dialog
forwards unchanged, and the flat body of legacy On-Premise (v1) numbers. Every message type
becomes a timeline entry; the ones Atende cannot show are described as such, never dropped.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.channels.connector import ContactRef, InboundAttachment, InboundMessage
from atende.channels.models import Channel
from atende.connectors.whatsapp.client import ProviderError, WhatsAppClient
from atende.connectors.whatsapp.phone_numbers import canonical_number
from atende.contacts.models import IdentityKind

MEDIA_TYPES = ("image", "document", "audio", "voice", "video", "sticker")
STATUSES = ("sent", "delivered", "read", "failed")
WINDOW_CLOSED_CODES = frozenset({131047, 470})


class InvalidPayload(ValueError):
    pass


@dataclass(frozen=True)
class RawEvent:
    provider_id: str  # the idempotency key: the wamid, or status id + status
    data: dict[str, Any]


def split_events(payload: Any) -> list[RawEvent]:
    """The messages, statuses and errors of one webhook body, each its own event."""
    if not isinstance(payload, dict):
        raise InvalidPayload("the body is not a JSON object")
    if isinstance(payload.get("entry"), list):
        values = [change.get("value") for entry in payload["entry"] if isinstance(entry, dict)
                  for change in entry.get("changes") or [] if isinstance(change, dict)]
    else:
        values = [payload]  # legacy v1: flat
    events: list[RawEvent] = []
    for value in values:
        if isinstance(value, dict):
            events += _events_of(value)
    if not events:
        raise InvalidPayload("no messages, statuses or errors in the body")
    return events


def _events_of(value: dict[str, Any]) -> list[RawEvent]:
    names = {str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")
             for c in value.get("contacts") or [] if isinstance(c, dict)}
    events = []
    for item in value.get("messages") or []:
        if isinstance(item, dict) and item.get("id") and item.get("from"):
            sender = str(item["from"])
            events.append(RawEvent(str(item["id"])[:255], {
                "kind": "message", "message": item, "name": names.get(sender, "")}))
    for item in value.get("statuses") or []:
        if isinstance(item, dict) and item.get("id") and item.get("status"):
            key = f"status:{item['id']}:{item['status']}"[:255]
            events.append(RawEvent(key, {"kind": "status", "status": item}))
    if value.get("errors"):
        digest = hashlib.sha256(json.dumps(value["errors"], sort_keys=True).encode()).hexdigest()
        events.append(RawEvent(f"error:{digest}", {"kind": "error", "errors": value["errors"]}))
    return events


def provider_time(raw: Any) -> datetime | None:
    """The provider's Unix timestamp, never later than now (a clock ahead must not put the
    message after the agents' replies)."""
    try:
        at = datetime.fromtimestamp(int(raw), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return min(at, timezone.now())


def to_inbound(channel: Channel, data: dict[str, Any], client: WhatsAppClient | None = None,
               *, media_error: str = "") -> InboundMessage:
    """One customer message → `InboundMessage`, downloading its media through the provider.

    Raises ValidationError for an impossible sender number and ProviderError when the
    media cannot be fetched (the caller decides whether to retry). With `media_error` the
    media is not fetched again and the entry says why it is missing."""
    item: dict[str, Any] = data["message"]
    number = canonical_number(str(item["from"]))
    kind = str(item.get("type") or "unknown")
    text = describe(item)
    attachments: tuple[InboundAttachment, ...] = ()
    if kind in MEDIA_TYPES and isinstance(item.get(kind), dict) and item[kind].get("id"):
        if media_error:
            note = _("The file could not be downloaded from WhatsApp: %(error)s") % {
                "error": media_error}
            text = f"{text}\n{note}".strip()
        else:
            attachments = (_download(client or WhatsAppClient.for_channel(channel), item),)
    return InboundMessage(
        channel_id=channel.pk, external_id=str(item["id"])[:255],
        contact=ContactRef(IdentityKind.WHATSAPP, number, str(data.get("name") or "")),
        text=text, attachments=attachments, sent_at=provider_time(item.get("timestamp")),
        thread_keys=(thread_key(number),), thread_key=thread_key(number),
        metadata={"type": kind, "wa_id": str(item["from"]), **_reply_id(item)},
    )


def _reply_id(item: dict[str, Any]) -> dict[str, str]:
    """The id of the button or list row an interactive reply chose (e.g. a survey score)."""
    body = item.get("interactive")
    if item.get("type") != "interactive" or not isinstance(body, dict):
        return {}
    reply = body.get("button_reply") or body.get("list_reply")
    if not isinstance(reply, dict) or not reply.get("id"):
        return {}
    return {"reply_id": str(reply["id"])[:200]}


def thread_key(number: str) -> str:
    return f"wa:{number}"


def describe(item: dict[str, Any]) -> str:
    """The text an agent reads for any message type."""
    kind = str(item.get("type") or "unknown")
    found = item.get(kind)
    body: dict[str, Any] = found if isinstance(found, dict) else {}
    if kind == "text":
        return str(body.get("body") or "")
    if kind in MEDIA_TYPES:
        return str(body.get("caption") or "")
    if kind == "location":
        return _location(body)
    if kind == "contacts":
        return _contacts(item.get("contacts") or [])
    if kind == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or {}
        return _("Chose: %(title)s") % {"title": reply.get("title") or reply.get("id") or "?"}
    if kind == "button":
        return _("Chose: %(title)s") % {"title": body.get("text") or body.get("payload") or "?"}
    if kind == "reaction":
        return _("Reacted with %(emoji)s") % {"emoji": body.get("emoji") or "?"}
    errors = item.get("errors") or []
    reason = errors[0].get("title", "") if errors and isinstance(errors[0], dict) else ""
    return _("Unsupported WhatsApp message (type %(type)s). %(reason)s") % {
        "type": kind, "reason": reason}


def _location(body: dict[str, Any]) -> str:
    lat, lng = body.get("latitude"), body.get("longitude")
    place = " — ".join(str(p) for p in (body.get("name"), body.get("address")) if p)
    link = f"https://maps.google.com/?q={lat},{lng}" if lat is not None else ""
    return _("Location: %(place)s %(link)s") % {"place": place, "link": link}


def _contacts(cards: list[Any]) -> str:
    lines = []
    for card in cards:
        if not isinstance(card, dict):
            continue
        name = (card.get("name") or {}).get("formatted_name") or ""
        phones = ", ".join(str(p.get("phone") or p.get("wa_id") or "")
                           for p in card.get("phones") or [] if isinstance(p, dict))
        lines.append(f"{name} {phones}".strip())
    return _("Shared contacts: %(contacts)s") % {"contacts": "; ".join(lines)}


def _download(client: WhatsAppClient, item: dict[str, Any]) -> InboundAttachment:
    kind = str(item["type"])
    body = item[kind]
    media = client.download_media(str(body["id"]))
    limit = settings.ATTACHMENT_MAX_BYTES
    if len(media.content) > limit:
        # Not retryable: the entry is kept, saying the file was too large.
        raise ProviderError(None, None, _("The file is larger than %(limit)d MB.")
                            % {"limit": limit // (1024 * 1024)})
    mime = str(body.get("mime_type") or media.mime_type).split(";")[0].strip()
    filename = str(body.get("filename") or "")
    if not filename:
        ext = mimetypes.guess_extension(mime) or ""
        filename = f"{kind}-{str(body['id'])[:40]}{ext}"
    return InboundAttachment(filename, mime, media.content)


@dataclass(frozen=True)
class StatusUpdate:
    external_id: str
    status: str
    at: datetime | None
    reason: str = ""
    window_closed: bool = False


def to_status(data: dict[str, Any]) -> StatusUpdate | None:
    """A delivery status, or None for one Atende does not track (e.g. deleted)."""
    item: dict[str, Any] = data["status"]
    status = str(item.get("status"))
    if status not in STATUSES:
        return None
    reason, closed = "", False
    if status == "failed":
        reason, closed = failure_reason(item.get("errors") or [])
    return StatusUpdate(str(item["id"]), status, provider_time(item.get("timestamp")),
                        reason, closed)


def failure_reason(errors: list[Any]) -> tuple[str, bool]:
    """The provider's code and text; a closed 24-hour window is said in the agent's words."""
    error = errors[0] if errors and isinstance(errors[0], dict) else {}
    code: Any = error.get("code")
    title = str(error.get("title") or error.get("message") or "")
    details = str((error.get("error_data") or {}).get("details") or "")
    text = f"{code}: {title}" + (f" — {details}" if details else "")
    try:
        closed = int(code) in WINDOW_CLOSED_CODES
    except (TypeError, ValueError):
        closed = False
    if closed:
        return window_closed_reason(text), True
    return text, False


def window_closed_reason(provider_text: str) -> str:
    return _("Window closed: more than 24 hours since the customer's last message; only "
             "templates can be sent (%(provider)s)") % {"provider": provider_text}
