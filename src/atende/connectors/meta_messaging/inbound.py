"""A Messenger Platform webhook (Instagram or Messenger, CONTRACTS §3.3, §10) → events.

`split` cuts a delivery into one event per `messaging[]` / `standby[]` item, each with a
provider id that a redelivery repeats (the message's `mid`, the reaction's mid and time,
the read's mid or watermark), so duplicates are recognised on storing. `event_kind` says
what a stored event is; `to_inbound` makes the customer's messages, reactions, unsends and
postbacks into `InboundMessage`s. Attachments are downloaded here, in processing, never
while the webhook is answered; a story mention's media is never stored, only its link."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from atende.channels.connector import ContactRef, InboundAttachment, InboundMessage
from atende.channels.meta import GraphCallError
from atende.channels.models import Channel
from atende.channels.reasons import Unreadable
from atende.connectors.meta_messaging.kinds import Platform, of

MESSAGE, ECHO, READ, DELIVERY, REACTION, OTHER = (
    "message", "echo", "read", "delivery", "reaction", "other")
MEDIA_TYPES = {"image": ("image/jpeg", "image.jpg"), "video": ("video/mp4", "video.mp4"),
               "audio": ("audio/mp4", "audio.m4a"), "file": ("application/octet-stream",
                                                          "file")}
# Downloads an attachment's URL: (content, content type); raises GraphCallError.
Download = Callable[[str], tuple[bytes, str]]


class MediaDownloadFailed(Exception):
    """A passing failure (429, 5xx, network) downloading an attachment: tried again."""


def split(body: Any) -> list[tuple[str, dict[str, Any]]]:
    """The delivery's events as (provider id, payload). Raises Unreadable for a body that
    is not a Messenger Platform webhook."""
    if not isinstance(body, dict) or not isinstance(body.get("entry"), list):
        raise Unreadable("not a Messenger Platform webhook: no entry list")
    found: list[tuple[str, dict[str, Any]]] = []
    for entry in body["entry"]:
        if not isinstance(entry, dict):
            raise Unreadable("an entry is not an object")
        for field in ("messaging", "standby"):
            for item in entry.get(field) or []:
                if not isinstance(item, dict):
                    raise Unreadable("a messaging item is not an object")
                payload = {"object": str(body.get("object") or ""),
                           "entry_id": str(entry.get("id") or ""), "item": item}
                found.append((provider_id(item), payload))
    return found


def provider_id(item: dict[str, Any]) -> str:
    sender = _id(item.get("sender"))
    message = item.get("message")
    if isinstance(message, dict) and message.get("mid"):
        if message.get("is_deleted"):
            return f"deleted:{message['mid']}"
        return f"m:{message['mid']}"
    reaction = item.get("reaction")
    if isinstance(reaction, dict):
        return (f"reaction:{reaction.get('mid')}:{sender}:{reaction.get('action')}:"
                f"{item.get('timestamp')}")
    read = item.get("read")
    if isinstance(read, dict):
        return f"read:{sender}:{read.get('mid') or read.get('watermark')}"
    delivery = item.get("delivery")
    if isinstance(delivery, dict):
        return f"delivery:{sender}:{delivery.get('watermark')}"
    postback = item.get("postback")
    if isinstance(postback, dict) and postback.get("mid"):
        return f"postback:{postback['mid']}"
    digest = hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()
    return f"item:{digest}"


def event_kind(payload: dict[str, Any]) -> str:
    item = payload.get("item") if isinstance(payload, dict) else None
    if not isinstance(item, dict):
        raise Unreadable("not a stored Messenger Platform event")
    message = item.get("message")
    if isinstance(message, dict):
        return ECHO if message.get("is_echo") else MESSAGE
    for key, kind in (("read", READ), ("delivery", DELIVERY), ("reaction", REACTION)):
        if isinstance(item.get(key), dict):
            return kind
    return OTHER


def customer_id(item: dict[str, Any], kind: str) -> str:
    """The customer's id: the sender, except in an echo (the business sent it)."""
    return _id(item.get("recipient") if kind == ECHO else item.get("sender"))


def thread_key(platform: Platform, customer: str) -> str:
    return f"{platform.prefix}:{customer}"


def sent_at(item: dict[str, Any]) -> datetime | None:
    at = item.get("timestamp")
    if not isinstance(at, int | float):
        return None
    # A clock ahead must not put the message after the agents' replies.
    return min(datetime.fromtimestamp(at / 1000, tz=UTC), timezone.now())


