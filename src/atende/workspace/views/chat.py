"""The agent's side of a website chat on the ticket screen: the typing signal."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from atende.channels.models import ChannelKind
from atende.connectors.webchat.indicators import signal_typing
from atende.tenancy.models import Membership
from atende.tickets.visibility import visible_tickets
from atende.workspace.access import agent_required


@require_POST
@agent_required
def chat_typing(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The agent is typing (or stopped) in a chat's composer: the visitor sees it."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    if not visible_tickets(membership).filter(
            pk=ticket_id, channel__kind=ChannelKind.WEBCHAT).exists():
        raise Http404
    signal_typing(membership.organization_id, ticket_id, "agent",
                  request.POST.get("typing") != "0")
    return HttpResponse(status=204)
