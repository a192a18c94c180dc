"""The ticket screen: header, consolidated timeline, composer, actions, tracking."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import formats, timezone
from django.views.decorators.http import require_POST

from atende.channels.models import Channel
from atende.channels.registry import UnknownChannelKind, get_connector
from atende.connectors.portal.channels import category_names
from atende.connectors.voice.timeline import attach_calls
from atende.csat.models import Survey
from atende.stored_files import file_response
from atende.tenancy.models import Membership
from atende.tickets.models import (
    Attachment,
    AuditEntry,
    DeliveryStatus,
    Direction,
    Message,
    Priority,
    Status,
    Ticket,
)
from atende.tickets.selectors import (
    TIMELINE_PAGE,
    BadCursor,
    TimelineKey,
    ticket_for,
    timeline_page,
)
from atende.tickets.visibility import restrict, visible_tickets
from atende.workspace import presence as presence_store
from atende.workspace.access import agent_required
from atende.workspace.message_bodies import (
    allowed_images,
    attach_bodies,
    csp_with_images,
    raw_mail_download,
    raw_mail_names,
)
from atende.workspace.org_lists import org_lists
from atende.workspace.sla_display import ticket_clocks
from atende.workspace.tracking import describe

# Served inline for the preview (images, a call's voicemail in an <audio> player); anything
# else (SVG included: it can carry script) downloads.
PREVIEW_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "audio/wav"}


def load_ticket(request: HttpRequest, ticket_id: int) -> Ticket:
    """The ticket, if the agent may see it; another organisation's id, or a ticket outside
    the agent's services and assignments, is a 404."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    try:
        return ticket_for(membership.organization_id, ticket_id, visible_to=membership)
    except Ticket.DoesNotExist as exc:
        raise Http404 from exc


# The tracking tab lists this many newest audit entries (the timeline pages the rest).
TRACKING_LIMIT = 200
# A live refresh re-renders from the oldest entry the agent loaded, up to this many.
LIVE_LIMIT = 500


def _key(request: HttpRequest, name: str) -> TimelineKey | None:
    """A timeline position from the query string; a malformed one means "none"."""
    raw = request.GET.get(name, "")
    try:
        return TimelineKey.decode(raw) if raw else None
    except BadCursor:
        return None


def timeline_context(membership: Membership, ticket: Ticket, names: dict[str, Any],
                     show_images: frozenset[int] | set[int], *,
                     before: TimelineKey | None = None, since: TimelineKey | None = None,
                     newest_audit: list[AuditEntry] | None = None,
                     ) -> dict[str, Any]:
    """One page of the timeline, its bodies rendered and system entries described."""
    items, has_older = timeline_page(ticket, before=before, since=since,
                                     limit=LIVE_LIMIT if since else TIMELINE_PAGE,
                                     newest_audit=newest_audit)
    image_origins = attach_bodies(membership.organization_id, items, set(show_images))
    if ticket.origin == "voice":
        attach_calls(membership.organization_id, items)
    # Labels translated once per page: `get_FOO_display` rebuilds the translated choices on
    # every call (two per message, a cost that grew with the page's messages).
    directions = {k: str(label) for k, label in Direction.choices}
    deliveries = {k: str(label) for k, label in DeliveryStatus.choices}
    for item in items:
        item.timeline_key = TimelineKey.of(item).encode()  # type: ignore[union-attr]
        # What the template's `date` filters printed (in the active time zone and language),
        # without their per-call filter machinery: two per entry.
        local = timezone.localtime(item.created_at)
        item.created_iso = local.isoformat()  # type: ignore[union-attr]
        item.created_text = formats.date_format(  # type: ignore[union-attr]
            local, "SHORT_DATETIME_FORMAT")
        if isinstance(item, AuditEntry):
            item.description = describe(item, names)  # type: ignore[attr-defined]
        else:
            item.direction_label = directions.get(item.direction, item.direction)  # type: ignore[attr-defined]
            item.delivery_label = deliveries.get(item.delivery_status,  # type: ignore[attr-defined]
                                                 item.delivery_status)
    return {
        "ticket": ticket,
        "items": items,
        "older_cursor": items[0].timeline_key if has_older and items else "",  # type: ignore[union-attr]
        "image_origins": image_origins,
        "allowed_images": set(show_images),
        "images_query": urlencode([("images", i) for i in sorted(show_images)]),
    }


LIVE_LISTS = ("agents", "services", "custom_field_labels")


def _names(lists: dict[str, Any]) -> dict[str, Any]:
    """Agents' and services' names for the audit entries' descriptions."""
    return {"assignee": {a.user_id: a.user for a in lists["agents"]},
            "service": {s.pk: s.name for s in lists["services"]}}


