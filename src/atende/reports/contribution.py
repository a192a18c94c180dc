"""What one ticket adds to the daily cells, computed from its current row, its status
changes and its agents' answers. A pure function of the stored facts: whatever order the
events came in, and however often a ticket was reopened, the result is the same.

Definitions (docs/reports.md):
- opened: the day the ticket was created; resolved / reopened: each move out of / back
  into new, open or pending; backlog: opened + reopened - resolved, summed over days.
- first response: creation to the first public answer, on the day of the answer, for the
  agent who wrote it.
- resolution time: creation to the current resolution, on its day (a ticket counts once,
  as it stands now); handling time: the part of that spent "open" (not waiting in the queue
  as new, nor on the customer as pending).
- messages sent: public answers, per author.
- SLA: a clock met on the day it was met, breached on the day it was missed.
Every figure goes to the ticket's current service and channel; the total cell and the
category and finalization-tag cells too; the agent cell of the current assignee, except
first responses and messages, which go to their author.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from atende.reports import histogram
from atende.reports.models import Dimension

UNRESOLVED = frozenset({"new", "open", "pending"})
SOLVED = frozenset({"resolved", "closed"})

# A cell: (day ISO, service id, channel id, dimension, key).
Cell = tuple[str, int, int, str, str]
Deltas = dict[str, Any]  # counter -> int, histogram name -> {bucket: count}


@dataclass(frozen=True)
class TicketFacts:
    created_at: datetime
    status: str
    service_id: int | None
    channel_id: int | None
    assignee_id: int | None
    category: str
    finalization_tag_id: int | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    # (when, before, after) of every status change, in any order.
    status_changes: Sequence[tuple[datetime, str, str]]
    # (when, author user id) of every public answer by an agent, in any order.
    answers: Sequence[tuple[datetime, int]]


def _seconds(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


class _Builder:
    def __init__(self, facts: TicketFacts, day_of: Callable[[datetime], date]) -> None:
        self.facts = facts
        self.day_of = day_of
        self.cells: dict[Cell, Deltas] = {}

    def add(self, when: datetime, agent_id: int | None, counters: dict[str, int],
            histograms: dict[str, float] | None = None) -> None:
        f = self.facts
        day = self.day_of(when).isoformat()
        base = (day, f.service_id or 0, f.channel_id or 0)
        for dimension, key in (
                (Dimension.TOTAL, ""), (Dimension.AGENT, str(agent_id or "")),
                (Dimension.CATEGORY, f.category),
                (Dimension.TAG, str(f.finalization_tag_id or ""))):
            deltas = self.cells.setdefault((*base, str(dimension), key), {})
            for name, value in counters.items():
                deltas[name] = deltas.get(name, 0) + value
            for name, seconds in (histograms or {}).items():
                hist = deltas.setdefault(name, {})
                index = str(histogram.bucket(seconds))
                hist[index] = hist.get(index, 0) + 1


def _open_seconds(facts: TicketFacts, changes: list[tuple[datetime, str, str]],
                  until: datetime) -> int:
    """Time spent in "open" between creation and `until`, from the status changes."""
    status = changes[0][1] if changes else facts.status
    since = facts.created_at
    total = 0
    for when, _before, after in changes:
        if when > until:
            break
        if status == "open":
            total += _seconds(since, when)
        status, since = after, when
    if status == "open" and until > since:
        total += _seconds(since, until)
    return total


def contribution(facts: TicketFacts, day_of: Callable[[datetime], date]) -> dict[Cell, Deltas]:
    """The ticket's deltas per cell."""
    build = _Builder(facts, day_of)
    changes = sorted(facts.status_changes, key=lambda c: c[0])
    initial = changes[0][1] if changes else facts.status
    opened_unresolved = initial in UNRESOLVED
    build.add(facts.created_at, facts.assignee_id,
              {"opened": 1, "backlog_delta": 1 if opened_unresolved else 0})
    unresolved = opened_unresolved
    for when, _before, after in changes:
        now_unresolved = after in UNRESOLVED
        if unresolved and not now_unresolved:
            build.add(when, facts.assignee_id, {"resolved": 1, "backlog_delta": -1})
        elif not unresolved and now_unresolved:
            build.add(when, facts.assignee_id, {"reopened": 1, "backlog_delta": 1})
        unresolved = now_unresolved

    answers = sorted(facts.answers)
    for when, author in answers:
        build.add(when, author, {"messages_sent": 1})
    if facts.first_response_at is not None:
        responder = answers[0][1] if answers else facts.assignee_id
        seconds = _seconds(facts.created_at, facts.first_response_at)
        build.add(facts.first_response_at, responder,
                  {"first_responses": 1, "first_response_seconds": seconds},
                  {"first_response_hist": seconds})

    solved_at = facts.resolved_at if facts.status in SOLVED else None
    if solved_at is not None:
        seconds = _seconds(facts.created_at, solved_at)
        handling = _open_seconds(facts, changes, solved_at)
        build.add(solved_at, facts.assignee_id,
                  {"resolutions": 1, "resolution_seconds": seconds,
                   "handled": 1, "handling_seconds": handling},
                  {"resolution_hist": seconds, "handling_hist": handling})

    _sla(build, facts, solved_at)
    return build.cells


