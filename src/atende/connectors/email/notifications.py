"""Sending one notification (EM-5) for a ticket event, with every loop protection (EM-9).

Runs in a task after the ticket change committed. The mail threads into the ticket (In-Reply-To
the customer's last mail, References, the subject token, our Message-ID remembered as a
thread key) and shows in the timeline as an outbound message marked `AutomaticMail`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.html import linebreaks

from atende.automation.business_hours import is_open
from atende.backoff import next_delay
from atende.channels.models import Channel, ChannelKind, InboundEvent
from atende.connectors.email.compose import Draft, references_chain
from atende.connectors.email.models import FIRST_ANSWERS, AutomaticMail, NotificationEvent
from atende.connectors.email.notification_texts import (
    Text,
    fill,
    language_for,
    mail_subject,
    template_text,
    values_for,
)
from atende.connectors.email.outbound import DAILY_CAP_REACHED, send_automatic
from atende.contacts.models import Contact, ContactIdentity, IdentityKind
from atende.events import emit
from atende.tickets.models import DeliveryStatus, Direction, Message, Ticket
from atende.tickets.payloads import message_payload
from atende.tickets.services import audit
from atende.tickets.services.actor import Actor
from atende.tickets.services.ingest import sanitize_html
from atende.tickets.services.threads import remember_thread_key

logger = logging.getLogger(__name__)

# RFC 3834: an acknowledgement answers the customer's mail; the others follow an event.
_KIND: dict[str, str] = {NotificationEvent.OPENED: "auto-replied",
                         NotificationEvent.OUT_OF_HOURS: "auto-replied"}

SENT, OFF, SKIPPED, CAPPED, RETRY, FAILED = "sent", "off", "skipped", "capped", "retry", "failed"
MAX_ATTEMPTS = 5


ACK_LOCK_SECONDS = 120  # longer than one SMTP send with its time-outs


def send_notification(organization_id: int, ticket_id: int, event: str,
                      attempt: int = 1) -> str:
    """Send the channel's `event` notification for the ticket, if it is on. Returns what
    happened (`sent`, `off`, `skipped`, `capped`, `retry`, `failed`); never raises for a
    refusal. Network trouble and 4xx answers are tried again later (backoff); the last
    failure shows on the timeline."""
    if event != NotificationEvent.OPENED:
        return _send(organization_id, ticket_id, event, attempt)
    # Two tasks for one ticket (a reply and its original in two polls) must not both find
    # the ticket unacknowledged and both send: one at a time per ticket.
    lock = f"email-ack:{organization_id}:{ticket_id}"
    if not cache.add(lock, 1, ACK_LOCK_SECONDS):
        logger.info("acknowledgement of ticket %s is being sent by another task", ticket_id)
        return SKIPPED
    try:
        return _send(organization_id, ticket_id, event, attempt)
    finally:
        cache.delete(lock)


def _send(organization_id: int, ticket_id: int, event: str, attempt: int) -> str:
    ticket = (Ticket.objects.for_org(organization_id)
              .select_related("channel__business_calendar", "channel__service__business_calendar",
                              "contact", "organization", "service", "assignee")
              .filter(pk=ticket_id).first())
    if ticket is None or ticket.channel is None or ticket.channel.kind != ChannelKind.EMAIL \
            or not ticket.channel.is_active:
        return SKIPPED
    channel = ticket.channel
    language = language_for(ticket)
    requested = event  # a retry asks again: the first answer is chosen anew
    text = template_text(channel.pk, organization_id, event, language)
    if not text.enabled and event != NotificationEvent.OPENED:
        return OFF
    rows = list(Message.objects.for_org(organization_id)
                .filter(ticket=ticket, channel=channel).exclude(external_id="")
                .order_by("created_at", "id")
                .values_list("external_id", "direction", "author_contact_id", "created_at"))
    inbound = [(key, author, written) for key, direction, author, written in rows
               if direction == Direction.INBOUND]
    if not inbound and ticket.origin == ChannelKind.API:
        # Created through the REST API for a requester, on the channel that answers those.
        inbound = [("", ticket.contact_id, ticket.created_at)]
    elif not inbound:  # not a ticket that came by mail: nobody wrote to us here
        return SKIPPED
    if event == NotificationEvent.OPENED:
        answered = _acknowledged_mail(ticket, inbound)
        if answered is None:
            return SKIPPED
        answering, contact_id, written_at = answered
        event, text = _first_answer(channel, organization_id, language, written_at, text)
        if not text.enabled:
            return OFF
    else:
        answering, contact_id = inbound[-1][0], ticket.contact_id
        reason = _no_auto_reply(channel.pk, organization_id, [answering]).get(answering[:255]) \
            if answering else ""
        if reason:
            logger.info("no %s notification on ticket %s: %s", event, ticket.pk, reason)
            return SKIPPED
    to = _recipient(organization_id, contact_id)
    own = str(channel.settings.get("address", "")).lower()
    if not to or to.lower() == own:
        return SKIPPED
    values = values_for(ticket, language)
    if contact_id != ticket.contact_id:  # e.g. an away colleague's auto-reply opened it
        values["contact.name"] = (Contact.objects.for_org(organization_id)
                                  .filter(pk=contact_id).values_list("name", flat=True)
                                  .first() or "")
    subject = mail_subject(text.subject, values, ticket.number)
    draft = Draft(to=to, subject=subject, text=fill(text.body, values),
                  in_reply_to=answering, references=references_chain([r[0] for r in rows]))
    result = send_automatic(channel, draft, _KIND.get(event, "auto-generated"),
                            protocol=ticket.protocol, counted=attempt > 1)
    if result.error == DAILY_CAP_REACHED:
        logger.info("no %s notification on ticket %s: %s", event, ticket.pk, result.error)
        return CAPPED
    if not result.ok and result.retryable and attempt < MAX_ATTEMPTS:
        from atende.connectors.email.tasks import send_ticket_notification

        run_after = timezone.now() + next_delay(attempt)
        send_ticket_notification.using(run_after=run_after).enqueue(
            organization_id, ticket_id, requested, attempt + 1)
        return RETRY
    _record(ticket, draft, event, language, result.external_id if result.ok else "",
            "" if result.ok else result.error)
    return SENT if result.ok else FAILED


def _first_answer(channel: Channel, organization_id: int, language: str,
                  written_at: datetime | None, opened: Text) -> tuple[str, Text]:
    """Which answer the first mail gets: "outside business hours" when that template is on
    and the channel (or its service) was closed when the customer wrote (the mail's date,
    which ingest keeps as the message's time), else "opened"."""
    calendar = channel.attended_hours()
    if calendar is not None and calendar.is_active \
            and not is_open(calendar, written_at or timezone.now()):
        closed = template_text(channel.pk, organization_id, NotificationEvent.OUT_OF_HOURS,
                               language)
        if closed.enabled:
            return NotificationEvent.OUT_OF_HOURS, closed
    return NotificationEvent.OPENED, opened


def _acknowledged_mail(ticket: Ticket, inbound: list[tuple[str, int | None, datetime | None]]
                       ) -> tuple[str, int | None, datetime | None] | None:
    """The mail the acknowledgement answers, and its author: the conversation's first mail
    by date that may be answered automatically (never an auto-reply, a list or a bounce).
    None when the ticket was acknowledged already (once per conversation, however many
    times the task is enqueued) or holds no such mail yet: a mail that joins later asks
    again (`receive`)."""
    if AutomaticMail.objects.for_org(ticket.organization_id).filter(
            message__ticket_id=ticket.pk, event__in=FIRST_ANSWERS).exists():
        return None
    assert ticket.channel_id is not None
    refused = _no_auto_reply(ticket.channel_id, ticket.organization_id,
                             [key for key, _author, _at in inbound])
    for key, author, written_at in inbound:
        if not refused.get(key[:255]):
            return key, author, written_at
    logger.info("no acknowledgement on ticket %s yet: no mail to answer", ticket.pk)
    return None


def _no_auto_reply(channel_id: int, organization_id: int,
                   message_ids: list[str]) -> dict[str, str]:
    """Why each of the customer's mails must not be answered automatically, as `receive`
    noted it (auto-reply, list, bounce, our own address, a `no_auto_reply` rule)."""
    payloads = (InboundEvent.objects.for_org(organization_id)
                .filter(channel_id=channel_id, provider_id__in=[m[:255] for m in message_ids])
                .values_list("provider_id", "payload"))
    return {provider_id: str((payload or {}).get("no_auto_reply") or "")
            for provider_id, payload in payloads}


def _recipient(organization_id: int, contact_id: int | None) -> str:
    value: str | None = (ContactIdentity.objects.for_org(organization_id)
                         .filter(contact_id=contact_id, kind=IdentityKind.EMAIL)
                         .order_by("created_at").values_list("value", flat=True).first())
    return value or ""


@transaction.atomic
def _record(ticket: Ticket, draft: Draft, event: str, language: str, message_id: str,
            error: str) -> Message:
    now = timezone.now()
    message = Message.objects.create(
        organization_id=ticket.organization_id, ticket=ticket, direction=Direction.OUTBOUND,
        channel=ticket.channel, text=draft.text,
        html=sanitize_html(linebreaks(draft.text, autoescape=True)), external_id=message_id,
        delivery_status=DeliveryStatus.SENT if message_id else DeliveryStatus.FAILED,
        failure_reason=error[:2000], sent_at=now if message_id else None, created_at=now,
    )
    AutomaticMail.objects.create(organization_id=ticket.organization_id, message=message,
                                 event=event, language=language)
    if message_id and ticket.channel is not None:
        remember_thread_key(ticket.pk, ticket.channel, message_id)
    # The timeline and the tracking tab tell it apart from an agent's answer.
    audit.record(ticket, Actor(label="system:email-notification"), "notification_sent",
                 after={"event": event, "language": language, "message": message.pk})
    emit(ticket.organization_id, "message.created", message_payload(message))
    return message
