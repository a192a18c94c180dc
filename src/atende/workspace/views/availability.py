"""The agent's presence (online / away / offline), set by the workspace's top bar."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.tenancy.models import Presence
from atende.tickets.services.assignment import record_heartbeat, set_presence
from atende.workspace.access import agent_required


@require_POST
@agent_required
def set_availability(request: HttpRequest) -> HttpResponse:
    """POST presence=online|away|offline → {"presence": …}. Coming online hands the agent
    the waiting tickets of their auto-assign services."""
    value = request.POST.get("presence", "")
    if value not in Presence.values:
        return JsonResponse({"error": _("Choose online, away or offline.")}, status=400)
    set_presence(request.membership, value)  # type: ignore[attr-defined]
    return JsonResponse({"presence": value})


@require_POST
@agent_required
def heartbeat(request: HttpRequest) -> HttpResponse:
    """Sent by every open workspace page (workspace.js); an agent whose pages stop beating
    is set offline by jobs.expire_absent_agents. Answers the current presence, which that
    job may have changed while the computer slept."""
    membership = request.membership  # type: ignore[attr-defined]
    record_heartbeat(membership)
    return JsonResponse({"presence": membership.presence})
