"""The outbound pipeline: a queued message is handed to its channel's connector."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from atende.backoff import next_delay
from atende.channels.connector import ContactRef, OutboundAttachment, OutboundMessage, SendResult
from atende.channels.registry import UnknownChannelKind, get_connector
from atende.tickets.models import DeliveryStatus, Message, ThreadReference
from atende.tickets.services.replies import update_delivery_status

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8  # about 40 minutes of backoff before the message shows as failed
LEASE = timedelta(seconds=120)


def build_outbound(message: Message) -> OutboundMessage:
    ticket = message.ticket
    identity = ticket.contact.identities.order_by("created_at").first()
    recipient = ContactRef(identity.kind, identity.value, ticket.contact.name) if identity else None
    keys = tuple(
        ThreadReference.objects.filter(ticket=ticket, channel=message.channel)
        .values_list("key", flat=True)
    )
    return OutboundMessage(
        message_id=message.pk, organization_id=message.organization_id, ticket_id=ticket.pk,
        protocol=ticket.protocol, subject=ticket.subject, text=message.text, html=message.html,
        author_name=str(message.author_user) if message.author_user else "",
        recipient=recipient,
        attachments=tuple(
            OutboundAttachment(a.filename, a.content_type, a.size, a.file.url, a.file.name or "")
            for a in message.attachments.all()
        ),
        thread_keys=keys, created_at=message.created_at,
    )


def _claim(message_id: int) -> bool:
    """Take the message for one attempt; `send_after` becomes the lease."""
    now = timezone.now()
    return Message.objects.filter(
        Q(send_after__isnull=True) | Q(send_after__lte=now),
        pk=message_id, delivery_status=DeliveryStatus.QUEUED,
    ).update(send_after=now + LEASE) == 1


def send_queued_message(message_id: int) -> SendResult | None:
    """Send one queued message; on a retryable failure schedule the next attempt, and after
    the last one mark it failed with the provider's reason."""
    if not _claim(message_id):
        return None
    message = Message.objects.select_related("ticket__contact", "channel", "author_user").get(
        pk=message_id
    )
    channel = message.channel
    if channel is None or not channel.is_active:
        update_delivery_status(message, DeliveryStatus.FAILED, reason="channel unavailable")
        return SendResult(ok=False, error="channel unavailable")
    try:
        connector = get_connector(channel.kind)
    except UnknownChannelKind:
        update_delivery_status(message, DeliveryStatus.FAILED,
                               reason=f"no connector for {channel.kind}")
        return SendResult(ok=False, error="no connector")
    try:
        result = connector.send(channel, build_outbound(message))
    except Exception as exc:  # a connector bug must not leave the message queued forever
        logger.exception("connector %s failed on message %s", channel.kind, message_id)
        result = SendResult(ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True)

    if result.parked:  # the connector holds it until it can send: not an attempt
        Message.objects.filter(pk=message_id).update(send_after=None,
                                                     failure_reason=result.error)
        return result
    attempts = message.send_attempts + 1
    Message.objects.filter(pk=message_id).update(send_attempts=attempts)
    if result.ok:
        update_delivery_status(message, DeliveryStatus.SENT, external_id=result.external_id)
    elif result.retryable and attempts < MAX_ATTEMPTS:
        delay = next_delay(attempts)
        if result.retry_after:  # the provider's own wait comes first (rate limits)
            delay = max(delay, timedelta(seconds=min(result.retry_after, 3600)))
        run_after = timezone.now() + delay
        Message.objects.filter(pk=message_id).update(send_after=run_after,
                                                     failure_reason=result.error)
        from atende.tickets.tasks import send_message

        send_message.using(run_after=run_after).enqueue(message_id)
    else:
        update_delivery_status(message, DeliveryStatus.FAILED, reason=result.error)
    return result


def overdue_queued_ids(limit: int = 200) -> list[int]:
    """Queued messages nobody is sending (a lost task): picked up by the periodic sweeper."""
    # The grace keeps the sweeper from racing the task enqueued at the same moment.
    due = timezone.now() - timedelta(seconds=30)
    return list(
        Message.objects.filter(delivery_status=DeliveryStatus.QUEUED, send_after__lte=due)
        .values_list("pk", flat=True)[:limit]
    )
