"""Inviting the customer of a resolved ticket: scheduled when the ticket is resolved, sent
by a task after the channel's delay, on the channel the customer used.

The survey row is the schedule: a task enqueued for its moment sends it, and the
periodic sweep (`send_due_invitations`, every minute) sends any a restart lost. Claiming
the row (`scheduled` → `sending`) makes a second task for the same survey do nothing."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from atende.backoff import next_delay
from atende.channels.connector import ContactRef, CsatInvitation, SendResult
from atende.channels.models import Channel
from atende.channels.registry import UnknownChannelKind, get_connector
from atende.contacts.models import ContactIdentity
from atende.csat.config import CsatSettings, fill, language_of, score_labels
from atende.csat.models import Survey, SurveyStatus
from atende.csat.tokens import rating_url
from atende.tickets.models import Status, ThreadReference, Ticket
from atende.tickets.services import audit
from atende.tickets.services.actor import Actor

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
# A claim older than this was left by a worker that died mid-send: it is sent again (a
# survey may then arrive twice; never not at all).
STALE_CLAIM = timedelta(minutes=10)
SYSTEM = Actor(label="system:csat")
# The identity an invitation goes to on each kind of channel (else the contact's first).
IDENTITY_FOR_KIND = {"email": "email", "whatsapp": "whatsapp", "telegram": "telegram"}
_DONE = (SurveyStatus.SENT, SurveyStatus.ANSWERED, SurveyStatus.NOT_SENT,
         SurveyStatus.FAILED, SurveyStatus.SENDING)


def on_status_changed(organization_id: int, event_type: str, payload: dict[str, Any]) -> None:
    """`ticket.status_changed` listener (inside the change's transaction)."""
    status = payload.get("status")
    if status == Status.RESOLVED or (status == Status.CLOSED
                                     and payload.get("previous_status") != Status.RESOLVED):
        schedule(organization_id, int(payload["id"]))
    elif status in (Status.NEW, Status.OPEN, Status.PENDING):
        # Reopened before the invitation left: it waits for the next resolution.
        Survey.objects.for_org(organization_id).filter(
            ticket_id=int(payload["id"]), status=SurveyStatus.SCHEDULED,
        ).update(status=SurveyStatus.CANCELLED, send_after=None)


def schedule(organization_id: int, ticket_id: int) -> Survey | None:
    """The ticket's survey, scheduled after its channel's delay when the channel's survey
    is on; None when it is off or the ticket was surveyed already. Idempotent: a survey
    already sent or answered is left alone. Call inside the resolving transaction."""
    ticket = (Ticket.objects.for_org(organization_id).select_related("channel")
              .filter(pk=ticket_id).first())
    if ticket is None or ticket.channel is None or not ticket.channel.is_active:
        return None
    config = CsatSettings.of(ticket.channel)
    if not config.enabled:
        return None
    send_after = timezone.now() + timedelta(minutes=config.delay_minutes)
    survey = Survey.objects.for_org(organization_id).select_for_update().filter(
        ticket=ticket).first()
    if survey is not None and survey.status in _DONE:
        return None
    if survey is None:
        survey = Survey(organization_id=organization_id, ticket=ticket,
                        contact_id=ticket.contact_id)
    survey.channel, survey.channel_kind = ticket.channel, ticket.channel.kind
    survey.agent_id, survey.service_id = ticket.assignee_id, ticket.service_id
    survey.status, survey.send_after = SurveyStatus.SCHEDULED, send_after
    survey.save()
    transaction.on_commit(partial(_enqueue, survey.pk, send_after))
    return survey


def _enqueue(survey_id: int, send_after: Any) -> None:
    from atende.csat.tasks import send_invitation

    if send_after <= timezone.now():
        send_invitation.enqueue(survey_id)
    else:
        send_invitation.using(run_after=send_after).enqueue(survey_id)


def due_survey_ids(limit: int = 200) -> list[int]:
    """Invitations whose moment has come (their task lost, or not run yet), and claims a
    dead worker left."""
    now = timezone.now()
    Survey.objects.filter(status=SurveyStatus.SENDING, claimed_at__lt=now - STALE_CLAIM) \
        .update(status=SurveyStatus.SCHEDULED)
    return list(Survey.objects.filter(status=SurveyStatus.SCHEDULED, send_after__lte=now)
                .order_by("send_after").values_list("pk", flat=True)[:limit])


def send_due_invitations() -> int:
    ids = due_survey_ids()
    for survey_id in ids:
        try:
            send(survey_id)
        except Exception:  # one survey's fault must not keep the others waiting
            logger.exception("CSAT invitation %s not sent", survey_id)
    return len(ids)


def _claim(survey_id: int) -> Survey | None:
    now = timezone.now()
    with transaction.atomic():
        # Lock the survey row alone: PostgreSQL refuses FOR UPDATE on the nullable side of
        # the channel's outer join.
        survey = (Survey.objects.select_for_update(of=("self",)).select_related(
            "ticket", "ticket__organization", "ticket__contact", "channel")
            .filter(pk=survey_id, status=SurveyStatus.SCHEDULED, send_after__lte=now).first())
        if survey is None:
            return None
        if survey.ticket.status not in (Status.RESOLVED, Status.CLOSED):
            survey.status, survey.send_after = SurveyStatus.CANCELLED, None
            survey.save(update_fields=["status", "send_after"])
            return None
        survey.status, survey.claimed_at = SurveyStatus.SENDING, now
        survey.attempts += 1
        survey.save(update_fields=["status", "claimed_at", "attempts"])
    return survey


def send(survey_id: int) -> str | None:
    """Send one due invitation through its channel's connector; returns the survey's new
    status, or None when there was nothing to send (not due, taken by another task,
    answered, or the ticket reopened)."""
    survey = _claim(survey_id)
    if survey is None:
        return None
    channel = survey.channel
    invitation = build_invitation(survey)
    result: SendResult | None = None
    if channel is not None and channel.is_active:
        try:
            result = get_connector(channel.kind).invite_csat(channel, invitation)
        except UnknownChannelKind:
            result = None
        except Exception as exc:  # the connector's bug: kept on the survey, tried again
            logger.exception("CSAT invitation %s failed in its connector", survey.pk)
            result = SendResult(ok=False, error=str(exc)[:500], retryable=True)
    return _finish(survey, invitation, result)


def _finish(survey: Survey, invitation: CsatInvitation, result: SendResult | None) -> str:
    now = timezone.now()
    with transaction.atomic():
        current = Survey.objects.select_for_update().get(pk=survey.pk)
        if current.status != SurveyStatus.SENDING:  # answered meanwhile (the link)
            return str(current.status)
        if result is None:
            current.status, current.failure = SurveyStatus.NOT_SENT, ""
        elif result.ok:
            current.status, current.sent_at, current.failure = SurveyStatus.SENT, now, ""
        elif result.retryable and current.attempts < MAX_ATTEMPTS:
            current.status = SurveyStatus.SCHEDULED
            current.send_after = now + max(next_delay(current.attempts),
                                           timedelta(seconds=result.retry_after or 0))
            current.failure = result.error[:500]
        else:
            current.status, current.failure = SurveyStatus.FAILED, result.error[:500]
        current.recipient = (invitation.recipient.value if invitation.recipient else "")[:255]
        current.language = invitation.language
        current.save()
        if current.status in (SurveyStatus.SENT, SurveyStatus.FAILED):
            audit.record(survey.ticket, SYSTEM, "csat_invited", after={
                "channel_id": survey.channel_id, "sent": current.status == SurveyStatus.SENT,
                "error": current.failure})
        if current.status == SurveyStatus.SCHEDULED:
            transaction.on_commit(partial(_enqueue, current.pk, current.send_after))
    return str(current.status)


def build_invitation(survey: Survey) -> CsatInvitation:
    ticket = survey.ticket
    language = language_of(ticket.organization.language)
    channel = survey.channel
    config = CsatSettings.of(channel) if channel is not None else CsatSettings()
    text = fill(config.wording(language), protocol=ticket.protocol, subject=ticket.subject,
                name=ticket.contact.name)
    keys: tuple[str, ...] = ()
    if channel is not None:
        keys = tuple(ThreadReference.objects.for_org(ticket.organization_id)
                     .filter(ticket=ticket, channel=channel).values_list("key", flat=True))
    return CsatInvitation(
        survey_id=survey.pk, organization_id=survey.organization_id, ticket_id=ticket.pk,
        protocol=ticket.protocol, subject=ticket.subject,
        recipient=_recipient(survey, channel), language=language, text=text,
        url=rating_url(survey.organization_id, survey.pk), scores=score_labels(language),
        thread_keys=keys)


def _recipient(survey: Survey, channel: Channel | None) -> ContactRef | None:
    identities = ContactIdentity.objects.for_org(survey.organization_id).filter(
        contact_id=survey.contact_id).order_by("created_at")
    wanted = IDENTITY_FOR_KIND.get(channel.kind if channel else "")
    found = (identities.filter(kind=wanted).first() if wanted else None) or identities.first()
    if found is None:
        return None
    return ContactRef(found.kind, found.value, survey.ticket.contact.name)
