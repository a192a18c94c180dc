"""One queue row as HTML, written out in Python: the queue's hottest markup (50 rows a page,
again on every live update).

Through the template engine a row was ~25 variable nodes, an `{% if %}` per optional cell
and a `{% for %}` over its tags: a large share of the queue page's CPU time (see
docs/benchmarks-history.md, "the `screens` pass"). Here it is one `str.format` with every value
escaped exactly as the template's autoescape did (`html.escape`, quotes included), so the
page is byte for byte what `{% partial queue-row %}` printed.
"""

from __future__ import annotations

from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from atende.workspace.queue_rows import QueueRow

# The markup of a row (was `{% partialdef queue-row %}` in workspace/queue.html). Every
# {field} is escaped text; {snippet}, {tags}, {assignee}, {waiting} and {sla} are the
# optional cells' markup built below.
ROW = """
      <tr class="ticket-row priority-{priority}" id="ticket-row-{pk}"
          data-ticket-id="{pk}" data-href="{href}" data-sort="{sort_key}">
        <td><span class="badge channel-{origin}">{channel_label}</span></td>
        <td><a class="protocol" href="{href}">{protocol}</a></td>
        <td>{contact}</td>
        <td class="subject"><a href="{href}">{subject}</a>
          {snippet}
          {tags}</td>
        <td>{service}</td>
        <td>{assignee}</td>
        <td><span class="priority priority-{priority}">{priority_label}</span></td>
        <td><span class="status status-{status}">{status_label}</span></td>
        <td>{waiting}</td>
        <td>{sla}</td>
      </tr>
"""
NONE = "—"  # an empty cell


def row_html(row: QueueRow, unassigned: str) -> SafeString:
    """The row's `<tr>`; `unassigned` is the assignee cell's text when nobody is assigned."""
    sla = row.sla
    return mark_safe(ROW.format(  # noqa: S308 (every value below is escaped)
        pk=row.pk, href=escape(row.href), sort_key=escape(row.sort_key),
        priority=escape(row.priority), origin=escape(row.origin),
        channel_label=escape(row.channel_label), protocol=escape(row.protocol),
        contact=escape(row.contact), subject=escape(row.subject),
        snippet=f'<span class="snippet">{escape(row.snippet)}</span>' if row.snippet else "",
        tags="".join(f'<span class="tag">{escape(tag)}</span>' for tag in row.tags),
        service=escape(row.service) if row.service else NONE,
        assignee=escape(row.assignee) if row.assignee
        else f'<span class="muted">{escape(unassigned)}</span>',
        priority_label=escape(row.priority_label), status=escape(row.status),
        status_label=escape(row.status_label),
        waiting=f'<time datetime="{escape(row.waiting_iso)}">{escape(row.waiting)}</time>'
        if row.waiting_iso else NONE,
        sla=f'<time class="sla sla-{escape(sla.state)}" datetime="{escape(sla.due_iso)}">'
            f'{escape(sla.text)}</time>' if sla else NONE,
    ))


def rows_html(rows: list[QueueRow]) -> list[SafeString]:
    """Every row's `<tr>`, in the active language."""
    unassigned = gettext("Unassigned")
    return [row_html(row, unassigned) for row in rows]
