"""Ticket events → e-mail notifications (EM-5). The ticket domain only emits events; this
app listens (see apps.py) and sends in a task once the change has committed."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction

from atende.channels.models import ChannelKind, InboundEvent
from atende.connectors.email.models import (
    FIRST_ANSWERS,
    AutomaticMail,
    NotificationEvent,
    NotificationTemplate,
)
from atende.tickets.models import Status


def status_event(previous: str, status: str) -> str | None:
    """Which notification a status change calls for. Becoming open is left out (the
    customer's own mail or the first answer did it), and so is closing a resolved ticket
    (the customer was told when it was resolved)."""
    if status == Status.RESOLVED:
        return NotificationEvent.RESOLVED
    if status == Status.PENDING or (status == Status.CLOSED and previous != Status.RESOLVED):
        return NotificationEvent.STATUS_CHANGED
    return None


def _enqueue(organization_id: int, payload: dict[str, Any], event: str) -> None:
    from atende.connectors.email.tasks import send_ticket_notification

    # Most channels send nothing: one indexed look-up spares a task per ticket (ingest).
    if not NotificationTemplate.objects.for_org(organization_id).filter(
            channel_id=payload["channel_id"], event=event, enabled=True).exists():
        return
    ticket_id = int(payload["id"])
    transaction.on_commit(lambda: send_ticket_notification.enqueue(
        organization_id, ticket_id, str(event)))


def _by_email(payload: dict[str, Any]) -> bool:
    """A ticket on a channel whose customer may be written to: mail taken in, or a ticket
    created through the REST API that an e-mail channel answers (`api_tickets`). Tickets of
    other channels have no templates, and the task checks the channel's kind."""
    return payload.get("origin") in (ChannelKind.EMAIL, ChannelKind.API) \
        and bool(payload.get("channel_id"))


def on_tickets_created(organization_id: int, event_type: str,
                       payloads: list[dict[str, Any]]) -> None:
    """The "opened" (or "outside business hours") notification for the tickets an ingest
    batch opened: one look-up of the
    channels that send it for the whole batch. Whether a ticket came from an inbound mail is
    checked by the task (the customer's mail)."""
    from atende.connectors.email.tasks import send_ticket_notification

    by_email = [p for p in payloads if _by_email(p)]
    if not by_email:
        return
    sending = set(NotificationTemplate.objects.for_org(organization_id).filter(
        channel_id__in={p["channel_id"] for p in by_email}, event__in=FIRST_ANSWERS,
        enabled=True).values_list("channel_id", flat=True))
    for payload in by_email:
        if payload["channel_id"] in sending:
            transaction.on_commit(partial(send_ticket_notification.enqueue, organization_id,
                                          int(payload["id"]), str(NotificationEvent.OPENED)))


def on_mails_joined(channel_id: int, organization_id: int, ticket_ids: set[int]) -> None:
    """The acknowledgement the tickets could not have yet: a customer's mail that may be
    answered joined (inside the batch's transaction, before its events are marked) a ticket
    whose earlier mails were all auto-replies, lists or bounces (an out-of-office reply
    taken in before the mail it answers opened it). Tickets the batch opened are
    acknowledged through `on_tickets_created`; the task sends at most one per ticket."""
    from atende.connectors.email.tasks import send_ticket_notification

    if not ticket_ids or not NotificationTemplate.objects.for_org(organization_id).filter(
            channel_id=channel_id, event__in=FIRST_ANSWERS, enabled=True).exists():
        return
    earlier = (InboundEvent.objects.for_org(organization_id)
               .filter(channel_id=channel_id, message__ticket_id__in=sorted(ticket_ids)))
    # A ticket no mail opened (an agent wrote first) owes no acknowledgement.
    opened_by_mail = set(earlier.values_list("message__ticket_id", flat=True))
    answerable_before = set(earlier.exclude(payload__has_key="no_auto_reply")
                            .values_list("message__ticket_id", flat=True))
    acknowledged = set(
        AutomaticMail.objects.for_org(organization_id)
        .filter(message__ticket_id__in=sorted(ticket_ids), event__in=FIRST_ANSWERS)
        .values_list("message__ticket_id", flat=True))
    for ticket_id in sorted(opened_by_mail - answerable_before - acknowledged):
        transaction.on_commit(partial(send_ticket_notification.enqueue, organization_id,
                                      ticket_id, str(NotificationEvent.OPENED)))


def on_status_changed(organization_id: int, event_type: str, payload: dict[str, Any]) -> None:
    if not _by_email(payload):
        return
    event = status_event(str(payload.get("previous_status")), str(payload.get("status")))
    if event is not None:
        _enqueue(organization_id, payload, event)


def on_answer_reminder(organization_id: int, event_type: str, payload: dict[str, Any]) -> None:
    if _by_email(payload):
        _enqueue(organization_id, payload, NotificationEvent.ANSWER_REMINDER)
