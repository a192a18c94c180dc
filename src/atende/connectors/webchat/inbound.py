"""A visitor's message → `InboundMessage`, and the receive flow on the channel kit: the
raw event is stored first (keyed by the visitor and the widget's own message id, so a
resend after a network drop or a server restart is recognised), then ingested."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils.translation import gettext as _

from atende.channels import pipeline
from atende.channels.connector import ContactRef, InboundAttachment, InboundMessage
from atende.channels.models import Channel, InboundEvent
from atende.channels.reasons import Unreadable
from atende.connectors.webchat.visitors import Visitor, thread_key
from atende.contacts.models import IdentityKind
from atende.realtime.publish import publish
from atende.tickets.services.inbound_events import ingest_events
from atende.tickets.services.ingest import IngestResult, ingest

logger = logging.getLogger(__name__)
MAX_TEXT = 5000
EVENT_TICKET = "webchat.ticket"


class ReceiveFailed(RuntimeError):
    """Ingest failed: the raw event is kept, quarantined, and the widget may resend."""


def visitor_digest(visitor_key: str) -> str:
    """The visitor as the realtime outbox names them (agents' streams carry it too)."""
    return hashlib.sha256(visitor_key.encode()).hexdigest()[:32]


def raw_event(visitor: Visitor, client_id: str, text: str,
              files: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"visitor": visitor.id, "name": visitor.name, "email": visitor.email,
            "client_id": client_id, "text": text[:MAX_TEXT], "files": files or []}


def to_inbound(channel: Channel, payload: dict[str, Any]) -> InboundMessage:
    visitor_id, client_id = payload.get("visitor"), payload.get("client_id")
    if not isinstance(visitor_id, str) or not visitor_id or not isinstance(client_id, str) \
            or not client_id:
        raise Unreadable("a chat message without its visitor or id")
    text = payload.get("text")
    if not isinstance(text, str):
        raise Unreadable("a chat message whose text is not a string")
    visitor = Visitor(channel.pk, visitor_id, str(payload.get("name") or ""),
                      str(payload.get("email") or ""))
    key = thread_key(visitor)
    who = visitor.name or _("Website visitor")
    subject = _("Chat with %(name)s") % {"name": who}
    if visitor.email:  # typed by the visitor, not verified: shown, never an identity
        subject += f" <{visitor.email}>"
    return InboundMessage(
        channel_id=channel.pk, external_id=f"{visitor_id}:{client_id}"[:255],
        contact=ContactRef(IdentityKind.EXTERNAL, key, visitor.name),
        text=text[:MAX_TEXT], subject=subject[:300],
        attachments=tuple(_attachment(f) for f in payload.get("files") or []),
        thread_keys=(key,), thread_key=key,
        metadata={"visitor": visitor_digest(key)},
    )


def _attachment(stored: Any) -> InboundAttachment:
    if not isinstance(stored, dict) or not default_storage.exists(str(stored.get("path"))):
        raise Unreadable("a chat file that is no longer stored")
    with default_storage.open(str(stored["path"])) as f:
        data = f.read()
    return InboundAttachment(str(stored.get("name") or "file")[:200],
                             str(stored.get("type") or "application/octet-stream"), data)


def parse(channel: Channel, event: InboundEvent) -> InboundMessage:
    payload = event.payload if isinstance(event.payload, dict) else {}
    return to_inbound(channel, payload)


def receive(channel: Channel, visitor: Visitor, client_id: str, text: str,
            files: list[dict[str, str]] | None = None) -> IngestResult:
    """Store the raw event, then ingest it; returns the conversation entry.

    Idempotent on (visitor, client id): a resend answers with the stored message. The raw
    row commits before ingest, so a failing ingest keeps it (quarantined) and raises
    ReceiveFailed. Do not call inside a transaction."""
    payload = raw_event(visitor, client_id, text, files)
    message = to_inbound(channel, payload)
    event, _fresh = pipeline.store(channel, message.external_id, payload)
    if event.status not in pipeline.PENDING:
        return ingest(message, channel)
    with transaction.atomic():
        taken = ingest_events(channel, [(event, message)])
        if taken and not isinstance(taken[0][1], Exception) and taken[0][1].created_ticket:
            # The visitor's open streams (other tabs too) learn the new conversation
            # from this event, which also carries its first message.
            result = taken[0][1]
            first = result.message
            publish(channel.organization_id, EVENT_TICKET,
                    {"ticket_id": result.ticket.pk, "channel_id": channel.pk,
                     "visitor": visitor_digest(thread_key(visitor)),
                     "message": {"id": first.pk, "text": first.text,
                                 "created_at": first.created_at.isoformat()}})
    if not taken:
        return ingest(message, channel)
    outcome = taken[0][1]
    if isinstance(outcome, Exception):
        logger.error("ingest failed for chat channel %s event %s", channel.pk, event.pk,
                     exc_info=outcome)
        raise ReceiveFailed(event.error) from outcome
    return outcome
