"""What an agent does on the ticket screen: answer, write a note, change, finalize."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.channels.models import Channel
from atende.connectors.portal.channels import category_names
from atende.ids import parse_id
from atende.tenancy.models import Membership, Service
from atende.tickets.errors import TicketError
from atende.tickets.models import FinalizationTag, Status
from atende.tickets.services.actor import Actor
from atende.tickets.services.changes import finalize, update_ticket
from atende.tickets.services.replies import NewAttachment, post_message
from atende.tickets.visibility import sees_every_ticket, visible_tickets
from atende.workspace.access import agent_required
from atende.workspace.views.ticket import load_ticket, screen_context


def _changed_since(seen: str, current: datetime) -> bool:
    try:
        return datetime.fromisoformat(seen) < current
    except ValueError:
        return False


@require_POST
@agent_required
def reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The composer (HTMX): answers the customer or adds a note, then returns an empty
    composer. A ticket changed since the composer opened gets a warning and a "send
    anyway" first; errors come back in the composer with what was typed kept."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    ticket = load_ticket(request, ticket_id)
    text = str(request.POST.get("text", ""))
    internal = request.POST.get("mode") == "note"
    files = request.FILES.getlist("attachments")
    context = screen_context(membership, ticket)
    context.update(text=text, mode="note" if internal else "reply",
                   channel_choice=request.POST.get("channel", ""))
    limit = settings.ATTACHMENT_MAX_BYTES
    too_big = [f.name for f in files if (f.size or 0) > limit]
    if too_big:
        context["error"] = _("“%(name)s” is larger than %(limit)d MB. Send a smaller file or "
                             "share a link.") % {"name": too_big[0], "limit": limit // 2**20}
        return render(request, "workspace/ticket.html#composer", context)
    if not text.strip() and not files:
        context["error"] = _("Write a message or attach a file.")
        return render(request, "workspace/ticket.html#composer", context)
    if not request.POST.get("confirm") and _changed_since(str(request.POST.get("seen", "")),
                                                          ticket.updated_at):
        context["stale"] = True
        return render(request, "workspace/ticket.html#composer", context)
    channel = None
    channel_id = parse_id(str(request.POST.get("channel", "")))
    if channel_id is not None and not internal:
        channel = Channel.objects.for_org(membership.organization_id).filter(
            pk=channel_id).first()
    try:
        post_message(ticket, Actor(user=request.user), text=text,  # type: ignore[arg-type]
                     internal=internal, channel=channel,
                     attachments=[NewAttachment(f.name or "attachment", f.content_type or "",
                                                f) for f in files])
    except TicketError as exc:
        context["error"] = exc.message
        return render(request, "workspace/ticket.html#composer", context)
    ticket = load_ticket(request, ticket_id)
    fresh = screen_context(membership, ticket)
    fresh["sent"] = _("Internal note saved.") if internal else _("Answer sent.")
    response = render(request, "workspace/ticket.html#composer", fresh)
    response["HX-Trigger"] = "ticket-changed"
    return response


@require_POST
@agent_required
def change(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Status, priority, assignee, service, category and tags from the header form; reopen
    too."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    ticket = load_ticket(request, ticket_id)
    org_id = membership.organization_id
    post = request.POST
    # The form carries the values it was drawn with: only fields the agent touched are
    # applied, so a stale form never undoes a colleague's change made meanwhile.
    touched = {name for name in ("status", "priority", "assignee", "service", "tags",
                                 "category")
               if name in post and post[name] != post.get(f"initial_{name}")}
    kwargs: dict[str, object] = {}
    if post.get("reopen"):
        kwargs["status"] = Status.OPEN
    if "status" in touched:
        kwargs["status"] = post["status"]
    if "priority" in touched:
        kwargs["priority"] = post["priority"]
    if "assignee" in touched:
        value = post["assignee"]
        user_id = parse_id(value)
        agent = Membership.objects.for_org(org_id).filter(
            user_id=user_id, is_active=True).select_related("user").first() \
            if user_id is not None else None
        if value and agent is None:
            messages.error(request, _("This agent is not in the organisation."))
            return redirect("workspace:ticket", ticket_id=ticket.pk)
        kwargs["assignee"] = agent.user if agent else None
    if "service" in touched:
        service_id = parse_id(post["service"])
        kwargs["service"] = Service.objects.for_org(org_id).filter(pk=service_id).first() \
            if service_id is not None else None
    if "category" in touched:
        # Only from the organisation's managed list (or none).
        if post["category"] and post["category"] not in category_names(org_id):
            messages.error(request, _("Choose a category from the list."))
            return redirect("workspace:ticket", ticket_id=ticket.pk)
        kwargs["category"] = post["category"]
    if "tags" in touched:
        kwargs["tags"] = [t for t in post["tags"].split(",") if t.strip()]
    try:
        update_ticket(ticket, Actor(user=request.user), **kwargs)  # type: ignore[arg-type]
    except TicketError as exc:
        messages.error(request, exc.message)
    if (not sees_every_ticket(membership)
            and not visible_tickets(membership).filter(pk=ticket.pk).exists()):
        # Transferred out of the agent's reach: the ticket screen would now be a 404.
        messages.success(request, _("Ticket %(protocol)s transferred.")
                         % {"protocol": ticket.protocol})
        return redirect("workspace:queue")
    return redirect("workspace:ticket", ticket_id=ticket.pk)


@require_POST
@agent_required
def finalize_ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Finish the attendance with a finalization tag; it leaves the agent's open views."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    ticket = load_ticket(request, ticket_id)
    tag_id = parse_id(str(request.POST.get("finalization_tag", "")))
    tag = FinalizationTag.objects.for_org(membership.organization_id).filter(
        pk=tag_id, is_active=True).first() if tag_id is not None else None
    if tag is None:
        messages.error(request, _("Choose a finalization tag."))
        return redirect("workspace:ticket", ticket_id=ticket.pk)
    try:
        finalize(ticket, Actor(user=request.user), tag)  # type: ignore[arg-type]
    except TicketError as exc:
        messages.error(request, exc.message)
        return redirect("workspace:ticket", ticket_id=ticket.pk)
    messages.success(request, _("Ticket %(protocol)s finalized.") % {"protocol": ticket.protocol})
    return redirect("workspace:queue")
