"""The 24-hour customer service window: free text only within 24 h of the customer's last
message on the channel; after that only approved templates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import Max
from django.utils import timezone

from atende.channels.models import Channel
from atende.tickets.models import Direction, Message, Ticket

WINDOW = timedelta(hours=24)


class WindowState(NamedTuple):
    """Unpacks as `open, closes_at = window_state(ticket)`."""

    open: bool
    closes_at: datetime | None  # None when the customer never wrote on this channel


def last_customer_message_at(ticket: Ticket, channel: Channel | None = None) -> datetime | None:
    """When the customer last wrote on the ticket's channel (the provider's timestamp);
    one query on the (ticket, created_at) index."""
    channel_id = channel.pk if channel else ticket.channel_id
    found: datetime | None = Message.objects.for_org(ticket.organization_id).filter(
        ticket=ticket, channel_id=channel_id, direction=Direction.INBOUND,
    ).aggregate(last=Max("created_at"))["last"]
    return found


def window_state(ticket: Ticket, channel: Channel | None = None,
                 now: datetime | None = None) -> WindowState:
    """The composer's question: may free text go out now, and until when."""
    last = last_customer_message_at(ticket, channel)
    if last is None:
        return WindowState(False, None)
    closes_at = last + WINDOW
    return WindowState((now or timezone.now()) < closes_at, closes_at)
