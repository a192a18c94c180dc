"""Return to bot (WA-7): with "return to bot" on, a new WhatsApp conversation goes to a
chatbot first and only reaches the queue when the bot hands it off.

Design:
- Bots are configured per organisation in Settings → Bots (`Bot`: bot id, name, webhook
  URL, signing secret). The channel's "Bot id" names one, as the seed's "ID do Bot" does.
- A customer message with no open ticket on its number starts a `BotConversation`; while it
  is with the bot, every message of that number is kept as a `BotEntry` (pointing at its
  stored webhook event) and forwarded to the bot's webhook as JSON, signed exactly like
  Atende's outbound webhooks (`X-Atende-Signature` over `timestamp.body`, event
  `whatsapp.message`). No ticket exists yet, so nothing is in the queue.
- The bot answers with `POST /api/v1/whatsapp/conversations/{id}/messages` and hands off
  with `POST /api/v1/whatsapp/conversations/{id}/handoff` (optional `service_id`, `note`),
  authenticated with an organisation API key.
- Hand-off turns the conversation into a ticket in one transaction: the customer's messages
  go through the normal ingest (media downloaded then), the bot's answers become outbound
  entries, a system entry says who handed off and why; then auto-assignment runs, and the
  opening template and out-of-hours message apply as for any new ticket. A second hand-off
  returns the same ticket. A bot that cannot be reached (every forward attempt failed, or
  its URL is refused) hands off by itself, and so does one that neither answers nor hands
  off within its answer timeout (`bot_timeout.py`): no customer waits for a bot forever.
- Later messages follow the ticket as usual; once it is finished, the customer's next
  message goes back to the bot. Turning "return to bot" off sends every later message
  straight to tickets.
- Delivery statuses of the bot's answers are dropped while the conversation is at the bot
  (there is no timeline entry to put them on yet); after hand-off they apply as usual.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from atende.channels.models import Channel, InboundEvent
from atende.connectors.whatsapp import inbound
from atende.connectors.whatsapp.client import ProviderError, WhatsAppClient
from atende.connectors.whatsapp.models import Bot, BotConversation, BotEntry, BotState
from atende.connectors.whatsapp.phone_numbers import canonical_number, recipient
from atende.events import emit
from atende.net import BlockedDestination, failure_text, post_json, status_text
from atende.tenancy.models import Service
from atende.tickets.errors import TicketError
from atende.tickets.models import (
    OPEN_STATUSES,
    DeliveryStatus,
    Direction,
    Message,
    ThreadReference,
    Ticket,
)
from atende.tickets.payloads import message_payload
from atende.tickets.services import assignment, audit
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket
from atende.tickets.services.ingest import ingest
from atende.webhooks.signing import signed_headers

logger = logging.getLogger(__name__)
FORWARD_ATTEMPTS = 4
FORWARD_EVENT = "whatsapp.message"


def bot_for(channel: Channel) -> Bot | None:
    if not channel.settings.get("return_to_bot") or not channel.settings.get("bot_id"):
        return None
    return Bot.objects.for_org(channel.organization_id).filter(
        bot_id=str(channel.settings["bot_id"]), is_active=True).first()


def _has_open_ticket(channel: Channel, number: str) -> bool:
    return ThreadReference.objects.filter(
        channel=channel, key=inbound.thread_key(number), ticket__status__in=OPEN_STATUSES,
    ).exists()


def route(event: InboundEvent, channel: Channel) -> BotEntry | None:
    """Keep a customer message at the bot when its conversation is there (or a new one
    starts there); None when it goes to a ticket as usual. Idempotent on the wamid.
    Raises ValidationError for an impossible sender number."""
    if not channel.settings.get("return_to_bot"):  # the common case costs no query
        return None
    item: dict[str, Any] = event.payload["message"]
    number = canonical_number(str(item["from"]))
    with transaction.atomic():
        conversation = (BotConversation.objects.select_for_update(of=("self",))
                        .select_related("bot")
                        .filter(channel=channel, number=number, state=BotState.AT_BOT).first())
        if conversation is None:
            bot = bot_for(channel)
            if bot is None or _has_open_ticket(channel, number):
                return None
            try:
                with transaction.atomic():
                    conversation = BotConversation.objects.create(
                        organization_id=channel.organization_id, channel=channel, bot=bot,
                        number=number, name=str(event.payload.get("name") or "")[:200])
            except IntegrityError:  # a concurrent message of the same number started it
                conversation = (BotConversation.objects.select_for_update(of=("self",))
                                .select_related("bot")
                                .get(channel=channel, number=number, state=BotState.AT_BOT))
        entry, created = BotEntry.objects.get_or_create(
            conversation=conversation, wamid=str(item["id"])[:255],
            defaults={"organization_id": channel.organization_id, "inbound": True,
                      "event": event, "text": inbound.describe(item),
                      "created_at": inbound.provider_time(item.get("timestamp"))
                      or timezone.now()})
        if created:
            from atende.connectors.whatsapp.tasks import forward_to_bot

            _start_waiting(conversation)
            entry_id = entry.pk
            transaction.on_commit(lambda: forward_to_bot.enqueue(entry_id))
    return entry


def _start_waiting(conversation: BotConversation) -> None:
    """The customer wrote: the bot's answer timeout runs from the first message it has not
    answered (later ones do not push the deadline back). Called with the row locked."""
    if conversation.waiting_since is not None:
        return
    now = timezone.now()
    conversation.waiting_since = now
    if conversation.bot is None:  # the bot was deleted: nobody will answer
        conversation.hand_off_due_at = now
    else:
        minutes = conversation.bot.answer_timeout_minutes
        conversation.hand_off_due_at = now + timedelta(minutes=minutes) if minutes else None
    conversation.save(update_fields=["waiting_since", "hand_off_due_at"])


def forward_body(entry: BotEntry) -> dict[str, Any]:
    conversation = entry.conversation
    item = entry.event.payload.get("message", {}) if entry.event else {}
    return {
        "event": FORWARD_EVENT, "conversation_id": conversation.pk,
        "channel_id": conversation.channel_id,
        "bot_id": conversation.bot.bot_id if conversation.bot else "",
        "contact": {"number": conversation.number, "name": conversation.name},
        "message": {"id": entry.wamid, "type": str(item.get("type") or "text"),
                    "text": entry.text, "timestamp": entry.created_at.isoformat(),
                    "raw": item},
    }


def forward(entry_id: int, attempt: int = 0) -> bool:
    """POST one customer message to the bot's webhook; retried with backoff on failure.
    Returns whether the bot accepted it (any 2xx)."""
    entry = (BotEntry.objects.select_related("conversation__bot", "event",
                                             "conversation__channel__organization")
             .filter(pk=entry_id).first())
    if entry is None or entry.forwarded_at is not None:
        return False
    conversation = entry.conversation
    bot = conversation.bot
    if bot is None or conversation.state != BotState.AT_BOT:
        return False
    body = json.dumps(forward_body(entry), default=str).encode()
    headers = signed_headers(bot.secret, body, f"whatsapp-bot-{entry.pk}", FORWARD_EVENT)
    error = ""
    try:
        response = post_json(bot.webhook_url, body, headers, settings.WEBHOOK_TIMEOUT_SECONDS)
        if 200 <= response.status_code < 300:
            BotEntry.objects.filter(pk=entry.pk).update(forwarded_at=timezone.now(),
                                                        forward_error="")
            return True
        error = status_text(response)
    except BlockedDestination as exc:
        error, attempt = str(exc), FORWARD_ATTEMPTS  # never retried
    except httpx.HTTPError as exc:  # network errors: retried
        error = failure_text(exc)
    except Exception as exc:  # retried too
        error = f"{type(exc).__name__}: {exc}"
    BotEntry.objects.filter(pk=entry.pk).update(forward_error=error[:2000])
    logger.warning("forward of WhatsApp message %s to bot %s failed: %s", entry.pk, bot.pk,
                   error)
    if attempt + 1 < FORWARD_ATTEMPTS:
        from atende.connectors.whatsapp.tasks import forward_to_bot

        run_after = timezone.now() + timedelta(seconds=10 * 3 ** attempt)
        forward_to_bot.using(run_after=run_after).enqueue(entry.pk, attempt + 1)
    else:  # the bot is unreachable: the customer must not wait for it forever
        with translation.override(conversation.channel.organization.language):
            text = _("The bot %(bot)s could not be reached (%(error)s): the conversation went "
                     "to the queue.") % {"bot": bot.name, "error": error[:300]}
            hand_off_without_bot(conversation.organization_id, conversation.pk, text=text,
                                 reason={"reason": "unreachable", "error": error[:300]},
                                 actor=Actor(label="system:bot-unreachable"))
    return False


def is_bot_answer(channel: Channel, wamid: str) -> bool:
    return BotEntry.objects.filter(wamid=wamid, inbound=False,
                                   conversation__channel=channel).exists()


def conversation_for(organization_id: int, conversation_id: int) -> BotConversation:
    """The organisation's conversation (DoesNotExist → 404 for anyone else's)."""
    return (BotConversation.objects.for_org(organization_id)
            .select_related("channel__organization", "bot").get(pk=conversation_id))


def send_bot_text(conversation: BotConversation, text: str) -> BotEntry:
    """The bot's answer to the customer, sent at once; kept for the ticket's timeline.
    Raises TicketError once handed off, ProviderError when the provider refuses."""
    if conversation.state != BotState.AT_BOT:
        raise TicketError(_("This conversation was handed off: answer on its ticket."),
                          field="conversation_id", code="conflict")
    if not text.strip():
        raise TicketError(_("Write a message."), field="text")
    started = timezone.now()
    wamid = WhatsAppClient.for_channel(conversation.channel).send_text(
        recipient(conversation.number), text[:4096])
    with transaction.atomic():
        entry = BotEntry.objects.create(
            organization_id=conversation.organization_id, conversation=conversation,
            inbound=False, wamid=wamid[:255], text=text[:4096], forwarded_at=timezone.now())
        # The bot is alive and answering: its timeout starts again at the next message (one
        # that arrived while this answer was being sent keeps its own clock).
        BotConversation.objects.filter(pk=conversation.pk, state=BotState.AT_BOT,
                                       waiting_since__lte=started).update(
            waiting_since=None, hand_off_due_at=None)
    return entry


@dataclass(frozen=True)
class HandOff:
    ticket: Ticket
    created: bool  # False: it had been handed off already


def hand_off(organization_id: int, conversation_id: int, *, service_id: int | None = None,
             note: str = "", actor: Actor) -> HandOff:
    """The bot's hand-off: bring the conversation to the queue as a ticket (see the module
    docstring). Idempotent: a second call returns the same ticket (row lock)."""
    with transaction.atomic():
        conversation = _locked(organization_id, conversation_id)
        if conversation.state != BotState.AT_BOT and conversation.ticket is not None:
            return HandOff(conversation.ticket, created=False)
        service = None
        if service_id is not None:
            service = Service.objects.for_org(organization_id).filter(pk=service_id).first()
            if service is None:
                raise TicketError(_("Unknown service."), field="service_id", code="not_found")
        with translation.override(conversation.channel.organization.language):
            bot_name = conversation.bot.name if conversation.bot else _("bot")
            text = _("Handed off by the bot %(bot)s.") % {"bot": bot_name}
            if note.strip():
                text = f"{text} {note.strip()[:2000]}"
            ticket = _into_ticket(conversation, service, text, actor, {"reason": "handoff"})
    _after_opening(conversation.channel, ticket)
    return HandOff(ticket, created=True)


def hand_off_without_bot(organization_id: int, conversation_id: int, *, text: str,
                         reason: dict[str, Any], actor: Actor,
                         due_by: datetime | None = None) -> Ticket | None:
    """Atende hands the conversation to the queue because the bot failed it (`text`: the
    system entry, in the organisation's language; `reason`: the audit line). With `due_by`
    only if, under the row lock, it is still with the bot and its answer timeout passed by
    then: a bot that answered or handed off meanwhile wins. None when nothing was done."""
    with transaction.atomic():
        conversation = _locked(organization_id, conversation_id)
        if conversation.state != BotState.AT_BOT:
            return None
        if due_by is not None and (conversation.hand_off_due_at is None
                                   or conversation.hand_off_due_at > due_by):
            return None
        with translation.override(conversation.channel.organization.language):
            ticket = _into_ticket(conversation, None, text, actor, reason)
    _after_opening(conversation.channel, ticket)
    return ticket


def _locked(organization_id: int, conversation_id: int) -> BotConversation:
    return (BotConversation.objects.for_org(organization_id)
            .select_for_update(of=("self",))
            .select_related("channel__organization", "bot").get(pk=conversation_id))


def _into_ticket(conversation: BotConversation, service: Service | None, text: str,
                 actor: Actor, reason: dict[str, Any]) -> Ticket:
    """The conversation's messages as a ticket, the system entry `text`, the audit line;
    the conversation marked handed off. Inside the caller's transaction, row locked."""
    channel = conversation.channel
    entries = list(conversation.entries.select_related("event").order_by("created_at", "id"))
    ticket: Ticket | None = None
    bot_answers = []
    for entry in entries:
        if not entry.inbound:
            bot_answers.append(entry)
            continue
        if entry.event is None:
            continue
        try:
            message = inbound.to_inbound(channel, entry.event.payload)
        except ProviderError as exc:
            message = inbound.to_inbound(channel, entry.event.payload, media_error=str(exc))
        result = ingest(message)
        ticket = result.ticket
        InboundEvent.objects.filter(pk=entry.event.pk).update(message=result.message)
    if ticket is None:
        raise TicketError(_("The conversation has no customer message."),
                          field="conversation_id")
    for entry in bot_answers:
        answer = Message.objects.create(
            organization_id=ticket.organization_id, ticket=ticket, channel=channel,
            direction=Direction.OUTBOUND, text=entry.text, external_id=entry.wamid,
            delivery_status=DeliveryStatus.SENT, created_at=entry.created_at,
            sent_at=entry.created_at)
        emit(ticket.organization_id, "message.created", message_payload(answer))
    system = Message.objects.create(
        organization_id=ticket.organization_id, ticket=ticket, direction=Direction.SYSTEM,
        channel=channel, delivery_status=DeliveryStatus.RECEIVED, text=text)
    emit(ticket.organization_id, "message.created", message_payload(system))
    audit.record(ticket, actor, "bot_handed_off",
                 after={"bot": conversation.bot.name if conversation.bot else "", **reason})
    if service is not None and service.pk != ticket.service_id:
        ticket = update_ticket(ticket, actor, service=service)
        assignment.assign_on_commit(ticket)
    conversation.state, conversation.ticket = BotState.HANDED_OFF, ticket
    conversation.handed_off_at = timezone.now()
    conversation.waiting_since = conversation.hand_off_due_at = None
    conversation.save(update_fields=["state", "ticket", "handed_off_at", "waiting_since",
                                     "hand_off_due_at"])
    return ticket


def _after_opening(channel: Channel, ticket: Ticket) -> None:
    from atende.connectors.whatsapp.out_of_hours import notify_if_closed
    from atende.connectors.whatsapp.receive import confirm_opening

    confirm_opening(channel, ticket)
    try:
        notify_if_closed(channel, ticket, timezone.now())
    except TicketError as exc:
        logger.warning("out-of-hours message for ticket %s not sent: %s", ticket.pk, exc)
