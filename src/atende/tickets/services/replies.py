"""Agents' answers and internal notes, and the delivery statuses that come back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from atende.channels.models import Channel
from atende.channels.registry import UnknownChannelKind, get_connector
from atende.events import emit
from atende.tickets.errors import TicketError
from atende.tickets.models import (
    DELIVERY_RANK,
    DeliveryStatus,
    Direction,
    Message,
    Status,
    Ticket,
)
from atende.tickets.payloads import message_payload, ticket_payload
from atende.tickets.services import audit, sla
from atende.tickets.services.actor import Actor
from atende.tickets.services.attachments import check_size, store_attachment
from atende.tickets.services.ingest import sanitize_html


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content_type: str
    content: object  # bytes or a django File


@transaction.atomic
def post_message(
    ticket: Ticket,
    actor: Actor,
    *,
    text: str,
    html: str = "",
    internal: bool = False,
    attachments: Sequence[NewAttachment] = (),
    channel: Channel | None = None,
) -> Message:
    """Add an agent's public answer or internal note to the ticket.

    A public answer is queued for the ticket's channel (or `channel`, another of the
    contact's channels) and sent by a task after commit; without a channel it is published
    through events and webhooks only and counts as sent. Emits `message.created` and
    `ticket.updated`.
    """
    if not text.strip() and not html.strip() and not attachments:
        raise TicketError("Write a message or attach a file.", field="text", code="empty_message")
    for a in attachments:
        size = len(a.content) if isinstance(a.content, bytes) else getattr(a.content, "size", 0)
        check_size(size)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if channel is not None and channel.organization_id != ticket.organization_id:
        raise TicketError("Unknown channel.", field="channel_id", code="not_found")
    target = None if internal else (channel or ticket.channel)
    if target is not None and target.is_active:
        _check_open(target, ticket)
    now = timezone.now()
    if internal:
        direction, status = Direction.NOTE, DeliveryStatus.RECEIVED
    elif target is not None and target.is_active:
        direction, status = Direction.OUTBOUND, DeliveryStatus.QUEUED
    else:
        direction, status = Direction.OUTBOUND, DeliveryStatus.SENT
    message = Message.objects.create(
        organization_id=ticket.organization_id, ticket=ticket, direction=direction,
        channel=target, author_user=actor.user, text=text, html=sanitize_html(html),
        delivery_status=status, sent_at=now if status == DeliveryStatus.SENT else None,
        send_after=now if status == DeliveryStatus.QUEUED else None, created_at=now,
    )
    for a in attachments:
        store_attachment(message, a.filename, a.content_type, a.content)  # type: ignore[arg-type]

    fields = ["updated_at"]
    before_status = ticket.status
    ticket.updated_at = now
    if not internal:
        ticket.last_outbound_at = now
        fields.append("last_outbound_at")
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            fields.append("first_response_at")
        if ticket.status == Status.NEW:
            ticket.status = Status.OPEN
            fields.append("status")
        if "first_response_at" in fields or "status" in fields:
            fields += sla.track(ticket, now)
    ticket.save(update_fields=fields)
    audit.record(ticket, actor, "note_added" if internal else "replied",
                 after={"message": message.pk})
    if before_status != ticket.status:
        audit.record(ticket, actor, "status_changed", "status", before_status, ticket.status)
    emit(ticket.organization_id, "message.created", message_payload(message))
    payload = ticket_payload(ticket)
    emit(ticket.organization_id, "ticket.updated", payload)
    if before_status != ticket.status:
        emit(ticket.organization_id, "ticket.status_changed",
             {**payload, "previous_status": before_status})
    if status == DeliveryStatus.QUEUED:
        from atende.tickets.tasks import send_message

        send_message.enqueue(message.pk)
    return message


def _check_open(channel: Channel, ticket: Ticket) -> None:
    """The channel may have closed the conversation (an evaluated complaint)."""
    try:
        refusal = get_connector(channel.kind).reply_refusal(channel, ticket.pk)
    except UnknownChannelKind:
        return
    if refusal:
        raise TicketError(refusal, field="text", code="channel_closed")


@transaction.atomic
def update_delivery_status(
    message: Message, status: str, *, external_id: str = "", reason: str = "",
    at: datetime | None = None,
) -> bool:
    """Record a status from the provider. Statuses only move forward (a late "delivered"
    never undoes "read"); a failure always wins. Returns whether anything changed."""
    message = Message.objects.select_for_update().get(pk=message.pk)
    current = DeliveryStatus(message.delivery_status)
    new = DeliveryStatus(status)
    if current == DeliveryStatus.FAILED and new != DeliveryStatus.FAILED:
        return False
    if current in DELIVERY_RANK and DELIVERY_RANK[new] <= DELIVERY_RANK[current] \
            and new != DeliveryStatus.FAILED:
        return False
    when = at or timezone.now()
    message.delivery_status = new
    fields = ["delivery_status"]
    if external_id and not message.external_id:
        message.external_id = external_id
        fields.append("external_id")
    if new == DeliveryStatus.SENT:
        message.sent_at = when
        fields.append("sent_at")
    elif new == DeliveryStatus.DELIVERED:
        message.delivered_at = when
        fields.append("delivered_at")
    elif new == DeliveryStatus.READ:
        message.read_at = when
        fields.append("read_at")
    elif new == DeliveryStatus.FAILED:
        message.failure_reason = reason[:2000]
        fields.append("failure_reason")
    message.save(update_fields=fields)
    emit(message.organization_id, "message.status_changed",
         {**message_payload(message), "previous_status": current})
    return True
