"""A portal submission (a new ticket from the form, or a comment on one) → the channel
kit: the raw event is stored first (keyed by the submission id the form carried, so a
double submit is one ticket), then parsed and ingested like any channel's message.

The raw event's JSON: `{"submission", "email", "name", "ticket_number" (a comment's),
"subject", "text", "fields": {key: value}, "extras": [[label, value]],
"attachments": [{"filename", "content_type", "content_base64"}]}`.
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from atende.channels import pipeline
from atende.channels.connector import ContactRef, InboundAttachment, InboundMessage
from atende.channels.models import Channel, InboundEvent
from atende.channels.reasons import Unreadable
from atende.connectors.portal import form_fields
from atende.contacts.models import IdentityKind
from atende.tickets.errors import TicketError
from atende.tickets.models import Priority, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.inbound_events import Outcome, ingest_events
from atende.tickets.services.ingest import IngestResult

logger = logging.getLogger(__name__)
ACTOR = Actor(label="Portal")


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


def payload(*, submission: str, email: str, name: str, subject: str = "", text: str,
            fields: dict[str, str] | None = None, extras: list[tuple[str, str]] = (),  # type: ignore[assignment]
            uploads: list[Upload] = (),  # type: ignore[assignment]
            ticket_number: int | None = None) -> dict[str, Any]:
    return {
        "submission": submission, "email": email, "name": name, "subject": subject,
        "text": text, "ticket_number": ticket_number, "fields": dict(fields or {}),
        "extras": [[label, value] for label, value in extras],
        "attachments": [{"filename": u.filename, "content_type": u.content_type,
                         "content_base64": base64.b64encode(u.data).decode()}
                        for u in uploads],
    }


def _text(data: dict[str, Any]) -> str:
    text = str(data.get("text", ""))
    extras = [f"{label}: {value}" for label, value in data.get("extras", []) if value]
    return "\n\n".join(part for part in (text, "\n".join(extras)) if part)


def parse(channel: Channel, event: InboundEvent) -> InboundMessage:
    data = event.payload
    try:
        email, submission = str(data["email"]), str(data["submission"])
        attachments = tuple(
            InboundAttachment(str(a["filename"]), str(a["content_type"]),
                              base64.b64decode(a["content_base64"], validate=True))
            for a in data.get("attachments", []))
        number = data.get("ticket_number")
    except (KeyError, TypeError, binascii.Error, ValueError) as exc:
        raise Unreadable(f"not a portal submission: {exc}") from None
    return InboundMessage(
        channel_id=channel.pk, external_id=f"portal:{submission}",
        contact=ContactRef(IdentityKind.EMAIL, email, str(data.get("name", ""))),
        text=_text(data), subject=str(data.get("subject", "")), attachments=attachments,
        ticket_number=int(number) if number else None,
    )


def _apply_fields(result: IngestResult, fields: dict[str, Any]) -> None:
    """The form's ticket fields on the ticket it opened, as the portal (audited)."""
    custom = {k: v for k, v in fields.items()
              if k not in form_fields.BUILT_IN and v not in ("", None)}
    changes: dict[str, Any] = {}
    if fields.get(form_fields.PRIORITY) in Priority.values:
        changes["priority"] = fields[form_fields.PRIORITY]
    if fields.get(form_fields.CATEGORY):
        changes["category"] = str(fields[form_fields.CATEGORY])
    if custom:
        changes["custom_fields"] = {**result.ticket.custom_fields, **custom}
    if changes:
        update_ticket(result.ticket, ACTOR, **changes)


def ingest_submissions(channel: Channel,
                       events: list[InboundEvent]) -> list[tuple[InboundEvent, Outcome]]:
    """Parse and ingest stored submissions (quarantining the unreadable ones), and set the
    form's fields on each ticket a submission opened. Inside the caller's transaction."""
    parsed = []
    for event in events:
        try:
            parsed.append((event, parse(channel, event)))
        except Unreadable as exc:
            pipeline.quarantine(event, exc)
    taken = ingest_events(channel, parsed)
    for event, result in taken:
        if isinstance(result, IngestResult) and result.created_ticket:
            _apply_fields(result, dict(event.payload.get("fields", {})))
    return taken


def receive(channel: Channel, data: dict[str, Any]) -> Ticket:
    """Store the submission, then ingest it; the ticket it opened or commented on.

    Idempotent on the submission id: the same form sent twice is one entry. A failure
    keeps the raw event (quarantined, with its reason) and raises TicketError."""
    event, _fresh = pipeline.store(channel, f"portal:{data['submission']}", data)
    if event.status not in pipeline.PENDING and event.message_id is not None:
        return Ticket.objects.get(messages__pk=event.message_id)
    with transaction.atomic():
        taken = ingest_submissions(channel, [event])
    event.refresh_from_db()
    if not taken or not isinstance(taken[0][1], IngestResult):
        if event.message_id is not None:
            return Ticket.objects.get(messages__pk=event.message_id)
        logger.error("portal submission %s of channel %s failed: %s", event.pk, channel.pk,
                     event.error)
        raise TicketError(str(event.error) or "ingest failed")
    return taken[0][1].ticket
