"""The agent's answer to the platform (CG-3), on the API's hours (CG-7).

An answer written while the API is closed (or while earlier answers of the channel still
wait) is parked: it stays queued in the timeline, with no send attempt counted, and
`flush_waiting` sends the channel's parked answers in the order they were written as soon as
a window opens (the periodic job, and every sync). They are rows in the database: a restart
loses nothing."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import formats, timezone, translation
from django.utils.html import strip_tags
from django.utils.translation import gettext as _

from atende.channels.connector import OutboundMessage, SendResult, TestResult
from atende.channels.models import Channel
from atende.connectors.consumidor_gov import complaints, hours
from atende.connectors.consumidor_gov.client import ConsumidorClient, ConsumidorError
from atende.connectors.consumidor_gov.hours import BRASILIA, next_open
from atende.connectors.consumidor_gov.models import Complaint
from atende.tickets.models import DeliveryStatus, Message
from atende.tickets.services.replies import update_delivery_status
from atende.tickets.services.sending import build_outbound

logger = logging.getLogger(__name__)
LEASE = timedelta(seconds=120)


def waiting(channel_id: int) -> Q:
    """Parked answers: queued with no attempt scheduled (the kit's sweeper skips them)."""
    return Q(channel_id=channel_id, delivery_status=DeliveryStatus.QUEUED,
             send_after__isnull=True)


def send(channel: Channel, message: OutboundMessage) -> SendResult:
    with translation.override(channel.organization.language):
        complaint = complaints.of_ticket(message.ticket_id)
        if complaint is None:
            return SendResult(ok=False, error=_("This ticket is not a Consumidor.gov.br "
                                                "complaint."))
        if complaints.is_closed(complaint):
            return SendResult(ok=False, error=closed_text())
        now = hours.current_time()
        earlier = Message.objects.filter(waiting(channel.pk), pk__lt=message.message_id)
        if not hours.open_for(channel.settings, now) or earlier.exists():
            return SendResult(ok=False, parked=True, error=when_text(next_open(now), now))
        return _deliver(channel, complaint, message, now)


def _deliver(channel: Channel, complaint: Complaint, message: OutboundMessage,
             now: datetime) -> SendResult:
    text = message.text.strip() or strip_tags(message.html).strip()
    if not text:
        return SendResult(ok=False, error=_("Nothing to send."))
    try:
        code = ConsumidorClient.for_channel(channel).respond(complaint.protocol, text)
    except ConsumidorError as exc:
        if exc.status == 503 and exc.code:  # the platform closed for the hour after all
            return SendResult(ok=False, parked=True, error=describe_error(exc))
        return SendResult(ok=False, error=describe_error(exc), retryable=exc.retryable)
    author = Message.objects.filter(pk=message.message_id).values_list(
        "author_user_id", flat=True).first()
    complaints.answered(complaint, author, now)
    return SendResult(ok=True, external_id=f"{complaint.protocol}:{code}" if code else "")


def flush_waiting(channel: Channel) -> int:
    """Send the channel's parked answers, oldest first, while the API answers; a passing
    failure stops the round (the order is kept) and the next one tries again. Returns how
    many went out."""
    now = hours.current_time()
    if not hours.open_for(channel.settings, now):
        return 0
    sent = 0
    ids = list(Message.objects.filter(waiting(channel.pk)).order_by("created_at", "pk")
               .values_list("pk", flat=True)[:200])
    for message_id in ids:
        claimed = Message.objects.filter(waiting(channel.pk), pk=message_id).update(
            send_after=timezone.now() + LEASE)
        if not claimed:
            continue
        message = Message.objects.select_related("ticket__contact", "channel",
                                                 "author_user").get(pk=message_id)
        complaint = complaints.of_ticket(message.ticket_id)
        outbound = build_outbound(message)
        if complaint is None or complaints.is_closed(complaint):
            update_delivery_status(message, DeliveryStatus.FAILED, reason=closed_text())
            continue
        result = _deliver(channel, complaint, outbound, now)
        Message.objects.filter(pk=message_id).update(send_attempts=message.send_attempts + 1)
        if result.ok:
            update_delivery_status(message, DeliveryStatus.SENT, external_id=result.external_id)
            sent += 1
        elif result.parked or result.retryable:
            Message.objects.filter(pk=message_id).update(send_after=None,
                                                         failure_reason=result.error)
            break
        else:
            update_delivery_status(message, DeliveryStatus.FAILED, reason=result.error)
    return sent


def when_text(at: datetime, now: datetime) -> str:
    """"será enviado às 17:00" (with the day when it is not today), in Brasília time."""
    local, today = at.astimezone(BRASILIA), now.astimezone(BRASILIA).date()
    hour = local.strftime("%H:%M")
    if local.date() == today:
        return _("Will be sent at %(time)s (Brasília), when the Consumidor.gov.br API "
                 "opens.") % {"time": hour}
    return _("Will be sent on %(day)s at %(time)s (Brasília), when the Consumidor.gov.br "
             "API opens.") % {"day": formats.date_format(local.date(), "SHORT_DATE_FORMAT"),
                              "time": hour}


def closed_text() -> str:
    return _("The consumer has evaluated this complaint on Consumidor.gov.br: nothing more "
             "can be sent.")


def describe_error(exc: ConsumidorError) -> str:
    if exc.status == 401:
        return _("Consumidor.gov.br refused the credentials (401): check the client id, "
                 "the authentication code and the password.")
    if exc.status == 403:
        return _("Consumidor.gov.br refused the authorised CPF (403): %(message)s") % {
            "message": exc.message}
    return str(exc)


def check_connection(channel: Channel) -> TestResult:
    """A token, then the listing of today's complaints: the credentials, the CPF and the
    version header all proved. Outside the API's hours it says when to try."""
    now = hours.current_time()
    if not hours.open_for(channel.settings, now):
        opens = next_open(now).astimezone(BRASILIA)
        return TestResult(ok=False, step="hours", message=_(
            "The Consumidor.gov.br API is closed now (it answers Monday to Friday 12:00-14:00 "
            "and 17:00-22:00, weekends all day, Brasília time). It opens again on %(day)s at "
            "%(time)s.") % {"day": formats.date_format(opens.date(), "SHORT_DATE_FORMAT"),
                            "time": opens.strftime("%H:%M")})
    client = ConsumidorClient.for_channel(channel)
    try:
        client.authenticate()
        listed = client.list_complaints(now.astimezone(BRASILIA).date(),
                                        now.astimezone(BRASILIA).date())
    except ConsumidorError as exc:
        return TestResult(ok=False, step="provider", message=describe_error(exc))
    return TestResult(ok=True, step="provider", message=_(
        "Signed in to Consumidor.gov.br; %(count)s complaints opened today.")
        % {"count": len(listed)})