def to_inbound(channel: Channel, payload: dict[str, Any], download: Download,
               name: str = "") -> InboundMessage:
    """A customer's message, reaction, unsend, postback or unknown item. Raises
    Unreadable for an item without its sender."""
    platform = of(channel)
    if payload.get("object") and payload["object"] != platform.webhook_object:
        raise Unreadable(f"a {payload['object']} webhook on a {platform.label} channel")
    item: dict[str, Any] = payload["item"]
    kind = event_kind(payload)
    customer = customer_id(item, kind)
    if not customer:
        raise Unreadable("an item without its sender")
    text, attachments, external = _content(item, kind, download)
    key = thread_key(platform, customer)
    return InboundMessage(
        channel_id=channel.pk, external_id=external[:255],
        contact=ContactRef(platform.identity, customer, name), text=text,
        attachments=attachments, sent_at=sent_at(item), thread_keys=(key,), thread_key=key,
        metadata={"kind": kind, "platform": platform.kind})


def _content(item: dict[str, Any], kind: str, download: Download
             ) -> tuple[str, tuple[InboundAttachment, ...], str]:
    """(text, attachments, external id) of an item."""
    if kind == REACTION:
        reaction = item["reaction"]
        external = f"reaction:{reaction.get('mid')}:{reaction.get('action')}:" \
                   f"{item.get('timestamp')}"
        if reaction.get("action") == "unreact":
            return _("[Removed their reaction to a message]"), (), external
        emoji = reaction.get("emoji") or reaction.get("reaction") or ""
        return _("[Reacted %(emoji)s to a message]") % {"emoji": emoji}, (), external
    message = item.get("message")
    if kind != MESSAGE or not isinstance(message, dict):
        postback = item.get("postback")
        if isinstance(postback, dict):
            title = str(postback.get("title") or postback.get("payload") or "")
            return _("[Tapped the button: %(title)s]") % {"title": title}, (), \
                f"postback:{postback.get('mid')}"
        kinds = ", ".join(sorted(k for k in item if k not in (
            "sender", "recipient", "timestamp"))) or _("empty")
        return _("[An event of a type Atende does not show: %(kind)s]") % {"kind": kinds}, \
            (), f"item:{hashlib.sha256(json.dumps(item, sort_keys=True).encode()).hexdigest()}"
    mid = str(message.get("mid") or "")
    if message.get("is_deleted"):
        return _("[The customer unsent a message]"), (), f"deleted:{mid}"
    lines = [str(message["text"])] if isinstance(message.get("text"), str) else []
    story = (message.get("reply_to") or {}).get("story") if isinstance(
        message.get("reply_to"), dict) else None
    if isinstance(story, dict):
        lines.insert(0, _("Replied to your story: %(url)s") % {"url": story.get("url") or ""})
    attachments: list[InboundAttachment] = []
    for position, attachment in enumerate(message.get("attachments") or []):
        if not isinstance(attachment, dict):
            continue
        line, found = _attachment(attachment, position, mid, download)
        if line:
            lines.append(line)
        if found is not None:
            attachments.append(found)
    if message.get("is_unsupported"):
        lines.append(_("[A message of a type Instagram does not let Atende show]"))
    if not lines and not attachments:
        lines.append(_("[An empty message]"))
    return "\n".join(lines), tuple(attachments), mid


def _attachment(attachment: dict[str, Any], position: int, mid: str, download: Download
                ) -> tuple[str, InboundAttachment | None]:
    kind = str(attachment.get("type") or "")
    payload = attachment.get("payload")
    url = str(payload.get("url") or "") if isinstance(payload, dict) else ""
    if kind == "story_mention":
        # Meta's terms: the story's media must not be stored, only linked.
        return _("Mentioned you in their story: %(url)s") % {"url": url}, None
    if kind in MEDIA_TYPES and url:
        default_type, name = MEDIA_TYPES[kind]
        try:
            content, content_type = download(url)
        except GraphCallError as exc:
            if exc.retryable:
                raise MediaDownloadFailed(f"media download: {exc}") from exc
            return _("[The %(kind)s could not be downloaded: %(error)s]") % {
                "kind": kind, "error": exc.description}, None
        if not content_type or content_type == "application/octet-stream":
            content_type = default_type
        stem = mid[-12:] or "attachment"
        return "", InboundAttachment(f"{stem}-{position + 1}-{name}"[:200], content_type, content)
    if url:  # shares, reels, posts: a link the agent can open
        return _("[Shared %(kind)s: %(url)s]") % {"kind": kind or "?", "url": url}, None
    return _("[An attachment of a type Atende does not show: %(kind)s]") % {
        "kind": kind or "?"}, None


def _id(party: Any) -> str:
    return str(party.get("id") or "") if isinstance(party, dict) else ""
