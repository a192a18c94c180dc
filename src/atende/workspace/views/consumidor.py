"""Consumidor.gov.br in the workspace: the complaint's header beside its ticket (CG-2:
consumer, CPF masked without the permission, protocol, dates, area, the platform's deadline
as a clock; answers waiting for the API's hours) and the complaints page (open by deadline,
answered, evaluated, the resolution rate and the average score)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from atende.connectors.consumidor_gov import hours
from atende.connectors.consumidor_gov.figures import figures
from atende.connectors.consumidor_gov.models import FINISHED, Complaint
from atende.connectors.consumidor_gov.outbound import waiting, when_text
from atende.tenancy.models import Membership, Permission
from atende.tickets.models import Message
from atende.tickets.visibility import restrict
from atende.workspace.access import agent_required
from atende.workspace.sla_display import SlaText
from atende.workspace.views.ticket import load_ticket


def masked_cpf(cpf: str, membership: Membership) -> str:
    if not cpf or membership.has_permission(Permission.PERSONAL_DATA):
        return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}" if len(cpf) == 11 else cpf
    return f"***.{cpf[3:6]}.***-**" if len(cpf) == 11 else "***"


@agent_required
def complaint_panel(request: HttpRequest, ticket_id: int) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    ticket = load_ticket(request, ticket_id)
    complaint = Complaint.objects.for_org(membership.organization_id).filter(  # type: ignore[attr-defined]
        ticket=ticket).first()
    if complaint is None:
        raise Http404
    now = hours.current_time()
    clock = None
    if complaint.deadline_at and not complaint.closed and complaint.answered_at is None:
        clock = SlaText().running(_("Platform deadline"), complaint.deadline_at,
                                  complaint.opened_at or complaint.deadline_at, now)
    parked = Message.objects.filter(waiting(complaint.channel_id), ticket=ticket).count()
    return render(request, "workspace/consumidor_panel.html", {
        "ticket": ticket, "complaint": complaint, "clock": clock,
        "cpf": masked_cpf(complaint.consumer_cpf, membership),
        "parked": parked, "parked_when": when_text(hours.next_open(now), now) if parked else "",
    })


def visible_complaints(membership: Membership) -> QuerySet[Complaint]:
    """The organisation's complaints on tickets the agent may see."""
    qs = Complaint.objects.for_org(membership.organization_id)  # type: ignore[attr-defined]
    return restrict(qs, membership, prefix="ticket__")


@agent_required
def complaints_page(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    complaints = visible_complaints(membership)
    open_ones = list(complaints.exclude(status__in=FINISHED).filter(answered_at__isnull=True)
                     .select_related("ticket").order_by("deadline_at", "pk")[:200])
    words, now = SlaText(), hours.current_time()
    rows = [(c, words.running("", c.deadline_at, c.opened_at or c.deadline_at, now)
             if c.deadline_at else None) for c in open_ones]
    return render(request, "workspace/consumidor_complaints.html", {
        "rows": rows, "figures": figures(complaints),
        "answered": list(complaints.filter(answered_at__isnull=False).exclude(
            status__in=FINISHED).select_related("ticket").order_by("-answered_at")[:50]),
        "evaluated": list(complaints.filter(evaluated_at__isnull=False).select_related(
            "ticket").order_by("-evaluated_at")[:50]),
    })
