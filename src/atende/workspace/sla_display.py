"""SLA clocks written for a person: "in 25 min", "overdue 2 h", met, paused (CORE-13).

The queue shows the nearest running clock of each row; the ticket header shows both.
Strings are translated once per page (`SlaText`), not once per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from atende.tickets.models import OPEN_STATUSES, Status, Ticket

# Under this share of its time left, a clock turns amber.
WARNING_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class Clock:
    label: str
    text: str
    state: str  # "ok", "warning", "breached", "met", "met-late", "paused"
    due_iso: str = ""


class SlaText:
    """The page's translated words, looked up once."""

    def __init__(self) -> None:
        self.due_in = _("in %(time)s")
        self.overdue = _("overdue %(time)s")
        self.units = (_("%(n)d min"), _("%(n)d h"), _("%(n)d d"))

    def duration(self, delta: timedelta) -> str:
        minutes = max(1, int(abs(delta.total_seconds()) // 60))
        if minutes < 60:
            return self.units[0] % {"n": minutes}
        if minutes < 48 * 60:
            return self.units[1] % {"n": minutes // 60}
        return self.units[2] % {"n": minutes // (24 * 60)}

    def running(self, label: str, due: datetime, start: datetime, now: datetime) -> Clock:
        left = due - now
        iso = localtime(due).isoformat()
        if left <= timedelta(0):
            return Clock(label, self.overdue % {"time": self.duration(left)}, "breached", iso)
        span = due - start
        state = "warning" if span > timedelta(0) and left < span * WARNING_SHARE else "ok"
        return Clock(label, self.due_in % {"time": self.duration(left)}, state, iso)


def queue_clock(ticket: Ticket, words: SlaText, now: datetime) -> Clock | None:
    """The row's nearest running clock (`sla_due_at`), or None."""
    if ticket.sla_due_at is None:
        return None
    return words.running("", ticket.sla_due_at, ticket.created_at, now)


def ticket_clocks(ticket: Ticket, now: datetime) -> list[Clock]:
    """First response and resolution for the ticket header (only the clocks its policy has)."""
    words = SlaText()
    clocks = []
    if ticket.first_response_due_at is not None:
        label = _("First response")
        late = ticket.first_response_breached_at is not None
        if ticket.first_response_at is not None:
            clocks.append(Clock(label, _("met late") if late else _("met"),
                                "met-late" if late else "met"))
        elif ticket.status in OPEN_STATUSES:
            clocks.append(words.running(label, ticket.first_response_due_at,
                                        ticket.created_at, now))
        else:
            clocks.append(Clock(label, _("not answered"), "met-late" if late else "paused"))
    if ticket.resolution_due_at is not None:
        label = _("Resolution")
        late = ticket.resolution_breached_at is not None
        if ticket.status in (Status.RESOLVED, Status.CLOSED):
            clocks.append(Clock(label, _("met late") if late else _("met"),
                                "met-late" if late else "met"))
        elif ticket.status == Status.PENDING:
            clocks.append(Clock(label, _("paused while waiting on the customer"), "paused"))
        else:
            clocks.append(words.running(label, ticket.resolution_due_at,
                                        ticket.created_at, now))
    return clocks
