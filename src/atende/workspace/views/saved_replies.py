"""Saved replies for the composer: the organisation's active replies, already filled in for
one ticket and the signed-in agent."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from atende.automation.models import SavedReply
from atende.tickets.saved_replies import render_saved_reply
from atende.tickets.visibility import visible_tickets
from atende.workspace.access import agent_required


@require_GET
@agent_required
def saved_replies_for_ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """GET → {"replies": [{"id", "title", "text"}]}, titles in order; constant queries."""
    org_id = request.membership.organization_id  # type: ignore[attr-defined]
    ticket = (visible_tickets(request.membership)  # type: ignore[attr-defined]
              .select_related("contact", "service", "organization").filter(pk=ticket_id).first())
    if ticket is None:
        raise Http404
    replies = SavedReply.objects.for_org(org_id).filter(is_active=True).order_by("title")
    return JsonResponse({"replies": [
        {"id": r.pk, "title": r.title, "text": render_saved_reply(r, ticket, request.user)}  # type: ignore[arg-type]
        for r in replies
    ]})
