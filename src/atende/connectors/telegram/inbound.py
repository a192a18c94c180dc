"""A Telegram `Update` → `InboundMessage`: text, photos (the largest size), documents,
voice and audio, video, locations (a text with a map link), contacts; any other kind of
message is shown as such, never dropped. Files are downloaded here, in processing, never
while the webhook is answered."""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from atende.channels.connector import ContactRef, InboundAttachment, InboundMessage
from atende.channels.models import Channel
from atende.channels.reasons import Unreadable
from atende.connectors.telegram.client import TelegramClient, TelegramError
from atende.contacts.models import IdentityKind

MESSAGE_KEYS = ("message", "edited_message")
# Message fields that carry a file: (field, default content type, default file name).
FILES = {
    "document": ("application/octet-stream", "document"),
    "voice": ("audio/ogg", "voice.ogg"),
    "audio": ("audio/mpeg", "audio.mp3"),
    "video": ("video/mp4", "video.mp4"),
    "video_note": ("video/mp4", "video.mp4"),
    "animation": ("video/mp4", "animation.mp4"),
}


class MediaDownloadFailed(Exception):
    """A file could not be downloaded for a passing reason (429, 5xx, network): the event
    is quarantined and tried again later (`receive.retry_downloads`)."""


def update_id(update: Any) -> str:
    """The provider's id of an update (the idempotency key); raises Unreadable."""
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        raise Unreadable("not a Telegram update: no update_id")
    return str(update["update_id"])


def thread_key(chat_id: str) -> str:
    return f"tg:{chat_id}"


def to_inbound(channel: Channel, update: dict[str, Any],
               client: TelegramClient | None = None) -> InboundMessage:
    """The update's message as the customer's message, its file downloaded. Raises
    Unreadable for an update that is not a message or lacks its sender or chat."""
    key = next((k for k in MESSAGE_KEYS if isinstance(update.get(k), dict)), None)
    if key is None:
        kinds = ", ".join(sorted(k for k in update if k != "update_id")) or "nothing"
        raise Unreadable(f"not a message update: {kinds}")
    message: dict[str, Any] = update[key]
    sender, chat = message.get("from"), message.get("chat")
    if not isinstance(sender, dict) or not isinstance(chat, dict) \
            or sender.get("id") is None or chat.get("id") is None \
            or message.get("message_id") is None:
        raise Unreadable("a message without its sender, chat or id")
    chat_id = str(chat["id"])
    external_id = f"{chat_id}:{message['message_id']}"
    if key == "edited_message":  # an edit is a new entry, once per edit
        external_id += f":edit:{message.get('edit_date') or ''}"
    text, attachments = _content(channel, message, client)
    if key == "edited_message":
        edited = _("(edited)")
        text = f"{edited} {text}".strip()
    return InboundMessage(
        channel_id=channel.pk, external_id=external_id[:255],
        contact=ContactRef(IdentityKind.TELEGRAM, str(sender["id"]), display_name(sender)),
        text=text, attachments=attachments, sent_at=_sent_at(message),
        thread_keys=(thread_key(chat_id),), thread_key=thread_key(chat_id),
        metadata={"update_id": update.get("update_id"),
                  "username": str(sender.get("username") or "")},
    )


def display_name(sender: dict[str, Any]) -> str:
    name = " ".join(str(sender.get(k) or "").strip() for k in ("first_name", "last_name"))
    username = str(sender.get("username") or "")
    if username:
        name = f"{name.strip()} (@{username})" if name.strip() else f"@{username}"
    return name.strip()[:200]


def _content(channel: Channel, message: dict[str, Any], client: TelegramClient | None
             ) -> tuple[str, tuple[InboundAttachment, ...]]:
    caption = str(message.get("caption") or "")
    if isinstance(message.get("text"), str):
        return message["text"], ()
    photo = message.get("photo")
    if isinstance(photo, list) and photo:
        largest = max((p for p in photo if isinstance(p, dict)),
                      key=lambda p: ((p.get("width") or 0) * (p.get("height") or 0),
                                     p.get("file_size") or 0))
        return _with_file(channel, client, caption, str(largest.get("file_id") or ""),
                          "image/jpeg", f"photo-{message['message_id']}.jpg")
    for field, (content_type, filename) in FILES.items():
        found = message.get(field)
        if isinstance(found, dict):
            content_type = str(found.get("mime_type") or content_type)
            name = str(found.get("file_name") or "") or _named(filename, content_type)
            return _with_file(channel, client, caption, str(found.get("file_id") or ""),
                              content_type, name)
    location = message.get("location")
    if isinstance(location, dict):
        return describe_location(location), ()
    contact = message.get("contact")
    if isinstance(contact, dict):
        name = " ".join(str(contact.get(k) or "") for k in ("first_name", "last_name"))
        return _("Contact: %(name)s %(phone)s") % {
            "name": name.strip(), "phone": contact.get("phone_number") or ""}, ()
    sticker = message.get("sticker")
    if isinstance(sticker, dict):
        return _("[Sticker %(emoji)s]") % {"emoji": sticker.get("emoji") or ""}, ()
    kinds = sorted(k for k in message if k not in (
        "message_id", "from", "chat", "date", "edit_date", "caption", "entities",
        "caption_entities", "reply_to_message", "forward_origin", "message_thread_id"))
    unsupported = _("[A Telegram message of a type Atende does not show: %(kind)s]") % {
        "kind": ", ".join(kinds) or _("empty")}
    return f"{unsupported}\n{caption}".strip(), ()


def describe_location(location: dict[str, Any]) -> str:
    try:
        lat, lon = float(location["latitude"]), float(location["longitude"])
    except (KeyError, TypeError, ValueError):
        return _("Location (without coordinates)")
    link = f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=17/{lat:.6f}/{lon:.6f}"
    return _("Location: %(lat).6f, %(lon).6f") % {"lat": lat, "lon": lon} + f"\n{link}"


def _with_file(channel: Channel, client: TelegramClient | None, caption: str, file_id: str,
               content_type: str, filename: str
               ) -> tuple[str, tuple[InboundAttachment, ...]]:
    if not file_id:
        missing = _("(the file is missing from the message)")
        return f"{caption}\n{missing}".strip(), ()
    try:
        found = (client or TelegramClient.for_channel(channel)).download(file_id)
    except TelegramError as exc:
        if exc.retryable:
            raise MediaDownloadFailed(f"media download: {exc}") from exc
        note = _("The file could not be downloaded from Telegram: %(error)s") % {
            "error": exc.description}
        return f"{caption}\n{note}".strip(), ()
    return caption, (InboundAttachment(filename[:200], content_type, found.content),)


def _named(default: str, content_type: str) -> str:
    extension = mimetypes.guess_extension(content_type) or ""
    stem = default.rsplit(".", 1)[0]
    return f"{stem}{extension}" if extension else default


def _sent_at(message: dict[str, Any]) -> datetime | None:
    at = message.get("edit_date") or message.get("date")
    if not isinstance(at, int):
        return None
    # A clock ahead must not put the message after the agents' replies.
    return min(datetime.fromtimestamp(at, tz=UTC), timezone.now())
