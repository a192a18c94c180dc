"""Status-update and resolution templates (WA-4) sent when a WhatsApp ticket's status
changes, and the answer-reminder template on `ticket.answer_reminder`. The ticket domain
only emits events; this app listens (see apps.py) and sends the mapped template in a task,
after the change has committed."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from atende.channels.models import ChannelKind
from atende.connectors.whatsapp.client import ProviderError
from atende.connectors.whatsapp.expiry import closing_notice_sent
from atende.connectors.whatsapp.templates import send_event_template
from atende.tickets.errors import TicketError
from atende.tickets.models import Status, Ticket
from atende.tickets.services.actor import Actor

logger = logging.getLogger(__name__)


def template_event(previous: str, status: str) -> str | None:
    """Which mapped template a change calls for. Becoming open is left out: the customer's
    own message or the first answer does that, and the customer already knows."""
    if status == Status.RESOLVED:
        return "resolution"
    if status == Status.PENDING or (status == Status.CLOSED and previous != Status.RESOLVED):
        return "status_update"
    return None


def on_status_changed(organization_id: int, event_type: str, payload: dict[str, Any]) -> None:
    if payload.get("origin") != ChannelKind.WHATSAPP or not payload.get("channel_id"):
        return
    event = template_event(str(payload.get("previous_status")), str(payload.get("status")))
    if event is None or (event == "resolution" and closing_notice_sent.get()):
        return
    from atende.connectors.whatsapp.tasks import send_ticket_event_template

    ticket_id = int(payload["id"])
    transaction.on_commit(lambda: send_ticket_event_template.enqueue(
        organization_id, ticket_id, event))


def on_answer_reminder(organization_id: int, event_type: str, payload: dict[str, Any]) -> None:
    """The core decided a pending ticket needs the answer reminder (tickets.services.
    reminders, once per answer): send the template mapped to it, after commit."""
    if payload.get("origin") != ChannelKind.WHATSAPP or not payload.get("channel_id"):
        return
    from atende.connectors.whatsapp.tasks import send_ticket_event_template

    ticket_id = int(payload["id"])
    transaction.on_commit(lambda: send_ticket_event_template.enqueue(
        organization_id, ticket_id, "answer_reminder"))


def send_for_ticket(organization_id: int, ticket_id: int, event: str) -> None:
    """Send the channel's template for `event`, if one is mapped; a refusal or a provider
    failure is logged, never raised (the status change itself already happened)."""
    ticket = (Ticket.objects.for_org(organization_id)
              .select_related("channel", "contact", "organization")
              .filter(pk=ticket_id).first())
    if ticket is None or ticket.channel is None:
        return
    try:
        send_event_template(ticket, event, Actor(label=f"channel:{ticket.channel_id}"))
    except (TicketError, ProviderError) as exc:
        logger.warning("%s template for ticket %s not sent: %s", event, ticket.pk, exc)
