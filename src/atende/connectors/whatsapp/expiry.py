"""Idle expiry (WA-7): an attendance with no customer message for the channel's configured
minutes is finished, with a system entry in the timeline and, optionally, a message.

The customer gets one closing notice, never two: the channel's idle message when one is
set and the 24-hour window is still open (free text is refused after it); otherwise the
resolution template, if one is mapped, as for any other resolution (templates reach the
customer whatever the window). The status-change listener is told to skip the template
through `closing_notice_sent`."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from atende.channels.models import Channel, ChannelKind
from atende.connectors.whatsapp.window import window_state
from atende.events import emit
from atende.tickets.models import OPEN_STATUSES, DeliveryStatus, Direction, Message, Status, Ticket
from atende.tickets.payloads import message_payload
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.replies import post_message

logger = logging.getLogger(__name__)
BATCH = 200
# True while expire() resolves a ticket whose customer already got the idle message.
closing_notice_sent: ContextVar[bool] = ContextVar("closing_notice_sent", default=False)


def expire_idle_attendances(now: datetime | None = None) -> int:
    """Finish every idle attendance of every WhatsApp channel; returns how many. Run by the
    periodic job each minute; a ticket finished once is not touched again (it is resolved)."""
    now = now or timezone.now()
    finished = 0
    channels = Channel.objects.filter(kind=ChannelKind.WHATSAPP, is_active=True) \
        .select_related("organization")
    for channel in channels:
        minutes = int(channel.settings.get("idle_expiry_minutes") or 0)
        if minutes <= 0:
            continue
        idle = Ticket.objects.for_org(channel.organization_id).filter(
            channel=channel, status__in=OPEN_STATUSES,
            last_inbound_at__lt=now - timedelta(minutes=minutes),
        ).order_by("last_inbound_at")[:BATCH]
        for ticket in idle:
            try:
                expire(ticket, channel, minutes)
                finished += 1
            except Exception:  # one bad ticket must not stop the others
                logger.exception("idle expiry of ticket %s failed", ticket.pk)
    return finished


@transaction.atomic
def expire(ticket: Ticket, channel: Channel, minutes: int) -> Ticket:
    """The goodbye message (see the module docstring), the system entry, then the ticket
    resolved."""
    actor = Actor(label=f"channel:{channel.pk}:idle-expiry")
    with translation.override(channel.organization.language):
        goodbye = str(channel.settings.get("idle_message") or "").strip()
        said_goodbye = bool(goodbye) and window_state(ticket, channel).open
        if said_goodbye:
            post_message(ticket, actor, text=goodbye, channel=channel)
        entry = Message.objects.create(
            organization_id=ticket.organization_id, ticket=ticket, direction=Direction.SYSTEM,
            channel=channel, delivery_status=DeliveryStatus.RECEIVED,
            text=_("Attendance finished after %(minutes)d minutes without a message from the "
                   "customer.") % {"minutes": minutes},
        )
        emit(ticket.organization_id, "message.created", message_payload(entry))
        token = closing_notice_sent.set(said_goodbye)
        try:
            return update_ticket(ticket, actor, status=Status.RESOLVED)
        finally:
            closing_notice_sent.reset(token)
