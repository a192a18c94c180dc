"""The messaging window (CONTRACTS §3.4): a business answers within 24 hours of the
customer's last message; with the HUMAN_AGENT tag (where the account has the feature) a
person may answer for 7 days. After that nothing goes out until the customer writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from django.db.models import Max
from django.utils import timezone

from atende.channels.models import Channel
from atende.tickets.models import Direction, Message

STANDARD = timedelta(hours=24)
HUMAN_AGENT = timedelta(days=7)
HUMAN_AGENT_TAG = "HUMAN_AGENT"


class Window(NamedTuple):
    open: bool
    tag: str  # "" inside 24 h, HUMAN_AGENT_TAG inside the tagged 7 days
    closes_at: datetime | None  # None: the customer never wrote on this channel


def window(channel: Channel, ticket_id: int, now: datetime | None = None) -> Window:
    last: datetime | None = Message.objects.for_org(channel.organization_id).filter(
        ticket_id=ticket_id, channel=channel, direction=Direction.INBOUND,
    ).aggregate(last=Max("created_at"))["last"]
    if last is None:
        return Window(False, "", None)
    now = now or timezone.now()
    if now < last + STANDARD:
        return Window(True, "", last + STANDARD)
    if channel.settings.get("human_agent") and now < last + HUMAN_AGENT:
        return Window(True, HUMAN_AGENT_TAG, last + HUMAN_AGENT)
    closes = last + (HUMAN_AGENT if channel.settings.get("human_agent") else STANDARD)
    return Window(False, "", closes)
