"""The complaint's own record beside its ticket: header, platform status (CG-5) and the
evaluation (CG-6). Every write here is idempotent: a sync may read the same state again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.channels.models import Channel
from atende.connectors.consumidor_gov.client import parse_time
from atende.connectors.consumidor_gov.inbound import Step, as_dict, description, normalized
from atende.connectors.consumidor_gov.models import FINISHED, Complaint, PlatformStatus
from atende.tickets.models import OPEN_STATUSES, Direction, Message, Status, Ticket
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import update_ticket

ACTOR = Actor(label="Consumidor.gov.br")
# The platform's status descriptions (normalised) → the seed's statuses.
STATUSES = {
    "aberta": PlatformStatus.OPEN,
    "em analise pelo gestor": PlatformStatus.IN_ANALYSIS,
    "respondida": PlatformStatus.ANSWERED,
    "finalizada avaliada": PlatformStatus.EVALUATED,
    "finalizada e avaliada": PlatformStatus.EVALUATED,
    "finalizada nao avaliada": PlatformStatus.NOT_EVALUATED,
    "cancelada": PlatformStatus.CANCELLED,
    "encerrada": PlatformStatus.NOT_EVALUATED,
}
# A status only moves forward: a listing read before an answer went out does not undo it.
RANK = {PlatformStatus.OPEN: 0, PlatformStatus.IN_ANALYSIS: 1, PlatformStatus.ANSWERED: 2,
        PlatformStatus.EVALUATED: 3, PlatformStatus.NOT_EVALUATED: 3,
        PlatformStatus.CANCELLED: 3}


def advance(complaint: Complaint, status: str) -> bool:
    """Move the status forward (never back); returns whether it moved."""
    if RANK[PlatformStatus(status)] <= RANK[PlatformStatus(complaint.status)]:
        return False
    complaint.status = status
    return True


def upsert(channel: Channel, detail: dict[str, Any]) -> Complaint:
    """The complaint's header from the platform's detail (created on first sight)."""
    person = as_dict(detail.get("reclamante"))
    cpf = "".join(c for c in str(person.get("documento") or "") if c.isdigit())[:11]
    city = ", ".join(p for p in (str(person.get("cidade") or ""),
                                 str(person.get("estado") or "")) if p)
    header = {
        "consumer_name": str(person.get("nome") or "")[:200], "consumer_cpf": cpf,
        "consumer_email": _first_email(person)[:254], "consumer_city": city[:120],
        "area": description(detail.get("area"))[:200],
        "subject": description(detail.get("assunto"))[:200],
        "problem": description(detail.get("problema"))[:200],
        "opened_at": parse_time(detail.get("dataAbertura")),
        "deadline_at": parse_time(detail.get("prazo")),
    }
    with transaction.atomic():
        complaint, _created = Complaint.objects.select_for_update().get_or_create(
            channel=channel, protocol=str(detail["protocolo"])[:40],
            defaults={"organization_id": channel.organization_id, **header})
        for name, value in header.items():
            setattr(complaint, name, value)
        platform = STATUSES.get(normalized(description(detail.get("situacao"))))
        if platform is not None:
            advance(complaint, platform)
        complaint.synced_at = timezone.now()
        complaint.save()
    return complaint


def _first_email(person: dict[str, Any]) -> str:
    for item in person.get("emails") or []:
        if isinstance(item, dict) and item.get("email"):
            return str(item["email"])
    return ""


def of_ticket(ticket_id: int) -> Complaint | None:
    return Complaint.objects.filter(ticket_id=ticket_id).order_by("pk").first()


def link_ticket(complaint: Complaint, ticket: Ticket) -> None:
    if complaint.ticket_id != ticket.pk:
        Complaint.objects.filter(pk=complaint.pk).update(ticket=ticket)
        complaint.ticket = ticket


def consumer_wrote(complaint: Complaint, ticket: Ticket, reopened: bool) -> None:
    """A consumer's reply reopened the finished attendance: the next attendance of the
    protocol goes back to the agent who answered before (CG-4)."""
    if not reopened:
        return
    Complaint.objects.filter(pk=complaint.pk).update(attendances=complaint.attendances + 1)
    complaint.attendances += 1
    agent = complaint.last_agent
    if agent is not None and ticket.assignee_id != agent.pk:
        update_ticket(ticket, ACTOR, assignee=agent)


def record_evaluation(channel: Channel, complaint: Complaint, step: Step) -> Message | None:
    """The consumer's evaluation into the history, the complaint finished (CG-6), its
    ticket resolved. Idempotent on the trâmite."""
    evaluation = step.evaluation or {}
    resolved = normalized(evaluation.get("resolvida")) in ("s", "sim", "true", "resolvida")
    try:
        score: int | None = int(str(evaluation.get("nota")))
    except ValueError:
        score = None
    if score is not None and not 1 <= score <= 5:
        score = None
    comment = "\n".join(v for label, v in step.texts if v.strip())
    ticket = complaint.ticket
    with transaction.atomic():
        Complaint.objects.filter(pk=complaint.pk).update(
            status=PlatformStatus.EVALUATED, evaluated_at=step.at or timezone.now(),
            resolved=resolved, score=score, evaluation_comment=comment)
        complaint.refresh_from_db()
        if ticket is None:
            return None
        text = _("The consumer evaluated the complaint on Consumidor.gov.br: %(result)s, "
                 "score %(score)s of 5.") % {
            "result": _("resolved") if resolved else _("not resolved"),
            "score": score if score is not None else "—"}
        if comment:
            text += "\n" + _("Comment: %(comment)s") % {"comment": comment}
        message = _note(channel, ticket, f"{step.protocol}:{step.code}", text, step.at)
        if message is not None and ticket.status in OPEN_STATUSES:
            update_ticket(ticket, ACTOR, status=Status.RESOLVED)
    return message


def record_company_step(channel: Channel, complaint: Complaint, step: Step) -> Message | None:
    """A company step the platform shows: our own answer (already in the timeline, under
    this id) is left alone; one written on the platform's website becomes a note."""
    external_id = f"{step.protocol}:{step.code}"
    if Message.objects.filter(channel=channel, external_id=external_id).exists():
        return None
    if complaint.ticket is None:
        return None
    text = _("Answered on the Consumidor.gov.br website:") + "\n" + step.text()
    if complaint.answered_at is None:
        Complaint.objects.filter(pk=complaint.pk).update(answered_at=step.at or timezone.now())
    return _note(channel, complaint.ticket, external_id, text, step.at)


def _note(channel: Channel, ticket: Ticket, external_id: str, text: str,
          at: datetime | None) -> Message | None:
    """An internal note keyed by the trâmite (unique per channel): written once."""
    if Message.objects.filter(channel=channel, external_id=external_id).exists():
        return None
    return Message.objects.create(
        organization_id=ticket.organization_id, ticket=ticket, direction=Direction.NOTE,
        channel=channel, text=text, external_id=external_id, created_at=at or timezone.now())


def answered(complaint: Complaint, agent_id: int | None, at: datetime) -> None:
    """Our answer went out: "Respondida" (a later one is a complement and changes
    nothing), and its author is the agent a consumer's reply goes back to."""
    updates: dict[str, Any] = {}
    if advance(complaint, PlatformStatus.ANSWERED):
        updates["status"] = complaint.status
    if complaint.answered_at is None:
        updates["answered_at"] = at
    if agent_id is not None:
        updates["last_agent_id"] = agent_id
    if updates:
        Complaint.objects.filter(pk=complaint.pk).update(**updates)


def is_closed(complaint: Complaint | None) -> bool:
    return complaint is not None and (complaint.evaluated_at is not None
                                      or complaint.status in FINISHED)
