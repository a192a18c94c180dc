"""An answer sent as several WhatsApp messages (text, then each file): each part's wamid
is kept, statuses of any part count, and the timeline entry shows the least advanced
part — "delivered" only once every part is delivered, "failed" as soon as one fails."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from atende.channels.models import Channel
from atende.connectors.whatsapp.models import SentPart
from atende.tickets.models import DELIVERY_RANK, DeliveryStatus, Message


def sent_positions(organization_id: int, message_id: int) -> dict[int, str]:
    """The parts the provider already accepted: position → wamid."""
    return dict(SentPart.objects.for_org(organization_id).filter(message_id=message_id)
                .values_list("position", "wamid"))


def record_part(channel: Channel, message_id: int, position: int, wamid: str) -> None:
    """Called right after the provider accepts a part, before the next one is sent."""
    try:
        with transaction.atomic():
            SentPart.objects.create(organization_id=channel.organization_id, channel=channel,
                                    message_id=message_id, position=position, wamid=wamid)
    except IntegrityError:  # recorded already by a concurrent attempt
        pass


def apply_part_status(channel: Channel, wamid: str, status: str,
                      reason: str = "") -> tuple[Message, str, str] | None:
    """Record a status on the part with this wamid; returns its message with the status and
    reason the message now has, or None when no part has this wamid (yet)."""
    with transaction.atomic():
        part = (SentPart.objects.for_org(channel.organization_id).select_for_update()
                .select_related("message").filter(channel=channel, wamid=wamid).first())
        if part is None:
            return None
        new = DeliveryStatus(status)
        current = DeliveryStatus(part.status)
        if current != DeliveryStatus.FAILED and (
                new == DeliveryStatus.FAILED or DELIVERY_RANK[new] > DELIVERY_RANK[current]):
            part.status, part.failure_reason = new, reason[:2000]
            part.save(update_fields=["status", "failure_reason"])
        parts = list(SentPart.objects.for_org(channel.organization_id)
                     .filter(message_id=part.message_id).values_list("status", "failure_reason"))
    failed = [why for state, why in parts if state == DeliveryStatus.FAILED]
    if failed:
        return part.message, DeliveryStatus.FAILED, failed[0]
    least = min((DeliveryStatus(state) for state, _why in parts), key=DELIVERY_RANK.__getitem__)
    return part.message, least, ""
