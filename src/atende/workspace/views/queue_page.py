"""The unified queue page and its live partial."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from atende.channels.models import ChannelKind
from atende.channels.registry import CONNECTORS
from atende.ids import parse_id
from atende.tenancy.models import Membership
from atende.tickets.models import Priority, Status, Tag
from atende.tickets.queue_query import COUNT_CAP, PAGE_SIZE, QueueFilters, queue_for, view_counts
from atende.workspace.access import agent_required
from atende.workspace.org_lists import org_lists
from atende.workspace.queue_row_html import rows_html
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


# A live update asks for at most this many changed rows at once.
MAX_LIVE_ROWS = PAGE_SIZE


def live_row_ids(raw: str) -> list[int]:
    """`?rows=3,9`: the tickets a live update is about (malformed parts are ignored)."""
    ids = [i for p in raw.split(",")[:MAX_LIVE_ROWS] if (i := parse_id(p)) is not None]
    return list(dict.fromkeys(ids))


@agent_required
def queue(request: HttpRequest) -> HttpResponse:
    membership: Membership = request.membership  # type: ignore[attr-defined]
    filters = QueueFilters.from_query(request.GET)
    counts = view_counts(membership)
    context: dict[str, Any] = {
        "filters": filters,
        "views": [(v, label, counts[v]) for v, label in VIEW_LABELS.items()],
        "count_cap": COUNT_CAP,
        "page_size": PAGE_SIZE,
    }
    live_ids = live_row_ids(request.GET.get("rows", ""))
    if live_ids and request.headers.get("HX-Request"):
        # A live update: the changed rows that still belong in this queue (the browser
        # puts them in place by their sort key), the ones that left it, and the counts.
        tickets, _more = queue_for(membership, filters, only=live_ids)
        found = {t.pk for t in tickets}
        context.update(rows=rows_html(queue_rows(tickets, filters.sort)),
                       gone=[i for i in live_ids if i not in found])
        return render(request, "workspace/queue.html#queue-delta", context)
    tickets, has_next = queue_for(membership, filters)
    context.update(rows=rows_html(queue_rows(tickets, filters.sort)), has_next=has_next,
                   current_view_label=VIEW_LABELS[filters.view])
    # HTMX (filters) and the live refresh ask for the list only; filters keep their state.
    if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
        return render(request, "workspace/queue.html#queue-live", context)
    org_id = membership.organization_id
    context.update(
        # Cached per organisation (workspace.org_lists); tags are not: a ticket update can
        # create one, outside the settings.
        **org_lists(org_id, "channels", "services", "agents"),
        # Only the kinds Atende has a connector for: no filter for a channel that does not
        # exist yet.
        channel_kinds=[(k, label) for k, label in ChannelKind.choices if k in CONNECTORS],
        tags=Tag.objects.for_org(org_id).order_by("name"),
        statuses=Status.choices,
        priorities=Priority.choices,
        sorts=SORT_LABELS.items(),
    )
    return render(request, "workspace/queue.html", context)
