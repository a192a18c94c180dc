"""The bot's answer timeout (WA-7): a conversation whose customer wrote and that the bot has
neither answered nor handed off within the bot's timeout goes to the queue by itself, with a
system entry and an audit line saying why. A bot that is down, broken or silent must not
keep a customer away from the agents.

The periodic job reads the due conversations through a partial index (only conversations
still with the bot), then hands each off under its row lock, re-checking the deadline: if
the bot answered or handed off in between, the bot wins and nothing happens twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from atende.connectors.whatsapp.bot import hand_off_without_bot
from atende.connectors.whatsapp.models import Bot, BotConversation, BotState
from atende.tickets.errors import TicketError
from atende.tickets.services.actor import Actor

logger = logging.getLogger(__name__)
BATCH = 200
SWEEP_ACTOR = Actor(label="system:bot-timeout")


def due_conversations(now: datetime, limit: int = BATCH) -> list[tuple[int, int]]:
    """(organization id, conversation id) of the conversations past their deadline, oldest
    first. All tenants: each hand-off is then scoped to its own organisation."""
    return list(BotConversation.objects.filter(state=BotState.AT_BOT, hand_off_due_at__lte=now)
                .order_by("hand_off_due_at").values_list("organization_id", "pk")[:limit])


def hand_off_silent_conversations(now: datetime | None = None) -> int:
    """The periodic job: hands every overdue conversation to the queue; returns how many.
    Idempotent, and safe against the bot answering or handing off at the same moment."""
    now = now or timezone.now()
    handed = 0
    for organization_id, conversation_id in due_conversations(now):
        try:
            if hand_off_if_silent(organization_id, conversation_id, now):
                handed += 1
        except TicketError as exc:  # nothing to put in a ticket: stop trying every minute
            logger.warning("bot conversation %s not handed off: %s", conversation_id, exc)
            BotConversation.objects.filter(pk=conversation_id).update(hand_off_due_at=None)
        except Exception:  # one bad conversation must not stop the others
            logger.exception("timeout hand-off of bot conversation %s failed", conversation_id)
    return handed


def hand_off_if_silent(organization_id: int, conversation_id: int, now: datetime) -> bool:
    conversation = (BotConversation.objects.for_org(organization_id)
                    .select_related("bot", "channel__organization").get(pk=conversation_id))
    with translation.override(conversation.channel.organization.language):
        text, reason = _why(conversation)
        ticket = hand_off_without_bot(organization_id, conversation_id, text=text,
                                      reason=reason, actor=SWEEP_ACTOR, due_by=now)
    return ticket is not None


def _why(conversation: BotConversation) -> tuple[str, dict[str, object]]:
    if conversation.bot is None:
        return (_("The conversation's bot was removed: the conversation went to the queue."),
                {"reason": "no_bot"})
    waited = (conversation.hand_off_due_at or timezone.now()) - (
        conversation.waiting_since or timezone.now())
    minutes = max(0, round(waited / timedelta(minutes=1)))
    text = _("The bot %(bot)s did not answer in %(minutes)d minutes: the conversation went "
             "to the queue.") % {"bot": conversation.bot.name, "minutes": minutes}
    return text, {"reason": "timeout", "minutes": minutes}


def apply_new_timeout(bot: Bot, minutes: int) -> int:
    """The bot's timeout changed: conversations already waiting for it get the new deadline
    (counted from when they started waiting). Returns how many changed."""
    waiting = BotConversation.objects.for_org(bot.organization_id).filter(
        bot=bot, state=BotState.AT_BOT, waiting_since__isnull=False)
    if minutes <= 0:
        return waiting.update(hand_off_due_at=None)
    return waiting.update(hand_off_due_at=F("waiting_since") + timedelta(minutes=minutes))
