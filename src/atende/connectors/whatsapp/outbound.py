"""`OutboundMessage` → WhatsApp: free text and media (with caption) inside the 24-hour window,
approved templates at any time."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from atende.channels.connector import (
    OutboundAttachment,
    OutboundMessage,
    SendResult,
    TestResult,
)
from atende.channels.models import Channel
from atende.connectors.whatsapp.client import ProviderError, WhatsAppClient
from atende.connectors.whatsapp.inbound import WINDOW_CLOSED_CODES, window_closed_reason
from atende.connectors.whatsapp.models import TemplateMessage
from atende.connectors.whatsapp.parts import record_part, sent_positions
from atende.connectors.whatsapp.phone_numbers import canonical_number, recipient
from atende.connectors.whatsapp.window import window_state
from atende.contacts.models import IdentityKind
from atende.tickets.models import Ticket

CAPTIONED = frozenset({"image", "video", "document"})
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})


def send(channel: Channel, message: OutboundMessage) -> SendResult:
    """A template goes out as such; anything else only while the window is open (refused
    before calling the provider otherwise). 429, 5xx and network errors are retried."""
    with translation.override(channel.organization.language):
        to = recipient_of(message)
        if not to:
            return SendResult(ok=False, error=_("The contact has no WhatsApp number."))
        client = WhatsAppClient.for_channel(channel)
        template = TemplateMessage.objects.filter(message_id=message.message_id).first()
        try:
            if template is not None:
                wamid = client.send_template(to, template.name, template.language,
                                             [str(p) for p in template.params])
                record_part(channel, message.message_id, 0, wamid)
            else:
                ticket = Ticket.objects.get(pk=message.ticket_id)
                if not window_state(ticket, channel).open:
                    return SendResult(ok=False, error=str(window_closed_message()))
                wamid = _send_free_form(client, channel, to, message)
        except ProviderError as exc:
            return SendResult(ok=False, error=describe_error(exc), retryable=exc.retryable)
        return SendResult(ok=True, external_id=wamid)


def check_connection(channel: Channel) -> TestResult:
    """Reads the webhook registered with the provider (proves the key works)."""
    try:
        config = WhatsAppClient.for_channel(channel).get_webhook()
    except ProviderError as exc:
        return TestResult(ok=False, step="provider", message=describe_error(exc))
    return TestResult(ok=True, step="provider", message=_(
        "The provider accepted the key; webhook: %(url)s") % {"url": config.get("url", "")})


def window_closed_message() -> str:
    return _("The 24-hour window is closed: the customer last wrote more than 24 hours ago. "
             "Only approved templates can be sent.")


def describe_error(exc: ProviderError) -> str:
    if exc.code in WINDOW_CLOSED_CODES:
        return window_closed_reason(str(exc))
    return str(exc)


def recipient_of(message: OutboundMessage) -> str:
    """The customer's number on this channel: the thread key ingest left, else a WhatsApp
    or phone identity."""
    for key in sorted(message.thread_keys):
        if key.startswith("wa:"):
            return recipient(key.removeprefix("wa:"))
    ref = message.recipient
    if ref is not None and ref.kind in (IdentityKind.WHATSAPP, IdentityKind.PHONE):
        try:
            return recipient(canonical_number(ref.value))
        except ValidationError:  # an unusable stored number: treated as no number
            return ""
    return ""


def _plain_text(message: OutboundMessage) -> str:
    return message.text.strip() or strip_tags(message.html).strip()


def _send_free_form(client: WhatsAppClient, channel: Channel, to: str,
                    message: OutboundMessage) -> str:
    """Text, then each file; the text rides as the first file's caption when it can. Each
    accepted part is recorded at once, so a retry after a partial failure skips it. Returns
    the first part's wamid (the timeline entry's external id)."""
    text = _plain_text(message)
    kinds = [media_kind(a.content_type) for a in message.attachments]
    separate_text = bool(text) and (not kinds or kinds[0] not in CAPTIONED)
    plan: list[OutboundAttachment | None] = [None] if separate_text else []
    plan.extend(message.attachments)
    if not plan:
        raise ProviderError(None, None, _("Nothing to send."))
    done = sent_positions(message.organization_id, message.message_id)
    caption_used = separate_text
    for position, attachment in enumerate(plan):
        kind = media_kind(attachment.content_type) if attachment else "text"
        caption = "" if caption_used or kind not in CAPTIONED else text[:1024]
        caption_used = caption_used or kind in CAPTIONED
        if position in done:
            continue
        if attachment is None:
            wamid = client.send_text(to, text[:4096])
        else:
            content = _media_content(client, attachment, kind)
            if caption:
                content["caption"] = caption
            wamid = client.send(to, kind, content)
        record_part(channel, message.message_id, position, wamid)
        done[position] = wamid
    return done[0]


def media_kind(content_type: str) -> str:
    if content_type in IMAGE_TYPES:
        return "image"
    if content_type.startswith("video/"):
        return "video"
    if content_type.startswith("audio/"):
        return "audio"
    return "document"


def _media_content(client: WhatsAppClient, attachment: OutboundAttachment,
                   kind: str) -> dict[str, Any]:
    with default_storage.open(attachment.storage_name, "rb") as handle:
        data = handle.read()
    media_id = client.upload_media(attachment.filename, data, attachment.content_type)
    content: dict[str, Any] = {"id": media_id}
    if kind == "document":
        content["filename"] = attachment.filename
    return content
