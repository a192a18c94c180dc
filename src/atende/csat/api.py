"""CSAT in the REST API: a ticket's survey, the answers for reports, and recording an
answer (an integration on the organisation's key, an external system on its API
channel's key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from atende.api_errors import ApiError, ErrorOut
from atende.channels.models import ChannelKind
from atende.connectors.api.channels import access_channel
from atende.csat.answers import AlreadyAnswered, AnswerError, NotRateable, record_answer
from atende.csat.answers import survey_payload as payload
from atende.csat.models import AnswerSource, Survey
from atende.tenancy.api_auth import org_key
from atende.tenancy.models import ApiKey, Permission
from atende.tickets import selectors
from atende.tickets.models import Ticket

router = Router(tags=["csat"])
ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                   409: ErrorOut, 429: ErrorOut}
PAGE_MAX = 200


class CsatOut(Schema):
    ticket_id: int
    protocol: str
    score: int | None
    comment: str
    channel_id: int | None
    channel_kind: str
    agent_id: int | None
    service_id: int | None
    contact_id: int
    status: str = Field(description="scheduled, sending, sent, not_sent, failed, cancelled "
                                    "or answered")
    answered_via: str = Field(description="link, reply, portal or api; empty until answered")
    sent_at: datetime | None
    answered_at: datetime | None


class CsatPage(Schema):
    items: list[CsatOut]
    next_before_id: int | None = Field(description="Pass as `before_id` for the next page")


class CsatIn(Schema):
    score: int = Field(description="1 (very bad) to 5 (excellent)")
    comment: str = Field(default="", max_length=2000)


class ChannelCsatIn(CsatIn):
    ticket_id: int


class CsatListQuery(Schema):
    since: datetime | None = Field(None, description="Answered at or after")
    until: datetime | None = Field(None, description="Answered before")
    channel_id: int | None = None
    agent_id: int | None = None
    service_id: int | None = None
    score: int | None = Field(None, ge=1, le=5)
    before_id: int | None = None
    limit: int = Field(50, ge=1, le=PAGE_MAX)


def _record(org_id: int, ticket_id: int, data: CsatIn, via: str) -> dict[str, Any]:
    try:
        survey = record_answer(org_id, ticket_id, data.score, data.comment, via=via)
    except AlreadyAnswered as exc:
        raise ApiError(409, exc.code, exc.message) from None
    except NotRateable as exc:
        raise ApiError(409, exc.code, exc.message) from None
    except AnswerError as exc:
        raise ApiError(400, exc.code, exc.message, exc.field) from None
    return payload(survey)


@router.get("/tickets/{ticket_id}/csat", response={200: CsatOut, **ERRORS},
            summary="A ticket's satisfaction survey")
def get_ticket_csat(request: HttpRequest, ticket_id: int) -> dict[str, Any]:
    """404 until the ticket has a survey (invitation scheduled or answer recorded)."""
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    ticket = selectors.ticket_for(key.organization_id, ticket_id)
    survey = Survey.objects.for_org(key.organization_id).filter(ticket=ticket).first()
    if survey is None:
        raise ApiError(404, "not_found", _("This ticket has no satisfaction survey."))
    return payload(survey, ticket)


@router.post("/tickets/{ticket_id}/csat", response={201: CsatOut, **ERRORS},
             summary="Record a ticket's satisfaction answer")
def post_ticket_csat(request: HttpRequest, ticket_id: int, data: CsatIn) -> Status[Any]:
    """One answer per ticket: a second one is refused with 409 `already_answered`; a ticket
    not resolved or closed with 409 `not_rateable`."""
    key = org_key(request, Permission.VIEW_ALL_TICKETS)
    ticket = selectors.ticket_for(key.organization_id, ticket_id)
    return Status(201, _record(key.organization_id, ticket.pk, data, AnswerSource.API))


@router.post("/channels/{channel_id}/csat", response={201: CsatOut, **ERRORS},
             summary="Record the answer to a survey sent on an API channel")
def post_channel_csat(request: HttpRequest, channel_id: int, data: ChannelCsatIn
                      ) -> Status[Any]:
    """For the external system that received `csat.invitation`: the channel's key may rate
    only tickets of its channel."""
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    channel = access_channel(key, channel_id, kind=ChannelKind.API)
    if not Ticket.objects.for_org(key.organization_id).filter(
            pk=data.ticket_id, channel=channel).exists():
        raise Ticket.DoesNotExist
    return Status(201, _record(key.organization_id, data.ticket_id, data, AnswerSource.REPLY))


@router.get("/csat", response={200: CsatPage, **ERRORS},
            summary="Satisfaction answers, newest first (reports)")
def list_csat(request: HttpRequest, q: Query[CsatListQuery]) -> dict[str, Any]:
    key = org_key(request, Permission.REPORTS, Permission.VIEW_ALL_TICKETS)
    rows = (Survey.objects.for_org(key.organization_id).filter(answered_at__isnull=False)
            .select_related("ticket").order_by("-id"))
    if q.since is not None:
        rows = rows.filter(answered_at__gte=q.since)
    if q.until is not None:
        rows = rows.filter(answered_at__lt=q.until)
    for name in ("channel_id", "agent_id", "service_id", "score"):
        value = getattr(q, name)
        if value is not None:
            rows = rows.filter(**{name: value})
    if q.before_id is not None:
        rows = rows.filter(pk__lt=q.before_id)
    found = list(rows[:q.limit + 1])
    more = len(found) > q.limit
    found = found[:q.limit]
    return {"items": [payload(s) for s in found],
            "next_before_id": found[-1].pk if more and found else None}
