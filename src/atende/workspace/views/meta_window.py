"""The composer's Instagram/Messenger panel: the messaging window's time left, and a clear
warning once it has closed (nothing goes out until the customer writes again). Loaded
after the ticket screen (hx-trigger="load"), as WhatsApp's panel is."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from atende.connectors.meta_messaging.kinds import PLATFORMS
from atende.connectors.meta_messaging.outbound import closed_text
from atende.connectors.meta_messaging.window import HUMAN_AGENT_TAG, window
from atende.workspace.access import agent_required
from atende.workspace.views.ticket import load_ticket


@agent_required
def meta_window_panel(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = load_ticket(request, ticket_id)
    channel = ticket.channel
    if channel is None or channel.kind not in PLATFORMS:
        raise Http404
    state = window(channel, ticket.pk)
    context: dict[str, object] = {
        "ticket": ticket, "window_open": state.open, "app": PLATFORMS[channel.kind].label,
        "human_agent": state.tag == HUMAN_AGENT_TAG, "closed_text": closed_text(channel)}
    if state.open and state.closes_at:
        context["hours_left"] = max(
            0, int((state.closes_at - timezone.now()).total_seconds() // 3600))
    return render(request, "workspace/meta_window_panel.html", context)