def live_context(membership: Membership, ticket: Ticket,
                 show_images: frozenset[int] | set[int] = frozenset(),
                 since: TimelineKey | None = None,
                 lists: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the header, the timeline and the tracking tab need (also the live refresh,
    which passes `since`: the oldest entry the agent has loaded). `lists`: the
    organisation's `LIVE_LISTS` (workspace.org_lists), if the caller read them already."""
    org_id = membership.organization_id
    if lists is None:
        lists = org_lists(org_id, *LIVE_LISTS)
    names = _names(lists)
    tracking = list(AuditEntry.objects.for_org(org_id).filter(ticket=ticket)
                    .select_related("actor_user").order_by("-created_at", "-id")
                    [:TRACKING_LIMIT + 1])
    # The timeline's first page needs the newest audit entries too: the same rows.
    context = timeline_context(
        membership, ticket, names, show_images, since=since,
        newest_audit=tracking if TRACKING_LIMIT >= TIMELINE_PAGE else None)
    more_tracking = len(tracking) > TRACKING_LIMIT
    tracking = tracking[:TRACKING_LIMIT][::-1]
    for entry in tracking:
        entry.description = describe(entry, names)  # type: ignore[attr-defined]
    labels = lists["custom_field_labels"]
    custom_values = [(labels.get(k, k), v) for k, v in sorted(ticket.custom_fields.items())]
    context.update(
        tracking=tracking,
        more_tracking=more_tracking,
        tracking_limit=TRACKING_LIMIT,
        agents=lists["agents"],
        services=lists["services"],
        custom_values=custom_values,
        sla_clocks=ticket_clocks(ticket, timezone.now()),
        tags_text=", ".join(t.name for t in ticket.tags.all()),
    )
    return context


def screen_context(membership: Membership, ticket: Ticket,
                   show_images: frozenset[int] | set[int] = frozenset()) -> dict[str, Any]:
    org_id = membership.organization_id
    lists = org_lists(org_id, *LIVE_LISTS, "finalization_tags")  # one cache read for all
    context = live_context(membership, ticket, show_images, lists=lists)
    used = Message.objects.for_org(org_id).filter(ticket__contact_id=ticket.contact_id) \
        .exclude(channel=None).values("channel_id")
    context.update(
        reply_channels=list(Channel.objects.for_org(org_id).filter(is_active=True)
                            .filter(Q(pk__in=used) | Q(pk=ticket.channel_id)).order_by("name")),
        finalization_tags=lists["finalization_tags"],
        earlier=list(visible_tickets(membership).filter(contact_id=ticket.contact_id)
                     .exclude(pk=ticket.pk).order_by("-created_at")[:10]),
        statuses=Status.choices,
        priorities=Priority.choices,
        categories=category_names(org_id),
        seen=ticket.updated_at.isoformat(),
        composer_closed=_composer_closed(ticket),
        # Surveys follow a resolution: an open ticket spares the query.
        csat=Survey.objects.for_org(org_id).filter(ticket=ticket).first()
        if ticket.status in (Status.RESOLVED, Status.CLOSED) else None,
    )
    return context


def _composer_closed(ticket: Ticket) -> str:
    """Why the origin channel takes no more answers (an evaluated complaint), or ""."""
    if ticket.channel is None or not ticket.channel.is_active:
        return ""
    try:
        return get_connector(ticket.channel.kind).reply_refusal(ticket.channel, ticket.pk)
    except UnknownChannelKind:
        return ""


@agent_required
def ticket_screen(request: HttpRequest, ticket_id: int) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    ticket = load_ticket(request, ticket_id)
    context = screen_context(membership, ticket, allowed_images(request))
    return _with_image_policy(render(request, "workspace/ticket.html", context), context)


@agent_required
def ticket_live(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Header, timeline and tracking again, for the live refresh (the composer is kept);
    `?from=` keeps the older entries the agent loaded."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    ticket = load_ticket(request, ticket_id)
    context = live_context(membership, ticket, allowed_images(request), _key(request, "from"))
    return _with_image_policy(render(request, "workspace/ticket.html#ticket-live", context),
                              context)


@agent_required
def ticket_timeline(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """"Show older messages": the page before `?before=`, with its own "show older"."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    ticket = load_ticket(request, ticket_id)
    before = _key(request, "before")
    if before is None:
        raise Http404
    names = _names(org_lists(membership.organization_id, "agents", "services"))
    context = timeline_context(membership, ticket, names, allowed_images(request),
                               before=before)
    return _with_image_policy(render(request, "workspace/ticket.html#timeline-page", context),
                              context)


def _with_image_policy(response: HttpResponse, context: dict[str, Any]) -> HttpResponse:
    """Remote images the agent allowed load from exactly their origins, on this page only."""
    if context["image_origins"]:
        response._csp_config = csp_with_images(context["image_origins"])  # type: ignore[attr-defined]
    return response


@require_POST
@agent_required
def presence(request: HttpRequest, ticket_id: int) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    if not visible_tickets(membership).filter(pk=ticket_id).exists():
        raise Http404
    if request.POST.get("leave"):
        presence_store.leave(membership.organization_id, ticket_id, membership.user_id)
        return HttpResponse(status=204)
    others = presence_store.beat(membership.organization_id, ticket_id, membership.user_id,
                                 str(request.user))
    return render(request, "workspace/ticket.html#presence", {"others": others})


@agent_required
def attachment(request: HttpRequest, attachment_id: int) -> HttpResponseBase:
    """Files only for agents who may see the attachment's ticket."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    try:
        item = restrict(Attachment.objects.for_org(membership.organization_id), membership,
                        "message__ticket__").get(pk=attachment_id)
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc
    inline = request.GET.get("inline") == "1" and item.content_type in PREVIEW_TYPES
    response = file_response(item.file.name, as_attachment=not inline, filename=item.filename,
                             content_type=item.content_type if inline
                             else "application/octet-stream")
    if response.status_code == 200:
        response["Cache-Control"] = "private, max-age=3600"
    return response


@agent_required
def original_mail(request: HttpRequest, message_id: int) -> HttpResponseBase:
    """The .eml as received, for agents who may see the message's ticket only."""
    membership: Membership = request.membership  # type: ignore[attr-defined]
    org_id = membership.organization_id
    is_mail = restrict(Message.objects.for_org(org_id), membership, "ticket__").filter(
        pk=message_id, direction=Direction.INBOUND, channel__kind="email").exists()
    payload = raw_mail_names(org_id, [message_id]).get(message_id) if is_mail else None
    return raw_mail_download(org_id, payload, f"message-{message_id}.eml")
