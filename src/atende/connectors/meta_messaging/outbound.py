"""`OutboundMessage` → the Send API: files first (uploaded with `message_attachments`,
then sent by their attachment id), then the text in pieces of at most 1000 bytes. Inside
the 24-hour window as a RESPONSE, in the 7 days after with the HUMAN_AGENT tag where the
channel has it, never after. 429, throttling codes, 5xx and network errors are retried
by the kit's outbound pipeline."""

from __future__ import annotations

import json

from django.core.files.storage import default_storage
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from atende.channels.connector import OutboundMessage, SendResult, TestResult
from atende.channels.meta import INVALID_TOKEN, RATE_LIMIT_CODES, GraphCallError
from atende.channels.models import Channel
from atende.connectors.meta_messaging.client import (
    WINDOW_CLOSED_CODE,
    WINDOW_CLOSED_SUBCODE,
    MessagingClient,
)
from atende.connectors.meta_messaging.kinds import of
from atende.connectors.meta_messaging.window import window

TEXT_LIMIT = 1000  # bytes of UTF-8


def send(channel: Channel, message: OutboundMessage) -> SendResult:
    with translation.override(channel.organization.language):
        recipient = recipient_of(channel, message)
        if not recipient:
            return SendResult(ok=False, error=_("The contact has no %(app)s conversation.")
                              % {"app": of(channel).label})
        state = window(channel, message.ticket_id)
        if not state.open:
            return SendResult(ok=False, error=closed_text(channel))
        try:
            return SendResult(ok=True, external_id=_send(
                MessagingClient.for_channel(channel), recipient, message, state.tag))
        except GraphCallError as exc:
            return SendResult(ok=False, error=describe_error(channel, exc),
                              retryable=exc.retryable)


def recipient_of(channel: Channel, message: OutboundMessage) -> str:
    prefix = f"{of(channel).prefix}:"
    for key in sorted(message.thread_keys):
        if key.startswith(prefix):
            return key.removeprefix(prefix)
    ref = message.recipient
    return ref.value if ref is not None and ref.kind == of(channel).identity else ""


def _send(client: MessagingClient, recipient: str, message: OutboundMessage, tag: str) -> str:
    """Returns the first message's id. Files go first: a retry after a failed file does
    not repeat a text already sent."""
    text = message.text.strip() or strip_tags(message.html).strip()
    if not text and not message.attachments:
        raise GraphCallError(None, None, _("Nothing to send."))
    ids = []
    for attachment in message.attachments:
        kind = media_kind(attachment.content_type)
        with default_storage.open(attachment.storage_name, "rb") as handle:
            data = handle.read()
        uploaded = client.graph.call(
            "POST", f"{client.page_id}/message_attachments",
            data={"message": json.dumps({"attachment": {"type": kind, "payload": {
                "is_reusable": True}}}), "platform": client.platform_object},
            files={"filedata": (attachment.filename, data, attachment.content_type)})
        attachment_id = uploaded.get("attachment_id") if isinstance(uploaded, dict) else None
        if not attachment_id:
            raise GraphCallError(200, None, "the upload has no attachment id")
        ids.append(client.send(recipient, {"attachment": {"type": kind, "payload": {
            "attachment_id": str(attachment_id)}}}, tag=tag))
    for piece in pieces(text):
        ids.append(client.send(recipient, {"text": piece}, tag=tag))
    return ids[0]


def media_kind(content_type: str) -> str:
    main = content_type.split("/", 1)[0]
    return main if main in ("image", "video", "audio") else "file"


def pieces(text: str) -> list[str]:
    """The text in pieces of at most TEXT_LIMIT bytes, cut after a space where there is
    one, else between characters (never inside one)."""
    found, current, size = [], "", 0
    for char in text:
        width = len(char.encode())
        if size + width > TEXT_LIMIT:
            cut = current.rfind(" ") + 1 or len(current)
            found.append(current[:cut])
            current = current[cut:]
            size = len(current.encode())
        current += char
        size += width
    return [*found, current] if current else found


def closed_text(channel: Channel) -> str:
    if channel.settings.get("human_agent"):
        return _("The conversation's window is closed: the customer has not written in the "
                 "last 7 days. %(app)s delivers nothing until they write again.") % {
            "app": of(channel).label}
    return _("The conversation's 24-hour window is closed: the customer has not written in "
             "the last 24 hours. %(app)s delivers nothing until they write again.") % {
        "app": of(channel).label}


def describe_error(channel: Channel, exc: GraphCallError) -> str:
    if exc.code == WINDOW_CLOSED_CODE and exc.subcode == WINDOW_CLOSED_SUBCODE:
        return closed_text(channel)
    if exc.code == INVALID_TOKEN:
        return _("Meta refused the page's token: connect the channel again.")
    if exc.status == 429 or exc.code in RATE_LIMIT_CODES:
        return _("Meta asked to slow down; trying again later.")
    return str(exc)


def check_connection(channel: Channel) -> TestResult:
    """The page (its token works) and its webhook subscription."""
    client = MessagingClient.for_channel(channel)
    if not client.page_id or not client.graph.token:
        return TestResult(ok=False, step="provider", message=_(
            "Not connected yet: click \"Connect with Facebook\" on the channel's screen."))
    try:
        page = client.page()
        subscribed = client.subscriptions()
    except GraphCallError as exc:
        return TestResult(ok=False, step="provider", message=describe_error(channel, exc))
    if not subscribed:
        return TestResult(ok=False, step="webhook", message=_(
            "The page %(page)s is not subscribed to the webhook: connect again.") % {
            "page": page.get("name") or client.page_id})
    return TestResult(ok=True, step="webhook", message=_(
        "The page %(page)s sends its %(app)s messages to Atende.") % {
        "page": page.get("name") or client.page_id, "app": of(channel).label})
