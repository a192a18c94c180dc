"""The unified queue page and its live partial."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from atende.connectors.models import Channel, ChannelKind
from atende.tenancy.models import Membership, Service
from atende.tickets.models import Priority, Status, Tag
from atende.tickets.queue import COUNT_CAP, QueueFilters, queue_for, view_counts
from atende.workspace.access import agent_required
from atende.workspace.queue_rows import queue_rows

VIEW_LABELS = {
    "mine": _("Mine"),
    "unassigned": _("Unassigned"),
    "open": _("All open"),
    "pending": _("Pending"),
    "resolved": _("Resolved"),
}
SORT_LABELS = {
    "updated": _("Last update"),
    "waiting": _("Longest waiting"),
    "priority": _("Priority"),
    "sla": _("SLA due soonest"),
}


@agent_required
def queue(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    filters = QueueFilters.from_query(request.GET)
    tickets, has_next = queue_for(membership, filters)
    counts = view_counts(membership)
    context = {
        "filters": filters,
        "rows": queue_rows(tickets),
        "unassigned_label": str(_("Unassigned")),  # once, not once per row
        "has_next": has_next,
        "views": [(v, label, counts[v]) for v, label in VIEW_LABELS.items()],
        "current_view_label": VIEW_LABELS[filters.view],
        "count_cap": COUNT_CAP,
    }
    # HTMX (filters) and the live refresh ask for the list only; filters keep their state.
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        return render(request, "workspace/queue.html#queue-live", context)
    org_id = membership.organization_id
    context.update(
        channel_kinds=ChannelKind.choices,
        channels=Channel.objects.for_org(org_id).order_by("name"),
        services=Service.objects.for_org(org_id).filter(is_active=True).order_by("name"),
        agents=Membership.objects.for_org(org_id).filter(is_active=True)
        .select_related("user").order_by("user__name", "user__email"),
        tags=Tag.objects.for_org(org_id).order_by("name"),
        statuses=Status.choices,
        priorities=Priority.choices,
        sorts=SORT_LABELS.items(),
    )
    return render(request, "workspace/queue.html", context)
