"""The answer reminder ("lembrete de resposta"): a ticket left pending on the customer after
an agent's answer asks the customer, once, to reply. The delay is a channel setting,
`answer_reminder_hours` (0 or absent: off). This module only decides *when* and emits
`ticket.answer_reminder`; each connector's listener decides *what* is sent (an e-mail
notification template, a WhatsApp template...)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from atende.channels.models import Channel
from atende.events import emit
from atende.tickets.models import Status, Ticket
from atende.tickets.payloads import ticket_payload
from atende.tickets.services import audit
from atende.tickets.services.actor import Actor

BATCH = 200


def reminder_hours(channel: Channel) -> int:
    try:
        return max(0, int(channel.settings.get("answer_reminder_hours") or 0))
    except (TypeError, ValueError):
        return 0


def due_reminders(channel: Channel, now: datetime) -> list[int]:
    """Pending tickets of `channel` whose last public answer is older than the delay, with
    no customer message and no reminder since it. Uses the ticket_channel_reminder index."""
    hours = reminder_hours(channel)
    if not hours:
        return []
    return list(
        Ticket.objects.filter(
            channel=channel, status=Status.PENDING,
            last_outbound_at__lte=now - timedelta(hours=hours),
        )
        .filter(Q(last_inbound_at__isnull=True) | Q(last_inbound_at__lt=F("last_outbound_at")))
        .filter(Q(answer_reminder_sent_at__isnull=True)
                | Q(answer_reminder_sent_at__lt=F("last_outbound_at")))
        .order_by("last_outbound_at")
        .values_list("pk", flat=True)[:BATCH]
    )


@transaction.atomic
def remind(ticket_id: int, now: datetime | None = None) -> bool:
    """Emit the reminder for one ticket, once: the row lock and the re-check make two
    concurrent sweeps send it a single time. Returns whether it was emitted."""
    now = now or timezone.now()
    ticket = Ticket.objects.select_for_update().filter(pk=ticket_id).first()
    if ticket is None or ticket.status != Status.PENDING or ticket.last_outbound_at is None:
        return False
    if ticket.answer_reminder_sent_at and ticket.answer_reminder_sent_at >= ticket.last_outbound_at:
        return False
    if ticket.last_inbound_at and ticket.last_inbound_at >= ticket.last_outbound_at:
        return False
    ticket.answer_reminder_sent_at = now
    ticket.save(update_fields=["answer_reminder_sent_at"])
    audit.record(ticket, Actor(label="system:answer-reminder"), "answer_reminder")
    emit(ticket.organization_id, "ticket.answer_reminder", ticket_payload(ticket))
    return True


def send_due_reminders(now: datetime | None = None) -> int:
    """The periodic sweep over every active channel with a reminder delay."""
    now = now or timezone.now()
    sent = 0
    channels = Channel.objects.filter(is_active=True, settings__has_key="answer_reminder_hours")
    for channel in channels:
        for ticket_id in due_reminders(channel, now):
            sent += remind(ticket_id, now)
    return sent
