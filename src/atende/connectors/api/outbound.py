"""`OutboundMessage` → a signed JSON POST to the external system's webhook URL.

The body (event "message.outbound"):
`{"event", "message_id", "conversation_id", "ticket": {"id", "protocol", "subject"},
"contact": {"id", "name", "kind", "value"}, "text", "html", "author": {"name"},
"attachments": [{"filename", "content_type", "size", "url"}], "created_at"}`.
Attachment URLs are downloaded with the channel's key. Headers as in `webhooks.signing`;
`X-Atende-Delivery` is `message-<id>`, the same on every retry of one message.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.channels.connector import (
    ContactRef,
    CsatInvitation,
    OutboundMessage,
    SendResult,
    TestResult,
)
from atende.channels.models import Channel
from atende.connectors.api.client import deliver
from atende.contacts.models import IdentityKind
from atende.tickets.models import Attachment, Message

OUTBOUND_EVENT = "message.outbound"
CSAT_EVENT = "csat.invitation"
PING_EVENT = "ping"
OUTBOUND_ID_PREFIX = "out:"


def send(channel: Channel, message: OutboundMessage) -> SendResult:
    """2xx is sent (the answer's JSON `id`, as `out:<id>`, becomes the external id);
    408, 429, 5xx and network errors are retried; any other answer fails the message
    with its reason."""
    outcome = deliver(channel, OUTBOUND_EVENT, outbound_body(channel, message),
                      f"message-{message.message_id}")
    if not outcome.ok:
        return SendResult(ok=False, error=outcome.error, retryable=outcome.retryable)
    return SendResult(ok=True, external_id=_external_id(channel, outcome.response))


def invite_csat(channel: Channel, invitation: CsatInvitation) -> SendResult:
    """The survey as an event to the external system (`csat.invitation`): the wording, the
    scores and the signed rating link to show its user; the answer comes back through
    `POST /api/v1/channels/{id}/csat` with the channel's key, or the link itself."""
    body = {
        "event": CSAT_EVENT,
        "survey_id": invitation.survey_id,
        "conversation_id": min(invitation.thread_keys) if invitation.thread_keys else None,
        "ticket": {"id": invitation.ticket_id, "protocol": invitation.protocol,
                   "subject": invitation.subject},
        "contact": _contact(channel, invitation.recipient),
        "language": invitation.language,
        "text": invitation.text,
        "scores": [{"score": score, "label": label} for score, label in invitation.scores],
        "url": invitation.url,
    }
    outcome = deliver(channel, CSAT_EVENT, body, f"csat-{invitation.survey_id}")
    if not outcome.ok:
        return SendResult(ok=False, error=outcome.error, retryable=outcome.retryable)
    return SendResult(ok=True)


def check_connection(channel: Channel) -> TestResult:
    ping = {"event": PING_EVENT, "channel_id": channel.pk,
            "sent_at": timezone.now().isoformat()}
    outcome = deliver(channel, PING_EVENT, ping, f"ping-{uuid.uuid4()}")
    if outcome.ok:
        return TestResult(ok=True, step="webhook", message=_(
            "The webhook URL answered HTTP %(status)s.") % {"status": outcome.status_code})
    return TestResult(ok=False, step="webhook", message=outcome.error)


def outbound_body(channel: Channel, message: OutboundMessage) -> dict[str, Any]:
    return {
        "event": OUTBOUND_EVENT,
        "message_id": message.message_id,
        # The conversation the external system named when it opened this ticket.
        "conversation_id": min(message.thread_keys) if message.thread_keys else None,
        "ticket": {"id": message.ticket_id, "protocol": message.protocol,
                   "subject": message.subject},
        "contact": _contact(channel, message.recipient),
        "text": message.text,
        "html": message.html,
        "author": {"name": message.author_name},
        "attachments": _attachments(channel, message),
        "created_at": message.created_at.isoformat() if message.created_at else None,
    }


def _contact(channel: Channel, recipient: ContactRef | None) -> dict[str, Any] | None:
    if recipient is None:
        return None
    own_prefix = f"{channel.pk}:"
    is_ours = recipient.kind == IdentityKind.EXTERNAL and recipient.value.startswith(own_prefix)
    return {
        # The id the external system gave this person, when it is the one we know them by.
        "id": recipient.value.removeprefix(own_prefix) if is_ours else None,
        "name": recipient.name,
        "kind": recipient.kind,
        "value": recipient.value,
    }


def _attachments(channel: Channel, message: OutboundMessage) -> list[dict[str, Any]]:
    if not message.attachments:
        return []
    ids = dict(Attachment.objects.filter(message_id=message.message_id)
               .values_list("file", "pk"))
    return [
        {"filename": a.filename, "content_type": a.content_type, "size": a.size,
         "url": attachment_url(channel, ids[a.storage_name]) if a.storage_name in ids else None}
        for a in message.attachments
    ]


def attachment_url(channel: Channel, attachment_id: int) -> str:
    path = reverse("api-v1:channel_attachment",
                   kwargs={"channel_id": channel.pk, "attachment_id": attachment_id})
    return f"{settings.PUBLIC_URL}{path}"


def _external_id(channel: Channel, answer: Any) -> str:
    """The receiver's id for the reply, prefixed so it can never equal the `message_id` of a
    customer message (ingest would take that message for a duplicate of the reply). An id
    the receiver already used on this channel is dropped: it would break the unique key."""
    if not isinstance(answer, dict) or type(answer.get("id")) not in (str, int):
        return ""
    external_id = f"{OUTBOUND_ID_PREFIX}{answer['id']}"[:255]
    if Message.objects.filter(channel=channel, external_id=external_id).exists():
        return ""
    return external_id
