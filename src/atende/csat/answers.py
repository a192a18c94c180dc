"""Recording the customer's answer: one per ticket, whatever way it comes (the signed
link, a reply on the channel, the portal's banner, the API)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.csat.models import SCORES, AnswerSource, Survey, SurveyStatus
from atende.events import emit
from atende.tickets.models import Status, Ticket
from atende.tickets.services import audit
from atende.tickets.services.actor import Actor

MAX_COMMENT = 2000


class AnswerError(Exception):
    """A refused answer, with the sentence the customer or the caller reads."""

    code = "invalid"

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.message, self.field = message, field


class AlreadyAnswered(AnswerError):
    code = "already_answered"


class NotRateable(AnswerError):
    code = "not_rateable"


def check_answer(score: Any, comment: str) -> tuple[int, str]:
    """The score as an int in 1..5 and the comment trimmed; AnswerError otherwise."""
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if isinstance(score, bool) or value not in SCORES or str(score).strip() != str(value):
        raise AnswerError(_("Choose a score from 1 to 5."), "score")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise AnswerError(_("The comment is too long (at most %(max)s characters).")
                          % {"max": MAX_COMMENT}, "comment")
    return value, comment


@transaction.atomic
def record_answer(organization_id: int, ticket_id: int, score: Any, comment: str = "", *,
                  via: str = AnswerSource.PORTAL) -> Survey:
    """Record the ticket's one answer and emit `csat.received` on commit.

    The portal's banner calls this (`via="portal"`) for a resolved or closed ticket of its
    signed-in customer; the signed link, the channel replies and the API come here too.
    Idempotent by refusal: a second answer for the same ticket raises `AlreadyAnswered`
    and changes nothing (the first answer stands). Raises `AnswerError` for a score
    outside 1-5 or a comment too long, and `NotRateable` for a ticket that is not resolved
    or closed. The ticket row is locked, so two answers at once record one."""
    value, comment = check_answer(score, comment)
    if via not in AnswerSource.values:
        raise AnswerError(_("Unknown answer source."), "via")
    ticket = (Ticket.objects.for_org(organization_id).select_for_update()
              .filter(pk=ticket_id).first())
    if ticket is None:
        raise NotRateable(_("This ticket does not exist."))
    survey = Survey.objects.for_org(organization_id).filter(ticket=ticket).first()
    if survey is not None and survey.answered:
        raise AlreadyAnswered(_("This ticket has been rated already. Thank you!"))
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise NotRateable(_("This ticket can be rated once it is resolved."))
    if survey is None:  # no invitation (the portal's banner, the API): the ticket's now
        survey = Survey(organization_id=organization_id, ticket=ticket,
                        contact_id=ticket.contact_id, channel_id=ticket.channel_id,
                        channel_kind=ticket.origin, agent_id=ticket.assignee_id,
                        service_id=ticket.service_id, send_after=None)
    now = timezone.now()
    survey.score, survey.comment = value, comment
    survey.answered_at, survey.answered_via = now, via
    survey.status = SurveyStatus.ANSWERED
    survey.save()
    audit.record(ticket, Actor(label=f"customer:{via}"), "csat_received",
                 after={"score": value, "comment": comment[:200]})
    emit(organization_id, "csat.received", survey_payload(survey, ticket))
    return survey


def rateable(organization_id: int, ticket_id: int) -> bool:
    """Whether the portal's banner should ask: the ticket is resolved or closed and has no
    answer yet (one query)."""
    return Ticket.objects.for_org(organization_id).filter(
        pk=ticket_id, status__in=(Status.RESOLVED, Status.CLOSED)).exclude(
        csat__score__isnull=False).exists()


def survey_payload(survey: Survey, ticket: Ticket | None = None) -> dict[str, Any]:
    """The JSON of an answer in events, webhooks and the API."""
    ticket = ticket or survey.ticket
    return {
        "ticket_id": survey.ticket_id,
        "protocol": ticket.protocol,
        "score": survey.score,
        "comment": survey.comment,
        "channel_id": survey.channel_id,
        "channel_kind": survey.channel_kind,
        "agent_id": survey.agent_id,
        "service_id": survey.service_id,
        "contact_id": survey.contact_id,
        "status": survey.status,
        "answered_via": survey.answered_via,
        "sent_at": survey.sent_at.isoformat() if survey.sent_at else None,
        "answered_at": survey.answered_at.isoformat() if survey.answered_at else None,
    }
