"""The queue's rows, ready to print: labels, links and waiting time worked out in Python once
per page, so the template's row loop only prints plain values.

Rendering was most of the queue page (bench/queue_render.py): per row a `{% url %}`, two
`get_FOO_display` (each rebuilds the translated choices), `truncatechars` and the filter
machinery. See docs/benchmarks-history.md for the figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.urls import reverse
from django.utils.timesince import timesince
from django.utils.timezone import localtime, now
from django.utils.translation import ngettext

from atende.channels.models import ChannelKind
from atende.tickets.models import Priority, Status, Ticket
from atende.workspace.sla_display import Clock, SlaText, queue_clock

SNIPPET_CHARS = 90
CLOSED = frozenset({Status.RESOLVED, Status.CLOSED})


@dataclass(frozen=True, slots=True)
class QueueRow:
    pk: int
    href: str
    protocol: str
    origin: str
    channel_label: str
    contact: str
    subject: str
    snippet: str
    tags: list[str]
    service: str
    assignee: str
    priority: str
    priority_label: str
    status: str
    status_label: str
    waiting_iso: str  # "" once resolved or closed: nothing is waiting
    waiting: str
    sla: Clock | None = None  # the nearest running SLA clock
    # Rows sorted by this string (ascending) are in the page's order: the live update
    # puts a changed row in its place without asking for the whole list.
    sort_key: str = ""


def snippet(text: str | None) -> str:
    """`truncatechars:90` for one line of text (the query already cut it to 91 chars)."""
    text = text or ""
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TOP = 10**19 - 1  # keys are 19-digit numbers; TOP - n reverses an order
PRIORITY_RANK: dict[str, int] = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2}


def _micros(when: datetime) -> int:
    return (when - EPOCH) // timedelta(microseconds=1)


def sort_key(ticket: Ticket, sort: str) -> str:
    """The queue's ORDER BY (tickets.queue.queue_for) as one string that sorts the same."""
    if sort == "waiting":
        return f"{_micros(ticket.waiting_since):019d}|{ticket.pk:019d}"  # type: ignore[attr-defined]
    if sort == "sla":  # soonest due first, tickets without a running clock last
        due = ticket.sla_due_at
        return (f"1|{0:019d}|{ticket.pk:019d}" if due is None
                else f"0|{_micros(due):019d}|{ticket.pk:019d}")
    newest = f"{TOP - _micros(ticket.updated_at):019d}|{TOP - ticket.pk:019d}"
    if sort == "priority":
        return f"{PRIORITY_RANK.get(ticket.priority, 3)}|{newest}"
    return newest


class WaitingWords(dict[str, "WaitingWords.Unit"]):
    """`timesince`'s unit strings ("%(num)d minute(s)", Django's own msgids), each count
    translated once per page: Django's lazy `ngettext` re-resolved the plural on every
    `%`, for every row of the page."""

    class Unit:
        def __init__(self, singular: str, plural: str) -> None:
            self.singular, self.plural = singular, plural
            self.texts: dict[int, str] = {}

        def __mod__(self, params: dict[str, int]) -> str:
            num = params["num"]
            text = self.texts.get(num)
            if text is None:
                text = self.texts[num] = ngettext(self.singular, self.plural, num) % params
            return text

    def __init__(self) -> None:
        super().__init__({name: self.Unit(*UNITS[name]) for name in UNITS})


# Django's timesince strings (django.utils.timesince.TIME_STRINGS): the same msgids, so the
# same translations, looked up through WaitingWords.
UNITS = {
    "year": ("%(num)d year", "%(num)d years"),
    "month": ("%(num)d month", "%(num)d months"),
    "week": ("%(num)d week", "%(num)d weeks"),
    "day": ("%(num)d day", "%(num)d days"),
    "hour": ("%(num)d hour", "%(num)d hours"),
    "minute": ("%(num)d minute", "%(num)d minutes"),
}


def queue_rows(tickets: list[Ticket], sort: str = "updated") -> list[QueueRow]:
    """Rows of `queue_for`'s tickets (contact, assignee and service names and tag names
    attached)."""
    # Labels translated once per page in the active language, not once per row.
    channels = {k: str(label) for k, label in ChannelKind.choices}
    priorities = {k: str(label) for k, label in Priority.choices}
    statuses = {k: str(label) for k, label in Status.choices}
    # One reverse() per page: the ticket URL differs only by its id.
    href = reverse("workspace:ticket", args=[0]).replace("/0/", "/{}/")
    sla_words, waiting_words, at = SlaText(), WaitingWords(), now()
    rows = []
    for t in tickets:
        waiting_since = None if t.status in CLOSED else t.waiting_since  # type: ignore[attr-defined]
        rows.append(QueueRow(
            pk=t.pk, href=href.format(t.pk), protocol=t.protocol, origin=t.origin,
            channel_label=channels.get(t.origin, t.origin),
            contact=t.contact_name or f"#{t.contact_id}",  # type: ignore[attr-defined] # as str(Contact)
            subject=t.subject, snippet=snippet(t.last_message),  # type: ignore[attr-defined]
            tags=t.tag_names,  # type: ignore[attr-defined]
            service=t.service_name or "",  # type: ignore[attr-defined]
            # as str(User): the name, or the e-mail without one
            assignee=(t.assignee_name or t.assignee_email) if t.assignee_id else "",  # type: ignore[attr-defined]
            priority=t.priority, priority_label=priorities.get(t.priority, t.priority),
            status=t.status, status_label=statuses.get(t.status, t.status),
            waiting_iso=localtime(waiting_since).isoformat() if waiting_since else "",
            waiting=timesince(waiting_since, at,
                              time_strings=waiting_words)  # type: ignore[arg-type]
            if waiting_since else "",
            sla=queue_clock(t, sla_words, at),
            sort_key=sort_key(t, sort),
        ))
    return rows
