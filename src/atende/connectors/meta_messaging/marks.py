"""Reads and deliveries (`messaging_seen`, `message_deliveries`) → the delivery marks of
the agents' messages on the timeline. Instagram names the message read (`read.mid`);
Messenger gives a watermark (everything sent until then). A read of a message also marks
the earlier ones. A mark that overtook its message (the send's answer not stored yet)
waits for it: `NotYetKnown` quarantines the event, and it is tried again."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction

from atende.channels import pipeline
from atende.channels.models import Channel, InboundEvent
from atende.connectors.meta_messaging import inbound
from atende.connectors.meta_messaging.kinds import of
from atende.tickets.models import DeliveryStatus, Direction, Message, ThreadReference
from atende.tickets.services.replies import update_delivery_status

NOT_MARKED = (DeliveryStatus.QUEUED, DeliveryStatus.FAILED)


class NotYetKnown(Exception):
    """The marked message is not stored with its id yet."""


def apply(channel: Channel, event: InboundEvent) -> str:
    item = event.payload["item"]
    kind = inbound.event_kind(event.payload)
    mark = item["read"] if kind == inbound.READ else item["delivery"]
    status = DeliveryStatus.READ if kind == inbound.READ else DeliveryStatus.DELIVERED
    customer = inbound.customer_id(item, kind)
    key = inbound.thread_key(of(channel), customer)
    tickets = list(ThreadReference.objects.for_org(channel.organization_id).filter(
        channel=channel, key=key).values_list("ticket_id", flat=True))
    outbound = Message.objects.for_org(channel.organization_id).filter(
        channel=channel, ticket_id__in=tickets, direction=Direction.OUTBOUND)
    mids = [str(m) for m in (mark.get("mids") or [])] + ([str(mark["mid"])]
                                                         if mark.get("mid") else [])
    if mids:
        named = list(outbound.filter(external_id__in=mids).values_list("created_at", flat=True))
        if not named:
            return pipeline.quarantine(event, NotYetKnown(
                "the marked message is not known yet"))
        until = max(named)
    elif isinstance(mark.get("watermark"), int | float):
        until = datetime.fromtimestamp(mark["watermark"] / 1000, tz=UTC)
    else:
        return pipeline.processed(event, None, note="a mark without a message or watermark")
    last = None
    with transaction.atomic():
        for message in outbound.filter(created_at__lte=until).exclude(
                delivery_status__in=NOT_MARKED).order_by("created_at"):
            update_delivery_status(message, status, at=inbound.sent_at(item))
            last = message.pk
        return pipeline.processed(event, last, note="" if last else "no message to mark")
