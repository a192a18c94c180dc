"""Business hours (WA-6): a customer who writes while the channel's calendar is closed gets
the out-of-hours message once per conversation (ticket), and the ticket still lands in the
queue. No calendar on the channel means 24x7.

"Once" holds under redeliveries, out-of-order events and concurrent workers: the notice is
an `OutOfHoursNotice` row, unique per ticket, inserted in the same transaction as the
message it sends; whoever loses the insert sends nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _

from atende.automation.business_hours import is_open
from atende.channels.models import Channel
from atende.connectors.whatsapp.models import OutOfHoursNotice
from atende.tickets.models import Message, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.replies import post_message

logger = logging.getLogger(__name__)


def default_message() -> str:
    return _("Hello! Our opening hours are Monday to Friday, 8 am to 6 pm. Your request has "
             "been registered and will be answered on the next business day.")


def out_of_hours(channel: Channel, at: datetime) -> bool:
    calendar = channel.attended_hours()
    if calendar is None or not calendar.is_active:
        return False
    return not is_open(calendar, at)


def notify_if_closed(channel: Channel, ticket: Ticket, at: datetime) -> Message | None:
    """Send the out-of-hours message on `ticket` if the channel is closed at `at` (when the
    customer wrote) and the ticket never had one. Returns the message sent, if any."""
    if not out_of_hours(channel, at):
        return None
    if OutOfHoursNotice.objects.filter(ticket=ticket).exists():  # the common repeat case
        return None
    with translation.override(channel.organization.language):
        text = str(channel.settings.get("out_of_hours_message") or "").strip() \
            or default_message()
        try:
            with transaction.atomic():
                notice = OutOfHoursNotice.objects.create(
                    organization_id=ticket.organization_id, ticket=ticket)
                message = post_message(ticket, Actor(label=f"channel:{channel.pk}:out-of-hours"),
                                       text=text, channel=channel)
                notice.message = message
                notice.save(update_fields=["message"])
        except IntegrityError:  # another worker sent it for this ticket
            return None
    logger.info("out-of-hours message sent on ticket %s", ticket.pk)
    return message
