"""An external system's message → `InboundMessage`, and the receive flow on the channel
kit: raw event first, then ingest."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError as PydanticValidationError

from atende.channels import pipeline
from atende.channels.connector import ContactRef, InboundAttachment, InboundMessage
from atende.channels.models import Channel, InboundEvent
from atende.channels.reasons import Unreadable
from atende.connectors.api.schemas import AttachmentIn, ContactIn, MessageIn
from atende.contacts.identities import normalize_identity
from atende.contacts.models import IdentityKind
from atende.tickets.errors import AttachmentTooLarge, TicketError
from atende.tickets.services.inbound_events import ingest_events
from atende.tickets.services.ingest import IngestResult, ingest

logger = logging.getLogger(__name__)
_WHITESPACE = re.compile(rb"\s+")


class InvalidPayload(ValueError):
    """The payload passed the schema but cannot be used; `field` names the culprit."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message, self.field = message, field


class IngestFailed(RuntimeError):
    """Ingest raised: the raw event is kept, quarantined with the error."""

    def __init__(self, event_id: int, error: str) -> None:
        super().__init__(error)
        self.event_id, self.error = event_id, error


def external_identity(channel: Channel, contact_id: str) -> str:
    """External ids are only unique within the system that issued them, so per channel."""
    return f"{channel.pk}:{contact_id}"


def to_inbound(channel: Channel, payload: MessageIn) -> InboundMessage:
    """Validate what the schema cannot (base64, sizes) and normalise the message.

    Raises InvalidPayload or AttachmentTooLarge before anything is stored."""
    if not payload.text.strip() and not payload.html.strip() and not payload.attachments:
        raise InvalidPayload(_("Send a text, an HTML body or an attachment."), "text")
    contact = payload.contact
    return InboundMessage(
        channel_id=channel.pk,
        external_id=payload.message_id,
        contact=ContactRef(IdentityKind.EXTERNAL, external_identity(channel, contact.id),
                           contact.name),
        extra_identities=_extra_identities(contact),
        text=payload.text,
        html=payload.html,
        subject=payload.subject,
        attachments=tuple(_decode(i, a) for i, a in enumerate(payload.attachments)),
        sent_at=_not_in_future(payload.sent_at),
        thread_keys=(payload.conversation_id,),
        thread_key=payload.conversation_id,
        metadata={"conversation_id": payload.conversation_id},
    )


def _extra_identities(contact: ContactIn) -> tuple[ContactRef, ...]:
    """E-mail and phone help find the same person on other channels; invalid ones are
    dropped rather than refusing the customer's message."""
    extras = []
    for kind, value in ((IdentityKind.EMAIL, contact.email), (IdentityKind.PHONE, contact.phone)):
        if not value:
            continue
        try:
            extras.append(ContactRef(kind, normalize_identity(kind, value), contact.name))
        except ValidationError:
            logger.info("dropping invalid %s identity of an API contact", kind)
    return tuple(extras)


def _decode(index: int, attachment: AttachmentIn) -> InboundAttachment:
    field = f"attachments.{index}.content_base64"
    encoded = _WHITESPACE.sub(b"", attachment.content_base64.encode("ascii", "replace"))
    limit = settings.ATTACHMENT_MAX_BYTES
    # Refuse before decoding: 4 characters of base64 carry 3 bytes.
    if len(encoded) // 4 * 3 - encoded[-2:].count(b"=") > limit:
        raise AttachmentTooLarge(
            _("The file is larger than %(limit)d MB.") % {"limit": limit // (1024 * 1024)},
            field=field,
        )
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidPayload(_("This is not valid base64."), field) from None
    return InboundAttachment(attachment.filename, attachment.content_type, data)


def _not_in_future(sent_at: datetime | None) -> datetime | None:
    # A sender's clock running ahead must not put the message after the agents' replies.
    if sent_at is None:
        return None
    return min(sent_at, timezone.now())


def parse(channel: Channel, event: InboundEvent) -> InboundMessage:
    """A stored event's JSON as the message (the sender's request passed this already;
    an event stored by an older version may not)."""
    try:
        payload = MessageIn.model_validate(event.payload)
        return to_inbound(channel, payload)
    except PydanticValidationError as exc:
        fields = sorted({".".join(str(p) for p in error["loc"]) for error in exc.errors()})
        raise Unreadable(f"invalid fields: {', '.join(fields)}") from None
    except InvalidPayload as exc:
        raise Unreadable(exc.message) from exc


def receive(channel: Channel, payload: MessageIn, raw: dict[str, Any]) -> IngestResult:
    """Store the raw event, then ingest it; returns the ticket entry.

    Idempotent on `message_id`: a redelivery answers with the stored message
    (`duplicate=True`) and adds no entry; a redelivery of an event that failed before is
    processed again. The raw row is written in its own transaction before ingest, so a
    failing ingest keeps it (quarantined, with the reason) and raises IngestFailed; do not
    call this inside a transaction. Validation errors raise before anything is stored: the
    sender is told at once and keeps the message.
    """
    inbound = to_inbound(channel, payload)
    event, _fresh = pipeline.store(channel, payload.message_id, raw)
    if event.status not in pipeline.PENDING:
        return ingest(inbound, channel)  # a redelivery of a processed event: its answer
    with transaction.atomic():
        taken = ingest_events(channel, [(event, inbound)])
    if not taken:  # a concurrent delivery finished it meanwhile
        return ingest(inbound, channel)
    result = taken[0][1]
    if isinstance(result, ValidationError | TicketError):
        raise result
    if isinstance(result, Exception):
        logger.error("ingest failed for API channel %s event %s", channel.pk, event.pk,
                     exc_info=result)
        raise IngestFailed(event.pk, event.error) from result
    return result

