"""A customer's answer on the channel (a digit, a button) to an invitation waiting there.

Registered with the channel kit (`channels.survey_replies`), which asks before ingest. The
connector says whether the message reads as a score; only then is the sender's waiting
invitation looked up (one indexed query), so ordinary messages cost nothing here."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from atende.channels.connector import InboundMessage
from atende.channels.models import Channel
from atende.channels.registry import UnknownChannelKind, get_connector
from atende.contacts.identities import normalize_identity
from atende.csat.answers import AnswerError, record_answer
from atende.csat.config import CsatSettings
from atende.csat.models import AnswerSource, Survey, SurveyStatus
from atende.tickets.models import OPEN_STATUSES, Ticket

logger = logging.getLogger(__name__)
# How long a sent invitation may still be answered by a reply on the channel (the signed
# link lives longer): a lone digit weeks later is more likely about something else.
REPLY_WINDOW = timedelta(days=7)
# A second tap on the same list, or a digit sent twice, soon after the answer: taken as
# a repeat (nothing recorded) rather than a new message reopening the ticket.
REPEAT_WINDOW = timedelta(hours=1)


def take_reply(channel: Channel, message: InboundMessage) -> bool:
    """Record the message as its sender's answer when it is one; True if recorded."""
    try:
        connector = get_connector(channel.kind)
    except UnknownChannelKind:
        return False
    score = connector.parse_csat_reply(channel, message)
    if score is None or not CsatSettings.of(channel).enabled:
        return False
    now = timezone.now()
    try:
        sender = normalize_identity(message.contact.kind, message.contact.value)
    except ValidationError:
        return False
    survey = (Survey.objects.for_org(channel.organization_id)
              .filter(channel=channel, recipient=sender, sent_at__gte=now - REPLY_WINDOW,
                      status__in=(SurveyStatus.SENT, SurveyStatus.ANSWERED))
              .order_by("-sent_at").first())
    if survey is None:
        return False
    if survey.answered:
        return survey.answered_at is not None and survey.answered_at >= now - REPEAT_WINDOW
    # A digit while the customer has another conversation open here answers the agent.
    if Ticket.objects.for_org(channel.organization_id).filter(
            channel=channel, contact_id=survey.contact_id, status__in=OPEN_STATUSES).exists():
        return False
    try:
        with transaction.atomic():
            record_answer(channel.organization_id, survey.ticket_id, score,
                          via=AnswerSource.REPLY)
    except AnswerError as exc:  # reopened meanwhile, or answered by the link: a message
        logger.info("reply to CSAT survey %s not recorded: %s", survey.pk, exc.message)
        return False
    return True
