"""The composer's WhatsApp panel (WA-4, WA-5): the 24-hour window's time left and, once it
has closed, the approved templates — the only thing the provider will still deliver.

Loaded after the ticket screen (hx-trigger="load"), so the screen's own query count and
time never wait on the provider's template list."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from atende.channels.models import ChannelKind
from atende.connectors.whatsapp.client import ProviderError
from atende.connectors.whatsapp.outbound import describe_error
from atende.connectors.whatsapp.templates import approved_templates, send_template
from atende.connectors.whatsapp.window import window_state
from atende.tickets.errors import TicketError
from atende.tickets.services.actor import Actor
from atende.workspace.access import agent_required
from atende.workspace.views.ticket import load_ticket


@agent_required
def whatsapp_panel(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """GET: the panel. POST template=<name>|<language>: send that template."""
    ticket = load_ticket(request, ticket_id)
    channel = ticket.channel
    if channel is None or channel.kind != ChannelKind.WHATSAPP:
        raise Http404
    context: dict[str, object] = {"ticket": ticket}
    if request.method == "POST":
        name, _sep, language = request.POST.get("template", "").partition("|")
        try:
            send_template(ticket, name, language, [], Actor(user=request.user))  # type: ignore[arg-type]
            context["sent"] = True
        except TicketError as exc:
            context["error"] = exc.message
        except ProviderError as exc:
            context["error"] = describe_error(exc)
    state = window_state(ticket, channel)
    context["window_open"] = state.open
    if state.open and state.closes_at:
        context["minutes_left"] = int((state.closes_at - timezone.now()).total_seconds() // 60)
    try:
        context["templates"] = approved_templates(channel)
    except ProviderError as exc:
        context["templates"] = []
        context.setdefault("error", describe_error(exc))
    return render(request, "workspace/whatsapp_panel.html", context)
