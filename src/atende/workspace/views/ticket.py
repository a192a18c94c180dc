"""The ticket screen: header, consolidated timeline, composer, actions, tracking."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_POST

from atende.connectors.models import Channel
from atende.tenancy.models import Membership, Service
from atende.tickets.models import (
    Attachment,
    AuditEntry,
    CustomField,
    FinalizationTag,
    Message,
    Priority,
    Status,
    Ticket,
)
from atende.tickets.selectors import ticket_for, timeline
from atende.workspace import presence as presence_store
from atende.workspace.access import agent_required
from atende.workspace.tracking import describe

# Served inline for the preview; anything else (SVG included: it can carry script) downloads.
PREVIEW_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def load_ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    """The ticket in the agent's organisation; another organisation's id is a 404."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    try:
        return ticket_for(membership.organization_id, ticket_id)
    except Ticket.DoesNotExist as exc:
        raise Http404 from exc


def live_context(membership: Membership, ticket: Ticket) -> dict[str, Any]:
    """What the header, the timeline and the tracking tab need (also the live refresh)."""
    org_id = membership.organization_id
    agents = list(Membership.objects.for_org(org_id).filter(is_active=True)
                  .select_related("user").order_by("user__name", "user__email"))
    services = list(Service.objects.for_org(org_id).filter(is_active=True).order_by("name"))
    names = {"assignee": {m.user_id: str(m.user) for m in agents},
             "service": {s.pk: s.name for s in services}}
    items = timeline(ticket)
    entries = [i for i in items if isinstance(i, AuditEntry)]
    for entry in entries:
        entry.description = describe(entry, names)  # type: ignore[attr-defined]
    fields = {f.key: f for f in CustomField.objects.for_org(org_id)}
    custom_values = [(fields[k].label if k in fields else k, v)
                     for k, v in sorted(ticket.custom_fields.items())]
    return {
        "ticket": ticket,
        "items": items,
        "tracking": entries,
        "agents": agents,
        "services": services,
        "custom_values": custom_values,
        "tags_text": ", ".join(t.name for t in ticket.tags.all()),
    }


def screen_context(membership: Membership, ticket: Ticket) -> dict[str, Any]:
    org_id = membership.organization_id
    context = live_context(membership, ticket)
    used = Message.objects.for_org(org_id).filter(ticket__contact_id=ticket.contact_id) \
        .exclude(channel=None).values("channel_id")
    context.update(
        reply_channels=list(Channel.objects.for_org(org_id).filter(is_active=True)
                            .filter(Q(pk__in=used) | Q(pk=ticket.channel_id)).order_by("name")),
        finalization_tags=list(FinalizationTag.objects.for_org(org_id).filter(is_active=True)
                               .order_by("name")),
        earlier=list(Ticket.objects.for_org(org_id).filter(contact_id=ticket.contact_id)
                     .exclude(pk=ticket.pk).order_by("-created_at")[:10]),
        statuses=Status.choices,
        priorities=Priority.choices,
        seen=ticket.updated_at.isoformat(),
    )
    return context


@agent_required
def ticket_screen(request: HttpRequest, ticket_id: int) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    ticket = load_ticket(request, ticket_id)
    return render(request, "workspace/ticket.html", screen_context(membership, ticket))


@agent_required
def ticket_live(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Header, timeline and tracking again, for the live refresh (the composer is kept)."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    ticket = load_ticket(request, ticket_id)
    return render(request, "workspace/ticket.html#ticket-live",
                  live_context(membership, ticket))


@require_POST
@agent_required
def presence(request: HttpRequest, ticket_id: int) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    if not Ticket.objects.for_org(membership.organization_id).filter(pk=ticket_id).exists():
        raise Http404
    if request.POST.get("leave"):
        presence_store.leave(membership.organization_id, ticket_id, membership.user_id)
        return HttpResponse(status=204)
    others = presence_store.beat(membership.organization_id, ticket_id, membership.user_id,
                                 str(request.user))
    return render(request, "workspace/ticket.html#presence", {"others": others})


@agent_required
def attachment(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    """Files only for agents of the attachment's organisation."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    try:
        item = Attachment.objects.for_org(membership.organization_id).get(pk=attachment_id)
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc
    inline = request.GET.get("inline") == "1" and item.content_type in PREVIEW_TYPES
    try:
        handle = item.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle, as_attachment=not inline, filename=item.filename,
                            content_type=item.content_type if inline
                            else "application/octet-stream")
    response["Cache-Control"] = "private, max-age=3600"
    return response