def _sla(build: _Builder, facts: TicketFacts, solved_at: datetime | None) -> None:
    agent = facts.assignee_id
    due = facts.first_response_due_at
    if due is not None:
        answered = facts.first_response_at
        if facts.first_response_breached_at or (answered and answered > due):
            build.add(facts.first_response_breached_at or due, agent, {"sla_first_breached": 1})
        elif answered is not None:
            build.add(answered, agent, {"sla_first_met": 1})
    due = facts.resolution_due_at
    if due is not None or facts.resolution_breached_at is not None:
        if facts.resolution_breached_at or (solved_at and due and solved_at > due):
            build.add(facts.resolution_breached_at or due, agent,  # type: ignore[arg-type]
                      {"sla_resolution_breached": 1})
        elif solved_at is not None:
            build.add(solved_at, agent, {"sla_resolution_met": 1})


def serialise(cells: dict[Cell, Deltas]) -> list[list[Any]]:
    return [[*cell, deltas] for cell, deltas in sorted(cells.items())]


def deserialise(stored: list[list[Any]]) -> dict[Cell, Deltas]:
    return {(row[0], int(row[1]), int(row[2]), row[3], row[4]): row[5] for row in stored}


def difference(old: dict[Cell, Deltas], new: dict[Cell, Deltas]) -> dict[Cell, Deltas]:
    """new - old, per cell, leaving out what did not change."""
    result: dict[Cell, Deltas] = {}
    for cell in old.keys() | new.keys():
        before, after = old.get(cell, {}), new.get(cell, {})
        deltas: Deltas = {}
        for name in before.keys() | after.keys():
            a, b = after.get(name, 0 if not name.endswith("_hist") else {}), \
                before.get(name, 0 if not name.endswith("_hist") else {})
            if isinstance(a, dict):
                merged = {k: a.get(k, 0) - b.get(k, 0) for k in a.keys() | b.keys()}
                merged = {k: v for k, v in merged.items() if v}
                if merged:
                    deltas[name] = merged
            elif a - b:
                deltas[name] = a - b
        if deltas:
            result[cell] = deltas
    return result


def accumulate(into: dict[Cell, Deltas], more: dict[Cell, Deltas]) -> None:
    for cell, deltas in more.items():
        target = into.setdefault(cell, {})
        for name, value in deltas.items():
            if isinstance(value, dict):
                hist = target.setdefault(name, {})
                for k, v in value.items():
                    hist[k] = hist.get(k, 0) + v
            else:
                target[name] = target.get(name, 0) + value
